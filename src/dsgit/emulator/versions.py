"""Which writes the emulator keeps as versions: Roblox's hourly rule, or every write.

Roblox keeps a versioned backup of the **first write to a key in each UTC hour**; later writes
in that hour overwrite it, so between two hours only the last value of each hour survives. After
a snapshot (``data-stores:snapshot``) the next write to every key keeps a new version, so the
value from before the snapshot stays readable. ``all`` keeps every write as its own version
(what tests and tools that count writes by revisions want).

An overwritten version keeps its place in the key's history (its revision count) but gets a new
``revisionId`` and ``etag`` and the time of the write: the old id no longer answers, as on Roblox,
and optimistic concurrency on etags still sees every write.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum

from dsgit.emulator.clock import TICKS_PER_SECOND
from dsgit.errors import ConfigError

__all__ = ["ENV_VAR", "HOUR", "Versions", "keeps_new_version", "versions_from_env"]

ENV_VAR = "DSGIT_EMULATOR_VERSIONS"
"""``hourly`` (default) or ``all``: what an :class:`Emulator` created without ``versions`` keeps
(the embedded emulator of a ``dsgit.yaml`` environment), and the default of
``dsgit emulator serve --versions``."""

HOUR = 3600 * TICKS_PER_SECOND


class Versions(StrEnum):
    """The emulator's version retention."""

    HOURLY = "hourly"  # as Roblox: one version per key per UTC hour, and after each snapshot
    ALL = "all"  # every write is a version


def keeps_new_version(
    versions: Versions, latest_time: int, write_time: int, snapshot_time: int | None
) -> bool:
    """Whether a write at ``write_time`` keeps a new version, or overwrites the latest one
    (written at ``latest_time``); ``snapshot_time``: the universe's latest snapshot, if any."""
    if versions is Versions.ALL:
        return True
    if latest_time // HOUR != write_time // HOUR:
        return True
    return snapshot_time is not None and snapshot_time >= latest_time


def versions_from_env(environ: Mapping[str, str] | None = None) -> Versions:
    """``$DSGIT_EMULATOR_VERSIONS`` (``hourly`` when unset); ``ConfigError`` on anything else."""
    text = (os.environ if environ is None else environ).get(ENV_VAR, "").strip().lower()
    if not text:
        return Versions.HOURLY
    try:
        return Versions(text)
    except ValueError:
        raise ConfigError(f"${ENV_VAR} must be hourly or all, not {text[:40]!r}") from None
