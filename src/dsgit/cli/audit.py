"""``dsgit audit verify`` / ``audit log`` / ``audit keygen``: the ledger (docs/ledger.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dsgit.cli.context import AppContext, format_option, pass_app
from dsgit.errors import ConfigError, DsgitError
from dsgit.ledger.file import LEDGER_FILE, Ledger
from dsgit.ledger.query import LogFilter, describe, filter_records, parse_time
from dsgit.ledger.signing import PUBLIC_KEYS_DIR, generate_key
from dsgit.ledger.verify import verify_ledger

if TYPE_CHECKING:
    from dsgit.apply.audit import Unrecorded

__all__ = ["COMMANDS", "LedgerInvalid", "audit_group"]


class LedgerInvalid(DsgitError):
    """``audit verify`` found problems (they were already listed)."""

    already_reported = True


@click.group(
    "audit",
    short_help="Verify and query the audit ledger.",
    help="Check and query the audit ledger (audit/ledger.jsonl).",
)
def audit_group() -> None:
    pass


@audit_group.command(
    "verify",
    short_help="Check the ledger's hashes, chain and signatures.",
    help="""Check the ledger: every record intact (hash), chained in order (seq, prev), and
every signature valid against the public keys in audit/keys/; and every apply that left
pre-images or a journal is in the ledger (a killed apply whose plan was not run again).

\b
Exit codes: 0 valid, 1 problems found (each named by line).""",
)
@click.option("--require-signatures", is_flag=True, help="An unsigned record is a problem.")
@click.option(
    "--expect-head",
    metavar="HASH",
    default=None,
    help="A record hash the ledger must still contain (detects records cut off the end).",
)
@format_option("text", "json")
@pass_app
def verify_command(
    app: AppContext, require_signatures: bool, expect_head: str | None, output_format: str
) -> None:
    report = verify_ledger(app.root, require_signatures=require_signatures, expect_head=expect_head)
    unrecorded = _unrecorded(app.root)
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "ok": report.ok and not unrecorded,
                    "records": report.records,
                    "signed": report.signed,
                    "head": report.head,
                    "problems": [{"line": p.line, "message": p.message} for p in report.problems],
                    "unrecorded_applies": [
                        {"apply_id": u.apply_id, "where": u.where} for u in unrecorded
                    ],
                },
                indent=2,
                sort_keys=True,
            )
        )
    else:
        for problem in report.problems:
            click.echo(str(problem))
        for missing in unrecorded:
            click.echo(str(missing))
        found = len(report.problems) + len(unrecorded)
        verdict = "valid" if not found else f"INVALID ({found} problem(s))"
        click.echo(
            f"{LEDGER_FILE}: {report.records} record(s), {report.signed} signed, {verdict}; "
            f"head {report.head}"
        )
    if not report.ok:
        raise LedgerInvalid(f"{LEDGER_FILE} failed verification")
    if unrecorded:
        raise LedgerInvalid(f"{len(unrecorded)} apply(s) missing from {LEDGER_FILE}")


def _unrecorded(root: Path) -> list[Unrecorded]:
    """Applies with pre-images or a journal but no ledger record (a killed, unresumed apply)."""
    from dsgit.apply.audit import unrecorded_applies

    return list(unrecorded_applies(root))


@audit_group.command(
    "log",
    short_help="List ledger records, filtered.",
    help="""List ledger records, oldest first, filtered.

--since and --until take RFC 3339 times, dates or ages (30m, 12h, 7d). --user matches changes
to entries carrying the user id (users metadata, hashed in the ledger) or holding it in the
key, and erasures of that user. Filters combine (all must match).""",
)
@click.option("--store", default=None, help="Only changes to this data store.")
@click.option("--key", default=None, help="Only changes to this key.")
@click.option("--user", "user", type=int, default=None, help="Only records about this user id.")
@click.option("--actor", default=None, help="Only records made by this actor.")
@click.option("--since", default=None, metavar="TIME", help="Only records at or after TIME.")
@click.option("--until", default=None, metavar="TIME", help="Only records at or before TIME.")
@format_option("text", "json")
@pass_app
def log_command(
    app: AppContext,
    store: str | None,
    key: str | None,
    user: int | None,
    actor: str | None,
    since: str | None,
    until: str | None,
    output_format: str,
) -> None:
    where = LogFilter(
        store=store,
        key=key,
        user=user,
        actor=actor,
        since=parse_time(since) if since else None,
        until=parse_time(until) if until else None,
    )
    records = list(filter_records(Ledger(app.root).records(), where))
    if output_format == "json":
        click.echo(json.dumps([record.to_json() for record in records], indent=2, sort_keys=True))
        return
    for record in records:
        click.echo(describe(record))
    if not records:
        click.echo("no matching records")


@audit_group.command(
    "keygen",
    short_help="Make a key pair for signing the ledger.",
    help="""Make an Ed25519 key pair for signing ledger records.

Writes the private key to FILE (keep it out of the repository; give it to apply through
DSGIT_LEDGER_KEY_FILE or the DSGIT_LEDGER_KEY secret) and the public key to
audit/keys/NAME.pub, which verify uses.""",
)
@click.argument("private_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--name",
    default="ledger",
    show_default=True,
    metavar="NAME",
    help="Writes audit/keys/NAME.pub.",
)
@pass_app
def keygen_command(app: AppContext, private_file: Path, name: str) -> None:
    root = app.root
    if private_file.resolve().is_relative_to(root.resolve()):
        raise ConfigError(
            f"{private_file}: keep the private key outside the repository "
            "(anyone with a clone could sign records)"
        )
    public_path = root / PUBLIC_KEYS_DIR / f"{name}.pub"
    if private_file.exists() or public_path.exists():
        existing = private_file if private_file.exists() else public_path
        raise ConfigError(f"{existing} already exists; not overwriting a key")
    signer = generate_key()
    private_file.parent.mkdir(parents=True, exist_ok=True)
    with private_file.open("x", encoding="utf-8") as handle:
        private_file.chmod(0o600)
        handle.write(signer.private_text())
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_text(signer.public_text(), encoding="utf-8")
    click.echo(f"private key: {private_file} (key id {signer.key_id})")
    click.echo(f"public key:  {public_path.relative_to(root)}")


COMMANDS = [audit_group]
