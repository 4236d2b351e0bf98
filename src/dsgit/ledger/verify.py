"""Check the ledger (``audit verify``): every record intact, one linear chain per environment.

Per environment, the records of every file of ``audit/ledger/<env>/`` are put in ``seq`` order
after the archived single-file ledger (if any), and:

- a record whose content no longer matches its ``hash`` was **edited** (tampered);
- a record whose ``prev`` is not the ``hash`` of the record before it breaks the chain: the
  record before it was rewritten (hash recomputed), or records were inserted or reordered;
- two records at one ``seq`` are a **fork**: two appends extended the same record;
- lines out of ``seq`` order inside one file were **reordered**;
- a signature must verify with a public key of ``audit/keys/``;
- a ``seq`` with no record in this checkout is **missing**: present in the chain (records after
  it follow it), absent here — a branch not merged yet, or a deleted record. It is reported
  apart from tampering, because git merges bring such records in.

Cutting records off the end of a chain is visible only against a known head: the universe's
(``live_head``, ``audit verify --against ENV``) or one given (``expect_head``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dsgit.errors import ConfigError, LedgerError
from dsgit.ledger.canonical import ZERO_DIGEST, canonical_json, sha256_digest
from dsgit.ledger.file import Located, record_hash
from dsgit.ledger.head import ChainHead
from dsgit.ledger.layout import (
    ARCHIVE_FILE,
    CHAINS_DIR,
    LEGACY_FILE,
    chain_dir,
    chain_files,
    environments,
    relative,
)
from dsgit.ledger.reading import file_lines
from dsgit.ledger.records import ApplyRecord, ApprovalRecord, record_from_json
from dsgit.ledger.redactions import check as check_redactions
from dsgit.ledger.signing import load_public_keys, verify_signature

__all__ = [
    "ChainReport",
    "Gap",
    "Problem",
    "SingleFile",
    "VerifyReport",
    "archive_base",
    "join_digest",
    "verify_ledger",
    "verify_single_file",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong, at a 1-based line of a file (line 0: the file or chain as a whole).

    ``kind``: ``edited``, ``broken``, ``fork``, ``reordered``, ``malformed``, ``signature``,
    ``unsigned``, ``diverged``, ``truncated``, ``layout``, ``redaction`` (a record marked
    redacted that no erasure record lists) or ``unredacted`` (a listed redaction not done).
    """

    file: str
    line: int
    message: str
    kind: str = "broken"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class Gap:
    """Records ``first``..``last`` of a chain that this checkout lacks (not tampering).

    ``applies`` names the applies that wrote them when the universe's head lists them.
    """

    chain: str
    first: int
    last: int
    applies: tuple[str, ...] = ()

    def __str__(self) -> str:
        span = f"seq {self.first}" if self.first == self.last else f"seq {self.first}-{self.last}"
        count = self.last - self.first + 1
        which = f" (apply {', '.join(self.applies)})" if self.applies else ""
        return (
            f"{CHAINS_DIR}/{self.chain}: missing {count} record(s), {span}{which}: present in the "
            "chain but not in this checkout (merge the branch that applied them, or restore "
            "deleted lines from git)"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "chain": self.chain,
            "first": self.first,
            "last": self.last,
            "applies": list(self.applies),
        }


@dataclass(frozen=True)
class ChainReport:
    """One chain: an environment's, or ``legacy`` for the single-file ledger."""

    name: str
    where: str
    records: int
    signed: int
    first: int  # seq of the first record (-1: none)
    last: int  # seq of the last record known (-1: none)
    head: str  # hash of record ``last`` (ZERO_DIGEST: none; a join digest for merged branches)
    live_head: str | None = None  # the universe's head, when checked against it
    branches: int = 1  # of a single-file ledger that git merged branches into

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "where": self.where,
            "records": self.records,
            "signed": self.signed,
            "first": self.first,
            "last": self.last,
            "head": self.head,
            "live_head": self.live_head,
            "branches": self.branches,
        }


