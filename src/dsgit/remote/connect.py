"""From an environment in ``dsgit.yaml`` to a ready :class:`OpenCloudClient`.

- ``emulator: PATH``: the embedded emulator, in process, persisted in that SQLite file (its folder,
  usually ``.dsgit/``, is created); no key, no rate limits, so the client's limiter is off.
- ``url``: httpx over the network, the key read from the variable named by ``api_key_env``, the
  rate budget sized from ``budget``. Every remote needs a key: Roblox, and a served emulator (which
  accepts any key when started without ``--api-key``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from dsgit.config import CONFIG_FILE, DEFAULT_URL, Environment
from dsgit.errors import ConfigError, Location
from dsgit.remote.budget import RateBudget
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.health import Target
from dsgit.remote.retry import RetryPolicy
from dsgit.yamlio.safe_paths import safe_database_path

__all__ = ["EMBEDDED_BASE_URL", "open_client"]

# The in-process transport ignores the host; this one only shows up in error messages.
EMBEDDED_BASE_URL = "http://embedded-emulator"


def open_client(
    env: Environment,
    *,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> OpenCloudClient:
    """A client for ``env``; close it (or use ``with``) to release connections and the database.

    ``transport`` replaces the network (or the embedded emulator) in tests.
    """
    if env.emulator is not None:
        on_close = None
        if transport is None:
            from dsgit.emulator import Emulator

            if env.emulator_root is None:  # emulator_anywhere: true
                env.emulator.parent.mkdir(parents=True, exist_ok=True)
            else:  # DS106: .dsgit/ or the database is a symlink
                safe_database_path(env.emulator_root, env.emulator)
            emulator = Emulator(db=env.emulator, ccu=None)
            transport = emulator.transport()
            on_close = getattr(emulator, "close", None)
        return OpenCloudClient(
            env.universe_id,
            base_url=EMBEDDED_BASE_URL,
            transport=transport,
            budget=RateBudget.unlimited(),
            retry=retry,
            sleep=sleep,
            on_close=on_close,
        )
    url = env.url or DEFAULT_URL
    key = env.api_key()
    where = Location(CONFIG_FILE, field=f"environments.{env.name}.api_key_env")
    if env.api_key_env is not None and key is None:
        raise ConfigError(
            f"environment {env.name!r} reads its API key from ${env.api_key_env}, "
            "which is unset or empty",
            where,
        )
    if key is None:
        # Open Cloud refuses every request without x-api-key, and so does a served emulator
        # (which, started without --api-key, accepts any key).
        target = "Roblox" if url.rstrip("/") == DEFAULT_URL else url
        raise ConfigError(
            f"environment {env.name!r} talks to {target} but sets no `api_key_env` "
            "(the name of the variable holding the Open Cloud API key; every request needs "
            "one, and a served emulator started without --api-key accepts any)",
            where,
        )
    return OpenCloudClient(
        env.universe_id,
        base_url=url,
        api_key=key,
        transport=transport,
        budget=RateBudget(env.budget),
        retry=retry,
        sleep=sleep,
        target=Target(env.name, env.api_key_env, env.universe_id, has_key=key is not None),
    )
