"""``dsgit audit verify|log|migrate|keygen``: the ledger (docs/ledger.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dsgit.cli.complete import complete_apply_ids
from dsgit.cli.context import AppContext, format_option, pass_app
from dsgit.errors import ConfigError, DsgitError
from dsgit.ledger.canonical import ZERO_DIGEST
from dsgit.ledger.file import Ledger
from dsgit.ledger.head import ChainHead, UniverseHead
from dsgit.ledger.migrate import migrate_ledger
from dsgit.ledger.query import LogFilter, describe, diff_text, filter_records, parse_time
from dsgit.ledger.records import ChangeRecord, LedgerRecord
from dsgit.ledger.signing import PUBLIC_KEYS_DIR, generate_key
from dsgit.ledger.verify import VerifyReport, verify_ledger
from dsgit.render.words import plural

if TYPE_CHECKING:
    from dsgit.apply.audit import Unrecorded

__all__ = ["COMMANDS", "LedgerInvalid", "audit_group"]


class LedgerInvalid(DsgitError):
    """``audit verify`` found problems (they were already listed)."""

    already_reported = True


@click.group(
    "audit",
    short_help="Verify, query and migrate the audit ledger.",
    help="Check and query the audit ledger (audit/ledger/<environment>/*.jsonl).",
)
def audit_group() -> None:
    pass


@audit_group.command(
    "verify",
    short_help="Check the ledger's hashes, chains and signatures.",
    help="""Check the ledger: every record intact (hash), each environment's records one linear
chain (seq, prev) across its files, and every signature valid against the public keys in
audit/keys/; and every apply that left pre-images or a journal is in the ledger (a
killed apply whose plan was not run again).

A record that the chain holds but this checkout lacks (an apply on a branch not merged yet, or
a deleted line) is reported as missing, apart from edited, reordered or forked records.
--against ENV also reads the chain head ENV's universe holds: records cut off the end, and a
chain that is not the one the universe extended, show up only then.