@dataclass(frozen=True)
class VerifyReport:
    """What ``audit verify`` found. ``ok``: nothing wrong and nothing missing."""

    records: int
    signed: int
    head: str  # of the one chain checked (the environment's, or the only one); else ZERO
    problems: tuple[Problem, ...]
    missing: tuple[Gap, ...] = ()
    chains: tuple[ChainReport, ...] = field(default=())
    unmigrated: bool = False  # audit/ledger.jsonl is still the live single-file ledger

    @property
    def intact(self) -> bool:
        """No record was edited, rewritten, reordered or forked (some may be missing)."""
        return not self.problems

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing


def verify_ledger(
    root: Path,
    *,
    require_signatures: bool = False,
    expect_head: str | None = None,
    environment: str | None = None,
    live_head: ChainHead | None = None,
) -> VerifyReport:
    """Verify the archived ledger and every environment's chain (or only ``environment``'s).

    ``live_head`` is the universe's head of ``environment`` (``--against``): records up to it
    must be here, and the local chain must be the one it names.
    """
    keys = load_public_keys(root)
    problems: list[Problem] = []
    chains: list[ChainReport] = []
    gaps: list[Gap] = []
    all_hashes: set[str] = set()
    records = signed = 0

    base_seq, base_hash = -1, ZERO_DIGEST
    legacy_present = [name for name in (ARCHIVE_FILE, LEGACY_FILE) if (root / name).exists()]
    if len(legacy_present) == 2:
        problems.append(
            Problem(
                LEGACY_FILE,
                0,
                f"both {LEGACY_FILE} and its migrated copy {ARCHIVE_FILE} exist; keep one",
                "layout",
            )
        )
    for name in legacy_present:
        single = verify_single_file(root, name, keys, require_signatures=require_signatures)
        problems.extend(single.problems)
        records += single.records
        signed += single.signed
        all_hashes.update(single.hashes)
        chains.append(
            ChainReport(
                "legacy",
                name,
                single.records,
                single.signed,
                single.first,
                single.last,
                single.head,
                branches=single.branches,
            )
        )
        if name == ARCHIVE_FILE and single.records:
            base_seq, base_hash = single.last, single.head

    names = [environment] if environment is not None else environments(root)
    for name in names:
        report, found, chain_gaps, hashes = _verify_chain(
            root,
            name,
            keys,
            require_signatures=require_signatures,
            base=(base_seq, base_hash),
            live_head=live_head if name == environment else None,
        )
        problems.extend(found)
        gaps.extend(chain_gaps)
        chains.append(report)
        records += report.records
        signed += report.signed
        all_hashes.update(hashes)

    problems.extend(
        Problem(finding.file, finding.line, finding.message, finding.kind)
        for finding in check_redactions(root)
    )
    if expect_head is not None and expect_head not in all_hashes:
        problems.append(
            Problem(
                CHAINS_DIR,
                0,
                f"expected head {expect_head} is missing: records were cut off the end",
                "truncated",
            )
        )
    head = ZERO_DIGEST
    env_chains = [c for c in chains if c.name != "legacy"]
    if environment is not None and env_chains:
        head = env_chains[-1].head
    elif len(env_chains) == 1:
        head = env_chains[0].head
    elif not env_chains and chains:
        head = chains[-1].head
    return VerifyReport(
        records,
        signed,
        head,
        tuple(problems),
        tuple(gaps),
        tuple(chains),
        unmigrated=(root / LEGACY_FILE).exists(),
    )


def _parse(text: str, where: str, number: int) -> Located | Problem:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Problem(where, number, f"not JSON ({exc.msg})", "malformed")
    try:
        return Located(record_from_json(data, file=where, line=number), where, number)
    except ConfigError as exc:
        return Problem(where, number, exc.message, "malformed")


