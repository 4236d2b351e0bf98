"""The ledger of a repository: append records to an environment's chain, read them back.

Layout: :mod:`dsgit.ledger.layout` (one file per apply under ``audit/ledger/<env>/``). Order:
one hash chain per environment across those files, whose head the environment's universe also
holds (:mod:`dsgit.ledger.head`).

An append, under an exclusive ``flock`` on the environment's folder (processes of one checkout
take turns):

1. checks the local tail: every file of the chain ends with a whole line, and the last record
   (highest ``seq``) still matches its ``hash`` and, when signed, its signature; anything else
   refuses the append (``LedgerError``) before a byte is written;
2. reads the universe's head and extends it (the records of other branches' applies need not
   be in this checkout); without a head yet, extends the local tail;
3. writes every new line in one ``write`` to its file and ``fsync``s;
4. moves the universe's head to the new last record with a compare-and-swap; when another
   append moved it first, takes its lines back out of the file and starts again from 2.

A crash between 3 and 4 leaves records the universe does not know yet; the next append from
this checkout finds them (the head is the record before them) and publishes them with its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dsgit.errors import ConfigError, DsgitError, LedgerError
from dsgit.ledger.canonical import canonical_json, sha256_digest
from dsgit.ledger.head import Batch, ChainHead, HeadMoved, HeadStore, UniverseHead
from dsgit.ledger.layout import (
    ARCHIVE_FILE,
    CHAINS_DIR,
    LEGACY_FILE,
    batch_path,
    chain_dir,
    chain_files,
    environments,
    relative,
)
from dsgit.ledger.reading import count_lines, file_records, last_line, parse_line
from dsgit.ledger.records import (
    ApplyRecord,
    ApprovalRecord,
    Body,
    ChangeRecord,
    ErasureRecord,
    LedgerRecord,
    body_to_json,
)
from dsgit.ledger.redact import hash_form, make_salts
from dsgit.ledger.signing import Signer, load_public_keys, verify_signature
from dsgit.remote.api import OpenCloudApi
from dsgit.yamlio.safe_paths import safe_path

__all__ = ["LEDGER_FILE", "Ledger", "Located", "now_rfc3339", "record_hash"]

LEDGER_FILE = LEGACY_FILE  # the single file of earlier releases (see `dsgit audit migrate`)
_ATTEMPTS = 5


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def record_hash(record: LedgerRecord) -> str:
    """The digest a record must carry in ``hash``: of its canonical form without hash and sig
    (version 3: with its redactable fields as salted digests, :func:`redact.hash_form`)."""
    data = record.unsigned_json()
    if record.version >= 3:
        return sha256_digest(canonical_json(hash_form(data)))
    return sha256_digest(canonical_json(data))


@dataclass(frozen=True)
class Located:
    """A record with the file (repository-relative) and 1-based line it was read from."""

    record: LedgerRecord
    file: str
    line: int


@dataclass(frozen=True)
class _Base:
    """What the next record follows: ``seq``/``hash`` of the record before it."""

    seq: int
    hash: str
    head: ChainHead | None
    token: str | None
    unpublished: tuple[Batch, ...] = ()


class Ledger:
    """The ledger of one repository: every environment's chain, or one environment's.

    ``environment`` is needed to append; ``head`` (the universe's chain head) makes appends
    follow the order the universe holds. Without it, appends extend the local tail only (a
    checkout no other branch applies from, and tests).
    """

    def __init__(
        self,
        root: Path,
        signer: Signer | None = None,
        *,
        environment: str | None = None,
        head: HeadStore | None = None,
    ) -> None:
        self.root = root
        self.signer = signer
        self.environment = environment
        self.head = head

    @classmethod
    def of_universe(
        cls, root: Path, environment: str, api: OpenCloudApi, signer: Signer | None = None
    ) -> Ledger:
        """The chain of ``environment``, ordered by the head its universe (``api``) holds."""
        return cls(root, signer, environment=environment, head=UniverseHead(api, environment))

    # --- appending ---------------------------------------------------------------------------

    def append(
        self,
        bodies: Sequence[Body],
        *,
        actor: str,
        time: str | None = None,
        batch: str | None = None,
    ) -> list[LedgerRecord]:
        """Append one record per body to the environment's chain; returns them.

        ``batch`` names the file (``audit/ledger/<env>/<batch>.jsonl``): by default the apply id
        of the bodies, else one made from the time and the bodies.
        """
        if not bodies:
            return []
        environment = self._require_environment(bodies)
        stamp = time or now_rfc3339()
        name = batch or _batch_name(bodies, stamp)
        path = batch_path(self.root, environment, name)
        with self._folder_lock(environment):
            for _ in range(_ATTEMPTS):
                base = self._base(environment)
                records = self._build(bodies, base, actor, stamp, environment)
                size = _append_lines(path, records)
                try:
                    self._publish(base, records, name, stamp, environment)
                except HeadMoved:
                    os.truncate(path, size)  # another append won: follow it instead
                    continue
                # Any other failure leaves the lines written but not published: the next
                # append (or `publish`) from this checkout publishes them.
                return records
        raise LedgerError(
            f"the ledger head of environment {environment!r} kept moving while appending "
            f"(other applies?); nothing was appended to {relative(self.root, path)}"
        )

    def publish(self) -> None:
        """Move the universe's head over records this checkout wrote but could not publish."""
        if self.head is None:
            return
        environment = self._require_environment()
        with self._folder_lock(environment):
            for _ in range(_ATTEMPTS):
                base = self._base(environment)
                if not base.unpublished:
                    return
                try:
                    self._publish(base, [], "", now_rfc3339(), environment)
                except HeadMoved:
                    continue
                return

    def check_appendable(self) -> None:
        """Raise now if an append would be refused (damaged tail, head it cannot extend).

        Without an environment, every environment's chain of this checkout is checked.
        """
        safe_path(self.root, CHAINS_DIR)  # DS106: audit/ or audit/ledger is a symlink
        self._refuse_legacy()
        names = [self.environment] if self.environment is not None else environments(self.root)
        for name in names:
            safe_path(self.root, chain_dir(self.root, name))  # DS106: no symlink on the way
            self._base(name)

    def _require_environment(self, bodies: Sequence[Body] = ()) -> str:
        """This ledger's environment; without one, the one environment the bodies name."""
        if self.environment is not None:
            return self.environment
        named = {getattr(body, "environment", None) for body in bodies} - {None, ""}
        if len(named) == 1:
            (only,) = named
            if isinstance(only, str):
                return only
        raise LedgerError(
            "appending to the ledger needs an environment (Ledger.of_universe(root, "
            "environment, api) orders the chain by the universe's head)"
        )

    @contextlib.contextmanager
    def _folder_lock(self, environment: str) -> Iterator[None]:
        self._refuse_legacy()
        folder = chain_dir(self.root, environment)
        # Never through a symlink (DS106): audit/ or a chain folder committed as a link to
        # outside the repository would send the records there.
        self.root.mkdir(parents=True, exist_ok=True)
        safe_path(self.root, folder / "chain.lock", parents=True)
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    def _refuse_legacy(self) -> None:
        if (self.root / LEGACY_FILE).exists():
            raise LedgerError(
                f"{LEGACY_FILE} is the single-file ledger of an earlier release; run "
                "`dsgit audit migrate` (it checks it and keeps it, unchanged, as the start of "
                "every environment's chain), commit audit/, then apply again"
            )

    def _build(
        self, bodies: Sequence[Body], base: _Base, actor: str, stamp: str, environment: str
    ) -> list[LedgerRecord]:
        seq, prev = base.seq + 1, base.hash
        records: list[LedgerRecord] = []
        for body in bodies:
            salts = make_salts(str(body.type), body_to_json(body))
            draft = LedgerRecord(
                seq, stamp, actor, prev, body, hash="", chain=environment, salts=salts
            )
            digest = record_hash(draft)
            signature = self.signer.sign(digest) if self.signer is not None else None
            records.append(replace(draft, hash=digest, signature=signature))
            seq, prev = seq + 1, digest
        return records

    def _publish(
        self,
        base: _Base,
        records: Sequence[LedgerRecord],
        name: str,
        stamp: str,
        environment: str,
    ) -> None:
        if self.head is None:
            return
        batches = list(base.unpublished)
        if records:
            batches.append(Batch(records[0].seq, records[-1].seq, records[-1].hash, name))
        if not batches:
            return
        new = base.head
        for batch in batches:
            new = (
                ChainHead.first(environment, batch, stamp)
                if new is None
                else new.extended(batch, stamp)
            )
        assert new is not None
        try:
            self.head.advance(new, base.token)
        except (HeadMoved, LedgerError):
            raise
        except DsgitError as exc:
            raise LedgerError(
                f"the ledger records were written to audit/ledger/ but the chain head of "
                f"environment {environment!r} could not be moved in its universe ({exc}); the "
                "next append from this checkout publishes them"
            ) from None

    # --- the base an append extends ----------------------------------------------------------

    def _base(self, environment: str) -> _Base:
        tails = sorted(self._tails(environment), key=lambda item: -item.record.seq)
        # The record the append follows, and the last record of every other file of the chain
        # (an apply's own file may be the next one appended to), must be intact.
        if any(item.record.signature is not None for item in tails):
            keys = load_public_keys(self.root)
        else:
            keys = {}
        for item in tails:
            self._check_tail(item, environment, keys, is_last=item is tails[0])
        if tails:
            local_seq, local_hash = tails[0].record.seq, tails[0].record.hash
        else:
            # The first record of the chain follows the archived ledger (checked whole).
            from dsgit.ledger.verify import archive_base

            local_seq, local_hash = archive_base(self.root)
        if self.head is None:
            return _Base(local_seq, local_hash, None, None)
        try:
            head, token = self.head.read()
        except LedgerError:
            raise
        except DsgitError as exc:
            raise LedgerError(
                f"the chain head of environment {environment!r} could not be read from its "
                f"universe ({exc}); nothing was appended to the ledger. Run the command again "
                "(an apply run again records what this run did, once)"
            ) from None
        if head is None:
            return _Base(local_seq, local_hash, None, None, self._unpublished(environment, -1))
        if head.seq > local_seq or (head.seq == local_seq and head.hash == local_hash):
            self._check_not_forked(head, tails, environment)
            return _Base(head.seq, head.hash, head, token)
        if head.seq < local_seq:
            at = self._record_at(environment, head.seq)
            if at is not None and at.record.hash == head.hash:
                return _Base(
                    local_seq, local_hash, head, token, self._unpublished(environment, head.seq)
                )
        raise LedgerError(
            f"the universe's ledger head of environment {environment!r} (record seq {head.seq}, "
            f"{head.hash[:19]}…) is not in this checkout's chain, whose last record is seq "
            f"{local_seq}: the universe was reset or replaced, or the local chain was rewritten."
            " Nothing was appended; run `dsgit audit verify --against "
            f"{environment}` to see which"
        )

    def _tails(self, environment: str) -> list[Located]:
        """The last record of every file of the chain; a torn or damaged last line refuses.

        Only the end of each file is read (``line`` is 0: counted only for an error message).
        """
        found: list[Located] = []
        for path in chain_files(self.root, environment):
            tail = self._read_tail(path)
            if tail is not None:
                found.append(tail)
        return found

    def _read_tail(self, path: Path) -> Located | None:
        where = relative(self.root, path)
        tail = last_line(path)
        if tail is None:
            return None
        data, complete = tail
        if not complete:
            raise LedgerError(
                f"{where}:{count_lines(path)}: the ledger file ends with an incomplete record (a "
                "write cut short?); nothing was appended. Run `dsgit audit verify`"
            )
        try:
            record = parse_line(data.decode("utf-8", "replace"), where, 0)
        except ConfigError as exc:
            raise LedgerError(
                f"{where}:{count_lines(path)}: the last ledger record is malformed "
                f"({exc.message}); nothing was appended. Run `dsgit audit verify`"
            ) from None
        return Located(record, where, 0)

    def _check_tail(
        self,
        tail: Located,
        environment: str,
        keys: Mapping[str, Ed25519PublicKey],
        *,
        is_last: bool = True,
    ) -> None:
        """The record an append follows must be intact: its hash, and its signature."""
        record = tail.record
        line = tail.line or count_lines(self.root / tail.file)
        where = f"{tail.file}:{line}"
        what = "the last ledger record" if is_last else "the last record of this ledger file"
        # A redacted version 1/2 record keeps its hash, which no longer covers its redacted
        # form (its erasure record does: `audit verify` checks that); its signature still does.
        old_redacted = record.version < 3 and record.redacted_by is not None
        if not old_redacted and record_hash(record) != record.hash:
            raise LedgerError(
                f"{where}: {what} (seq {record.seq}) was edited: it no longer matches its "
                "hash. Nothing was appended; run `dsgit audit verify` and restore the file "
                "from git"
            )
        if tail.file != ARCHIVE_FILE and record.chain != environment:
            raise LedgerError(
                f"{where}: the last ledger record belongs to chain {record.chain!r}, not "
                f"{environment!r} (a file moved between environments?); nothing was appended"
            )
        if record.signature is not None:
            reason = verify_signature(record.hash, record.signature, keys)
            if reason is not None:
                raise LedgerError(
                    f"{where}: {what} (seq {record.seq}) does not verify: "
                    f"{reason}. Nothing was appended; run `dsgit audit verify`"
                )
        elif is_last and self.signer is not None and self._any_signed(environment):
            raise LedgerError(
                f"{where}: the last ledger record (seq {record.seq}) is unsigned while earlier "
                "records are signed: it may have been replaced. Nothing was appended; run "
                "`dsgit audit verify`"
            )

    def _any_signed(self, environment: str) -> bool:
        return any(
            item.record.signature is not None
            for item in self.located(environment, skip_malformed=True)
        )

    def _record_at(self, environment: str, seq: int) -> Located | None:
        for item in self.located(environment, skip_malformed=True):
            if item.record.seq == seq and (
                item.record.chain == environment or item.file == ARCHIVE_FILE
            ):
                return item
        return None

    def _unpublished(self, environment: str, after: int) -> tuple[Batch, ...]:
        """The local records after seq ``after``, as one batch per file."""
        groups: dict[str, list[LedgerRecord]] = {}
        for path in chain_files(self.root, environment):
            where = relative(self.root, path)
            for _, record in file_records(path, where, skip_malformed=True):
                if record.seq > after and record.chain == environment:
                    groups.setdefault(path.name.removesuffix(".jsonl"), []).append(record)
        batches = [
            Batch(group[0].seq, group[-1].seq, group[-1].hash, name)
            for name, group in groups.items()
        ]
        return tuple(sorted(batches, key=lambda batch: batch.first))

    def _check_not_forked(
        self, head: ChainHead, tails: Sequence[Located], environment: str
    ) -> None:
        """A file whose last record the universe's recent batches should hold, but do not,
        was written and never published: extending the head would fork the chain."""
        if not head.batches:
            return
        oldest = min(batch.first for batch in head.batches)
        known = {batch.hash for batch in head.batches}
        for tail in tails:
            seq = tail.record.seq
            if oldest <= seq <= head.seq and tail.record.hash not in known:
                holder = next((b for b in head.batches if b.first <= seq <= b.last), None)
                other = f" (the universe has apply {holder.name} there)" if holder else ""
                raise LedgerError(
                    f"{tail.file}: its records end at seq {seq}, which the universe's chain of "
                    f"environment {environment!r} does not hold{other}: they were written but "
                    "never published (a crash between the two?). Nothing was appended. Keep "
                    "the file for the record but move it out of audit/ledger/, then apply again"
                )

    # --- reading -----------------------------------------------------------------------------

    def located(
        self, environment: str | None = None, *, skip_malformed: bool = False
    ) -> Iterator[Located]:
        """Every record of one environment's chain (or of ``self.environment``), in chain order:
        the archived single-file ledger first, then the chain's files by ``seq``."""
        name = environment or self.environment
        yield from self._legacy(skip_malformed)
        if name is None:
            return
        found: list[Located] = []
        for path in chain_files(self.root, name):
            where = relative(self.root, path)
            for line, record in file_records(path, where, skip_malformed=skip_malformed):
                found.append(Located(record, where, line))
        found.sort(key=lambda item: (item.record.seq, item.file, item.line))
        yield from found

    def _legacy(self, skip_malformed: bool) -> Iterator[Located]:
        for name in (ARCHIVE_FILE, LEGACY_FILE):
            path = self.root / name
            for line, record in file_records(path, name, skip_malformed=skip_malformed):
                yield Located(record, name, line)

    def records(self, *, skip_malformed: bool = False) -> Iterator[LedgerRecord]:
        """Every record (not verified: see :mod:`dsgit.ledger.verify`), oldest first.

        The archived single-file ledger first, then every environment's chain (or only
        ``self.environment``'s) in ``seq`` order, chains interleaved by time. A malformed line
        raises ``ConfigError`` naming it, or is passed over with ``skip_malformed``.
        """
        yield from (item.record for item in self._legacy(skip_malformed))
        names = [self.environment] if self.environment is not None else environments(self.root)
        chains: list[list[LedgerRecord]] = []
        for name in names:
            chain: list[Located] = []
            for path in chain_files(self.root, name):
                where = relative(self.root, path)
                for line, record in file_records(path, where, skip_malformed=skip_malformed):
                    chain.append(Located(record, where, line))
            chain.sort(key=lambda item: (item.record.seq, item.file, item.line))
            chains.append([item.record for item in chain])
        yield from heapq.merge(*chains, key=lambda record: record.time)

    def records_of_apply(self, apply_id: str) -> list[LedgerRecord]:
        """The records of one apply (its file; without an environment, its file in any
        environment's chain), in file order, after any the archived ledger holds."""
        names = [self.environment] if self.environment is not None else environments(self.root)
        mine: list[LedgerRecord] = []
        for name in names:
            path = batch_path(self.root, name, apply_id)
            where = relative(self.root, path)
            mine.extend(record for _, record in file_records(path, where, skip_malformed=True))
        legacy: list[LedgerRecord] = []
        if any(_mentions(self.root / name, apply_id) for name in (ARCHIVE_FILE, LEGACY_FILE)):
            # An apply begun before `audit migrate` and resumed after it.
            legacy = [
                item.record
                for item in self._legacy(skip_malformed=True)
                if _apply_id_of(item.record.body) == apply_id
            ]
        return legacy + mine

    def apply_recorded(self, apply_id: str) -> bool:
        """True when the ledger holds an ``apply`` record for ``apply_id`` (in this chain)."""
        return any(isinstance(r.body, ApplyRecord) for r in self.records_of_apply(apply_id))


def _apply_id_of(body: Body) -> str | None:
    """The apply a record belongs to (names its file); other record types belong to none."""
    apply_id = getattr(body, "apply_id", None) if _names_its_file(body) else None
    return apply_id if isinstance(apply_id, str) else None


def _names_its_file(body: object) -> bool:
    """Records of an apply go to its file (a lock-break's ``apply_id`` is another apply's)."""
    return isinstance(body, ApplyRecord | ChangeRecord | ApprovalRecord | ErasureRecord)


def _mentions(path: Path, text: str) -> bool:
    try:
        return text.encode("utf-8") in path.read_bytes()
    except FileNotFoundError:
        return False


def _batch_name(bodies: Iterable[Body], stamp: str) -> str:
    for body in bodies:
        apply_id = _apply_id_of(body)
        if apply_id:
            return apply_id
    compact = stamp.replace("-", "").replace(":", "").split(".")[0]
    digest = sha256_digest(canonical_json([str(b) for b in bodies]))
    return f"{compact}-{digest.removeprefix('sha256:')[:12]}"


def _append_lines(path: Path, records: Sequence[LedgerRecord]) -> int:
    """Append the records' lines in one write and fsync; returns the size before."""
    data = "".join(canonical_json(record.to_json()) + "\n" for record in records).encode("utf-8")
    created = not path.exists()
    try:
        # Never through a symbolic link: a committed link could point anywhere.
        descriptor = os.open(
            path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644
        )
    except OSError as exc:
        raise LedgerError(
            f"{path}: cannot append to the ledger file ({exc.strerror}); a symbolic link is "
            "never followed. Nothing was appended"
        ) from None
    try:
        size = os.fstat(descriptor).st_size
        view = memoryview(data)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if created:
        _fsync_dir(path.parent)
    return size


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