\b
Exit codes: 0 valid, 1 problems found (each named by file and line) or records
missing (0 with --allow-missing when nothing else is wrong).""",
)
@click.option(
    "-e",
    "--env",
    "env_name",
    default=None,
    metavar="ENV",
    help="Check only this environment's chain (and the archived ledger).",
)
@click.option(
    "--against",
    "against",
    default=None,
    metavar="ENV",
    help="Compare ENV's chain with the head its universe holds (reads live state).",
)
@click.option("--require-signatures", is_flag=True, help="An unsigned record is a problem.")
@click.option(
    "--allow-missing",
    is_flag=True,
    help="Records absent from this checkout are reported but do not fail verification.",
)
@click.option(
    "--expect-head",
    metavar="HASH",
    default=None,
    help="A record hash the ledger must still contain (detects records cut off the end).",
)
@format_option("text", "json")
@pass_app
def verify_command(
    app: AppContext,
    env_name: str | None,
    against: str | None,
    require_signatures: bool,
    allow_missing: bool,
    expect_head: str | None,
    output_format: str,
) -> None:
    if env_name is not None and against is not None and env_name != against:
        raise click.UsageError("--env and --against name different environments")
    live: ChainHead | None = None
    environment = against or env_name
    if env_name is not None:
        _known_environment(app, env_name)
    if against is not None:
        from dsgit.remote.connect import open_client

        env = app.environment(against)
        with open_client(env) as api:
            live, _ = UniverseHead(api, env.name).read()
    report = verify_ledger(
        app.root,
        require_signatures=require_signatures,
        expect_head=expect_head,
        environment=environment,
        live_head=live,
    )
    unrecorded = _unrecorded(app.root)
    failed = not report.intact or bool(unrecorded) or (bool(report.missing) and not allow_missing)
    if output_format == "json":
        body = _report_json(report, failed)
        body["unrecorded_applies"] = [
            {"apply_id": u.apply_id, "where": u.where} for u in unrecorded
        ]
        click.echo(json.dumps(body, indent=2, sort_keys=True))
    else:
        click.echo(_report_text(report, against, live, failed, unrecorded))
    if failed:
        raise LedgerInvalid("the ledger failed verification")


def _known_environment(app: AppContext, name: str) -> None:
    """A name in dsgit.yaml, or one with a chain here (an environment since removed); else the
    unknown-environment error, so a misspelt ``-e`` is not reported as a valid, empty chain."""
    from dsgit.ledger.layout import environments

    if name not in environments(app.root):
        app.environment(name)


def _unrecorded(root: Path) -> list[Unrecorded]:
    """Applies with pre-images or a journal but no ledger record (a killed, unresumed apply)."""
    from dsgit.apply.audit import unrecorded_applies

    return list(unrecorded_applies(root))


def _report_json(report: VerifyReport, failed: bool) -> dict[str, object]:
    return {
        "ok": not failed,
        "intact": report.intact,
        "records": report.records,
        "signed": report.signed,
        # the head of the one chain checked (-e, or the only one); with several, see `chains`
        "head": report.head if len(report.chains) == 1 or report.head != ZERO_DIGEST else None,
        "unmigrated": report.unmigrated,
        "chains": [chain.to_json() for chain in report.chains],
        "missing": [gap.to_json() for gap in report.missing],
        "problems": [problem.to_json() for problem in report.problems],
    }


def _report_text(
    report: VerifyReport,
    against: str | None,
    live: ChainHead | None,
    failed: bool,
    unrecorded: list[Unrecorded],
) -> str:
    lines = [str(problem) for problem in report.problems]
    lines.extend(str(gap) for gap in report.missing)
    lines.extend(str(missing) for missing in unrecorded)
    if not report.chains:
        lines.append("no ledger records yet")
    for chain in report.chains:
        span = f"seq {chain.first}-{chain.last}" if chain.records else "no records"
        merged = f", {chain.branches} branches merged by git" if chain.branches > 1 else ""
        lines.append(
            f"{chain.where}: {chain.records} record(s) ({span}{merged}), {chain.signed} signed; "
            f"head {chain.head}"
        )
    if against is not None:
        if live is None:
            lines.append(f"{against}: its universe holds no ledger head yet")
        else:
            lines.append(f"{against}: the universe's head is seq {live.seq}, {live.hash}")
    if report.unmigrated:
        lines.append(
            "audit/ledger.jsonl is the single-file ledger of an earlier release: run "
            "`dsgit audit migrate` before the next apply"
        )
    if not report.intact or unrecorded:
        found = len(report.problems) + len(unrecorded)
        lines.append(f"INVALID: {plural(found, 'problem')}")
    elif report.missing:
        count = sum(gap.last - gap.first + 1 for gap in report.missing)
        verdict = "INCOMPLETE" if failed else "incomplete (allowed)"
        lines.append(f"{verdict}: {count} record(s) missing from this checkout, none tampered")
    else:
        lines.append("valid: every chain is intact and linear")
    return "\n".join(lines)


@audit_group.command(
    "redact",
    short_help="Finish the ledger redactions erasure records list.",
    help="""Finish the redactions of earlier ledger records that erasure records list.