def _check_record(
    item: Located, keys: Mapping[str, Ed25519PublicKey], require_signatures: bool
) -> list[Problem]:
    record = item.record
    found: list[Problem] = []
    # A redacted version 1/2 record keeps the hash of what it held; its erasure record holds
    # the digest of its redacted form instead (checked by `redactions.check`).
    old_redacted = record.version < 3 and record.redacted_by is not None
    if not old_redacted and record_hash(record) != record.hash:
        found.append(
            Problem(
                item.file,
                item.line,
                f"record seq {record.seq} was edited (hash mismatch)",
                "edited",
            )
        )
    if record.signature is not None:
        reason = verify_signature(record.hash, record.signature, keys)
        if reason is not None:
            found.append(Problem(item.file, item.line, reason, "signature"))
    elif require_signatures:
        found.append(
            Problem(item.file, item.line, f"record seq {record.seq} is not signed", "unsigned")
        )
    return found


def _missing_newline(root: Path, where: str) -> Problem | None:
    path = root / where
    with path.open("rb") as handle:
        if handle.seek(0, 2) == 0:
            return None
        handle.seek(-1, 2)
        if handle.read(1) == b"\n":
            return None
    return Problem(
        where,
        0,
        "the last line has no final newline, so nothing can be appended (a write cut short?); "
        "if no other problem is listed, its record is whole: add the newline",
        "malformed",
    )


def join_digest(leaves: Iterable[str]) -> str:
    """What the first record after a single-file ledger follows: its last record's hash, or,
    when git merged branches that each appended to it (several last records), a digest of all
    of them, so the new chain follows every branch."""
    ordered = sorted(set(leaves))
    if not ordered:
        return ZERO_DIGEST
    if len(ordered) == 1:
        return ordered[0]
    return sha256_digest(canonical_json({"join": ordered}))


@dataclass(frozen=True)
class SingleFile:
    """A single-file ledger checked as a tree: ``branches`` last records (1: linear)."""

    records: int
    signed: int
    first: int
    last: int  # the highest seq
    head: str  # join_digest of the last records
    branches: int
    problems: tuple[Problem, ...]
    hashes: frozenset[str]


def verify_single_file(
    root: Path,
    where: str,
    keys: Mapping[str, Ed25519PublicKey] | None = None,
    *,
    require_signatures: bool = False,
) -> SingleFile:
    """Check a single-file ledger of an earlier release.

    Every record must be intact (hash, signature) and follow a record of the file (or start it
    at seq 0), one seq after it. Branches that git merged into the file (two appends after the
    same record, the failure this layout replaced) are kept as they are: each of them is
    intact, and the new chains follow all of them (:func:`join_digest`).
    """
    keys = load_public_keys(root) if keys is None else keys
    problems: list[Problem] = []
    items: list[Located] = []
    signed = 0
    for number, text in file_lines(root / where):
        parsed = _parse(text, where, number)
        if isinstance(parsed, Problem):
            problems.append(parsed)
            continue
        items.append(parsed)
        problems.extend(_check_record(parsed, keys, require_signatures))
        if parsed.record.signature is not None:
            signed += 1
    by_hash: dict[str, Located] = {}
    for item in items:
        if item.record.hash in by_hash:
            problems.append(
                Problem(
                    where,
                    item.line,
                    f"record seq {item.record.seq} appears twice (also line "
                    f"{by_hash[item.record.hash].line})",
                    "fork",
                )
            )
            continue
        by_hash[item.record.hash] = item
    followed: set[str] = set()
    for item in by_hash.values():
        record = item.record
        followed.add(record.prev)
        if record.prev == ZERO_DIGEST:
            parent_seq = -1
        elif record.prev in by_hash:
            parent_seq = by_hash[record.prev].record.seq
        else:
            problems.append(
                Problem(
                    where,
                    item.line,
                    f"record seq {record.seq} follows a record that is not in the file: a "
                    "record was removed, or this one was inserted",
                )
            )
            continue
        if record.seq != parent_seq + 1:
            problems.append(
                Problem(
                    where,
                    item.line,
                    f"record seq {record.seq} does not follow seq {parent_seq} (the record it "
                    "names): records were rewritten",
                )
            )
    if items:
        torn = _missing_newline(root, where)
        if torn is not None:
            problems.append(torn)
    leaves = [h for h in by_hash if h not in followed]
    seqs = [item.record.seq for item in items]
    return SingleFile(
        records=len(items),
        signed=signed,
        first=min(seqs, default=-1),
        last=max(seqs, default=-1),
        head=join_digest(leaves),
        branches=len(leaves),
        problems=tuple(problems),
        hashes=frozenset(by_hash),
    )


