"""``dsgit emulator serve``: run the Open Cloud emulator as an HTTP server;
``dsgit emulator erase-user``: Roblox's automated right-to-erasure deletion, simulated."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from dsgit.emulator import Emulator, FaultSpec
from dsgit.emulator.keys import ENV_VAR, keys_from_env, keys_from_file_text, parse_key_spec
from dsgit.emulator.versions import ENV_VAR as VERSIONS_ENV_VAR
from dsgit.emulator.versions import Versions
from dsgit.errors import ConfigError, Location
from dsgit.model.entry import Address, StoreKind

__all__ = ["COMMANDS", "collect_api_keys", "emulator"]


@click.group(
    short_help="Run the local Open Cloud emulator.",
    help="The local Open Cloud emulator (docs/emulator.md).",
)
def emulator() -> None:
    pass


def collect_api_keys(
    specs: tuple[str, ...], keys_file: Path | None
) -> dict[str, frozenset[str]] | None:
    """Keys from ``$DSGIT_EMULATOR_API_KEYS``, then the keys file, then ``--api-key`` flags."""
    keys: dict[str, frozenset[str]] = {}
    env_text = os.environ.get(ENV_VAR, "")
    if env_text.strip():
        try:
            keys.update(keys_from_env(env_text))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if keys_file is not None:
        try:
            text = keys_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror}", Location(str(keys_file))) from None
        keys.update(keys_from_file_text(text, str(keys_file)))
    for index, spec in enumerate(specs, start=1):
        try:
            key, scopes = parse_key_spec(spec, f"--api-key #{index}")
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--api-key") from None
        keys[key] = scopes
    return keys or None


def _loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_until_stopped(emu: Emulator, host: str, port: int, stop: threading.Event) -> str:
    """Serve ``emu`` until ``stop`` is set; returns the URL it served on."""
    try:
        with emu.serve(host=host, port=port) as server:
            click.echo(f"dsgit emulator listening on {server.url}")
            while not stop.wait(0.5):
                pass
            return server.url
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@emulator.command("serve", short_help="Serve the emulator over HTTP.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=int,
    default=0,
    show_default=True,
    help="Port to listen on (0: any free port; the URL is printed).",
)
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file holding the state (created if missing). Default: in memory.",
)
@click.option(
    "--ccu",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Concurrent users the rate budgets are sized for (300 + k x CCU a minute).",
)
@click.option("--no-rate-limits", is_flag=True, help="Serve without any rate limit.")
@click.option(
    "--faults",
    "faults",
    default=None,
    metavar="SPEC",
    help="Fault injection, e.g. error=0.05,burst429=10@0.01,latency=80ms,lost=0.02.",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    metavar="KEY[:SCOPES]",
    help="Accept only this x-api-key; KEY alone grants every scope, KEY:S1,S2 only those. "
    f"Repeatable. Also read from ${ENV_VAR}.",
)
@click.option(
    "--versions",
    type=click.Choice([v.value for v in Versions], case_sensitive=False),
    default=Versions.HOURLY.value,
    envvar=VERSIONS_ENV_VAR,
    show_default=True,
    help="hourly: keep versions as Roblox does (the first write to a key in each UTC hour; a "
    "snapshot makes the next write keep one). all: keep every write (tests that count "
    f"writes). Also read from ${VERSIONS_ENV_VAR}.",
)
@click.option(
    "--api-keys-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help='JSON file {"KEY": ["scope", ...]} of accepted keys.',
)
def serve(
    host: str,
    port: int,
    db: Path | None,
    ccu: int,
    no_rate_limits: bool,
    faults: str | None,
    api_keys: tuple[str, ...],
    api_keys_file: Path | None,
    versions: str,
) -> None:
    """Serve Open Cloud data stores, ordered data stores and configs over HTTP.

    Runs until Ctrl-C or SIGTERM. Rate limits are on (Roblox's budgets at --ccu players) unless
    --no-rate-limits. As Roblox, every request must carry an x-api-key header; without
    --api-key any key passes.
    """
    try:
        spec = FaultSpec.parse(faults) if faults else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    keys = collect_api_keys(api_keys, api_keys_file)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    emu = Emulator(
        db=db if db is not None else ":memory:",
        ccu=None if no_rate_limits else ccu,
        faults=spec,
        api_keys=keys,
        versions=versions.lower(),
    )
    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        limits = "off" if no_rate_limits else f"on (ccu {ccu})"
        auth = "any x-api-key" if keys is None else f"{len(keys)} key(s)"
        click.echo(
            f"state: {db if db is not None else 'in memory'}; rate limits: {limits}; "
            f"auth: {auth}; versions: {versions.lower()}; faults: {faults or 'none'}"
        )
        if keys is None and not _loopback(host):
            click.echo(
                f"warning: listening on {host} with no --api-key: anyone who can reach this "
                "address can read and write its data stores (pass --api-key or "
                "--api-keys-file, or serve on 127.0.0.1)",
                err=True,
            )
        serve_until_stopped(emu, host, port, stop)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emu.close()


@emulator.command(
    "erase-user", short_help="Delete what the published erasure templates name for a user."
)
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The emulator's SQLite file (an environment's `emulator:` path, or serve's --db).",
)
@click.option("--universe", type=click.IntRange(min=1), required=True, help="Universe id.")
@click.option("--user", "user", type=click.IntRange(min=1), required=True, help="User id.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def erase_user_command(db: Path, universe: int, user: int, output_format: str) -> None:
    """Do what Roblox does with a right-to-erasure request: delete, for USER, the keys of the
    key templates and every entry of the stores of the data store templates published in the
    universe's DataStoresConfig `user_data_templates` (docs/emulator.md). Emulator only."""
    with Emulator(db=db) as emu:
        done = emu.erase_user(universe, user)
    if output_format == "json":
        click.echo(json.dumps(done.to_json(), indent=2, ensure_ascii=False))
        return
    for kind, store, scope, key in done.deleted:
        address = Address(StoreKind(kind.lower()), store, scope, key)
        click.echo(f"deleted  {address}")
    skipped = f", {done.skipped} skipped (not a template Roblox runs)" if done.skipped else ""
    click.echo(
        f"{len(done.deleted)} entr{'y' if len(done.deleted) == 1 else 'ies'} deleted by "
        f"{done.templates} template(s) of DataStoresConfig in universe {universe}{skipped}."
    )


COMMANDS = [emulator]