Applying an erasure plan appends its erasure record, which lists the earlier records holding
the user, then rewrites those records with their fields redacted (docs/ledger.md,
"Redaction"). A crash between the two leaves records that `dsgit audit verify` reports as
`unredacted`; this rewrites them (rerunning the erasure's apply does too). Idempotent.

\b
Exit codes: 0 done (or nothing to do), 1 error.""",
)
@format_option("text", "json")
@pass_app
def redact_command(app: AppContext, output_format: str) -> None:
    from dsgit.ledger.redactions import complete

    changed = complete(app.root)
    if output_format == "json":
        click.echo(json.dumps({"redacted": changed}, indent=2, sort_keys=True))
    elif changed:
        click.echo(f"{changed} ledger record(s) redacted; commit audit/ledger/.")
    else:
        click.echo("nothing to redact: every redaction the erasure records list is done")


@audit_group.command(
    "migrate",
    short_help="Move a single-file ledger to per-environment chains.",
    help="""Migrate audit/ledger.jsonl (the single-file ledger of earlier releases) to the layout
that merges: it is verified and, only if it verifies, renamed unchanged to
audit/ledger-v1.jsonl, the common start of every environment's chain. New applies write
audit/ledger/<environment>/<apply id>.jsonl. Nothing changes when the ledger does not verify.

\b
Exit codes: 0 migrated (or nothing to migrate), 1 the ledger does not verify.""",
)
@format_option("text", "json")
@pass_app
def migrate_command(app: AppContext, output_format: str) -> None:
    result = migrate_ledger(app.root)
    if output_format == "json":
        body = {
            "moved": result.moved,
            "records": result.records,
            "head": result.head,
            "message": result.message,
        }
        click.echo(json.dumps(body, indent=2, sort_keys=True))
    else:
        click.echo(result.message)


@audit_group.command(
    "log",
    short_help="List ledger records (who, what, why), filtered.",
    help="""List ledger records, oldest first, filtered: who (the actor), what (plan kind, source
commit and dirty flag, each change with its old and new value digests) and why (the
suppressions the plan carried, with their codes and reasons).

--verbose adds each change's diff as the plan showed it; sensitive paths stay masked, so no
sensitive value is ever shown. --since and --until take RFC 3339 times, dates or ages (30m,
12h, 7d). --user matches changes to entries carrying the user id (users metadata, hashed in
the ledger) or holding it in the key, and erasures of that user. Filters combine (all must
match). --format json prints the records as stored (diffs only with --verbose).""",
)
@click.option("-e", "--env", "env_name", default=None, metavar="ENV", help="Only this environment.")
@click.option(
    "--apply",
    "apply_id",
    default=None,
    metavar="ID",
    shell_complete=complete_apply_ids,
    help="Only this apply's records (its id or a unique prefix of it).",
)
@click.option("--store", default=None, help="Only changes to this data store.")
@click.option("--key", default=None, help="Only changes to this key.")
@click.option("--user", "user", type=int, default=None, help="Only records about this user id.")
@click.option("--actor", default=None, help="Only records made by this actor.")
@click.option("--since", default=None, metavar="TIME", help="Only records at or after TIME.")
@click.option("--until", default=None, metavar="TIME", help="Only records at or before TIME.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Show each change's diff (never sensitive values)."
)
@format_option("text", "json")
@pass_app
def log_command(
    app: AppContext,
    env_name: str | None,
    apply_id: str | None,
    store: str | None,
    key: str | None,
    user: int | None,
    actor: str | None,
    since: str | None,
    until: str | None,
    verbose: bool,
    output_format: str,
) -> None:
    if apply_id is not None:
        from dsgit.undo.revert import find_apply

        apply_id = find_apply(app.root, apply_id).apply_id
    where = LogFilter(
        store=store,
        key=key,
        user=user,
        actor=actor,
        since=parse_time(since) if since else None,
        until=parse_time(until) if until else None,
        environment=env_name,
        apply_id=apply_id,
        erasure_user=_erasure_user(app.root, user),
    )
    records = list(filter_records(Ledger(app.root).records(), where))
    if output_format == "json":
        shown = [_record_json(record, verbose=verbose) for record in records]
        click.echo(json.dumps(shown, indent=2, sort_keys=True))
        return
    for record in records:
        click.echo(describe(record))
        if verbose and isinstance(record.body, ChangeRecord):
            for line in diff_text(record.body):
                click.echo(f"    {line}")
    if not records:
        click.echo("no matching records")


def _record_json(record: LedgerRecord, *, verbose: bool) -> dict[str, object]:
    data = record.to_json()
    if not verbose and "diff" in data:
        data = {k: v for k, v in data.items() if k != "diff"}
    return data


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


def _erasure_user(root: Path, user: int | None) -> str | None:
    """The user's hash in erasure records (salted per repository; None without a salt)."""
    from dsgit.erasure.proof import hashed_user, repository_salt

    salt = repository_salt(root, create=False) if user is not None else ""
    return hashed_user(salt, user) if salt and user is not None else None