def archive_base(root: Path) -> tuple[int, str]:
    """``(seq, hash)`` the first record of a chain follows: after the archived ledger, if any.

    Raises ``LedgerError`` when the archive does not verify (nothing may follow it then).
    """
    if not (root / ARCHIVE_FILE).exists():
        return -1, ZERO_DIGEST
    archive = verify_single_file(root, ARCHIVE_FILE)
    if archive.problems:
        raise LedgerError(
            f"{archive.problems[0]}; the archived ledger must verify before anything follows "
            "it. Nothing was appended; run `dsgit audit verify`"
        )
    return archive.last, archive.head


def _verify_chain(
    root: Path,
    name: str,
    keys: Mapping[str, Ed25519PublicKey],
    *,
    require_signatures: bool,
    base: tuple[int, str],
    live_head: ChainHead | None,
) -> tuple[ChainReport, list[Problem], list[Gap], set[str]]:
    problems: list[Problem] = []
    items: list[Located] = []
    signed = 0
    for path in chain_files(root, name):
        where = relative(root, path)
        previous_seq: int | None = None
        count = 0
        for number, text in file_lines(path):
            parsed = _parse(text, where, number)
            if isinstance(parsed, Problem):
                problems.append(parsed)
                continue
            count += 1
            record = parsed.record
            items.append(parsed)
            problems.extend(_check_record(parsed, keys, require_signatures))
            if record.signature is not None:
                signed += 1
            if record.chain != name:
                problems.append(
                    Problem(
                        where,
                        number,
                        f"record seq {record.seq} belongs to chain {record.chain!r}, not "
                        f"{name!r} (moved between environments?)",
                        "layout",
                    )
                )
            if previous_seq is not None and record.seq <= previous_seq:
                problems.append(
                    Problem(
                        where,
                        number,
                        f"record seq {record.seq} comes after seq {previous_seq} in this file: "
                        "lines were reordered",
                        "reordered",
                    )
                )
            previous_seq = record.seq
        if count:
            torn = _missing_newline(root, where)
            if torn is not None:
                problems.append(torn)

    base_seq, base_hash = base
    by_seq: dict[int, list[Located]] = {}
    for item in items:
        by_seq.setdefault(item.record.seq, []).append(item)
    for seq in sorted(s for s in by_seq if s <= base_seq):
        for item in by_seq.pop(seq):
            problems.append(
                Problem(
                    item.file,
                    item.line,
                    f"record seq {seq} is inside the archived ledger (which ends at seq "
                    f"{base_seq}): not part of this chain",
                    "broken",
                )
            )
    local_top = max(by_seq, default=base_seq)
    top = max(local_top, live_head.seq if live_head is not None else base_seq)
    missing: list[int] = []
    for seq in range(base_seq + 1, top + 1):
        group = by_seq.get(seq)
        if not group:
            missing.append(seq)
            continue
        if len(group) > 1:
            files = ", ".join(f"{item.file}:{item.line}" for item in group)
            problems.append(
                Problem(
                    group[0].file,
                    group[0].line,
                    f"fork: {len(group)} records claim seq {seq} ({files}); two appends "
                    "extended the same record without the universe's head",
                    "fork",
                )
            )
            continue
        item = group[0]
        before = base_hash if seq == base_seq + 1 else _single_hash(by_seq.get(seq - 1))
        if before is not None and item.record.prev != before:
            problems.append(
                Problem(
                    item.file,
                    item.line,
                    f"chain broken at record seq {seq}: it does not follow the record at seq "
                    f"{seq - 1} here (that record was rewritten, or records were inserted or "
                    "reordered)",
                )
            )

    hashes = {item.record.hash for item in items}
    live_text: str | None = None
    if live_head is not None:
        live_text = live_head.hash
        problems.extend(_against_live(name, by_seq, live_head, local_top))
    gaps = _gaps(name, missing, live_head)
    problems.extend(_citations(items, hashes, has_gaps=bool(gaps)))
    last = _single(by_seq.get(top))
    first = min(by_seq, default=-1)
    report = ChainReport(
        name,
        relative(root, chain_dir(root, name)),
        len(items),
        signed,
        first,
        top if items or live_head is not None else -1,
        last.record.hash if last is not None else (base_hash if not items else ZERO_DIGEST),
        live_text,
    )
    return report, problems, gaps, hashes


def _single(group: Sequence[Located] | None) -> Located | None:
    return group[0] if group and len(group) == 1 else None


def _single_hash(group: Sequence[Located] | None) -> str | None:
    item = _single(group)
    return item.record.hash if item is not None else None


def _against_live(
    name: str, by_seq: Mapping[int, Sequence[Located]], live: ChainHead, local_top: int
) -> list[Problem]:
    found: list[Problem] = []
    where = f"{CHAINS_DIR}/{name}"
    at_head = _single(by_seq.get(live.seq))
    if at_head is not None and at_head.record.hash != live.hash:
        found.append(
            Problem(
                at_head.file,
                at_head.line,
                f"record seq {live.seq} is not the universe's head ({live.hash[:19]}…): this "
                "chain diverged from the one the universe holds",
                "diverged",
            )
        )
    for batch in live.batches:
        item = _single(by_seq.get(batch.last))
        if item is not None and item.record.hash != batch.hash and batch.last != live.seq:
            found.append(
                Problem(
                    item.file,
                    item.line,
                    f"record seq {batch.last} is not the one the universe's chain holds there "
                    f"(apply {batch.name}): rewritten, or written but never published",
                    "diverged",
                )
            )
    if local_top > live.seq:
        found.append(
            Problem(
                where,
                0,
                f"records seq {live.seq + 1}-{local_top} are beyond the universe's head (seq "
                f"{live.seq}): written but never published, or the universe was reset",
                "diverged",
            )
        )
    return found


def _gaps(name: str, missing: Sequence[int], live: ChainHead | None) -> list[Gap]:
    gaps: list[Gap] = []
    for seq in missing:
        if gaps and gaps[-1].last == seq - 1:
            gaps[-1] = Gap(name, gaps[-1].first, seq)
        else:
            gaps.append(Gap(name, seq, seq))
    if live is None:
        return gaps
    named = []
    for gap in gaps:
        applies = tuple(
            dict.fromkeys(
                b.name for b in live.batches if b.first <= gap.last and b.last >= gap.first
            )
        )
        named.append(Gap(gap.chain, gap.first, gap.last, applies))
    return named


def _citations(items: Iterable[Located], hashes: set[str], *, has_gaps: bool) -> list[Problem]:
    """Every approval an apply record cites must be an approval record of the same plan."""
    approvals = {
        item.record.hash: item.record.body
        for item in items
        if isinstance(item.record.body, ApprovalRecord)
    }
    found: list[Problem] = []
    for item in items:
        body = item.record.body
        if not isinstance(body, ApplyRecord):
            continue
        for cited in body.approvals:
            approval = approvals.get(cited)
            if approval is None:
                if cited in hashes or not has_gaps:
                    found.append(
                        Problem(
                            item.file,
                            item.line,
                            f"apply {body.apply_id} cites approval {cited[:19]}…, which is not "
                            "an approval record of this chain",
                        )
                    )
            elif approval.plan_digest != body.plan_digest:
                found.append(
                    Problem(
                        item.file,
                        item.line,
                        f"apply {body.apply_id} cites approval {cited[:19]}… of another plan "
                        f"({approval.plan_digest[:19]}…)",
                    )
                )
    return found
