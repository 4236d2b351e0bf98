"""Commit what an apply wrote under ``audit/`` to the audit branch (``dsgit/audit`` by default)
through the REST git-data API: no checkout, no push rights on the default branch.

The branch may move while we write (another environment's apply, a concurrent run): the commit
is made on the head we read and the branch is moved fast-forward only; when it moved, the files
are re-read from its new head and the commit is made again, up to ``attempts`` times. A file
that the apply only appended to (an append-only JSON-lines ledger) keeps what the branch already
has and gets the appended lines; a new file (per-apply records, pre-images) is added as is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dsgit.errors import DsgitError
from dsgit.github.client import GitHubClient

__all__ = [
    "AUDIT_DIR",
    "AuditCommit",
    "commit_audit_files",
    "git_blob_sha",
    "snapshot_audit",
    "sync_from_branch",
]

AUDIT_DIR = "audit"


def snapshot_audit(root: Path) -> dict[str, bytes]:
    """Every file under ``root/audit`` by repository path."""
    base = root / AUDIT_DIR
    if not base.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(base.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


@dataclass(frozen=True)
class AuditCommit:
    """The commit made on ``branch`` (None when there was nothing to commit) and how many
    times the branch had moved before it could be made."""

    branch: str
    commit: str | None
    files: tuple[str, ...]
    retries: int


def _merged(path: str, before: bytes | None, after: bytes, on_branch: bytes | None) -> bytes:
    if on_branch is None or on_branch == after:
        return after
    if path.endswith(".jsonl") and before is not None and after.startswith(before):
        appended = after[len(before) :]
        base = on_branch if on_branch.endswith(b"\n") or not on_branch else on_branch + b"\n"
        return base + appended
    return after


def commit_audit_files(
    client: GitHubClient,
    branch: str,
    before: Mapping[str, bytes],
    after: Mapping[str, bytes],
    message: str,
    *,
    attempts: int = 5,
) -> AuditCommit:
    """Commit the files of ``after`` that differ from ``before`` to ``branch`` (created from
    nothing when missing)."""
    changed = sorted(path for path, data in after.items() if before.get(path) != data)
    if not changed:
        return AuditCommit(branch, None, (), 0)
    for attempt in range(attempts):
        head = client.get_branch_head(branch)
        blobs: dict[str, str] = {}
        for path in changed:
            on_branch = client.read_blob_at(head, path) if head is not None else None
            content = _merged(path, before.get(path), after[path], on_branch)
            if content == on_branch:
                continue
            blobs[path] = client.create_blob(content)
        if not blobs:
            return AuditCommit(branch, head, (), attempt)
        base_tree = client.commit_tree(head) if head is not None else None
        tree = client.create_tree(base_tree, blobs)
        parents = (head,) if head is not None else ()
        commit = client.create_commit(message, tree, parents)
        if client.move_branch(branch, commit, create=head is None):
            return AuditCommit(branch, commit, tuple(sorted(blobs)), attempt)
    raise DsgitError(
        f"the audit branch {branch!r} kept moving: {attempts} attempts to commit the ledger "
        "failed; the records are in this run's audit/ folder (upload it as an artifact and "
        "commit it by hand)"
    )


def git_blob_sha(data: bytes) -> str:
    """The object id git gives a file's bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sync_from_branch(client: GitHubClient, branch: str, root: Path) -> tuple[str, ...]:
    """Bring the checkout's ``audit/`` up to the audit branch before an apply: the records of
    earlier applies live there, not on the default branch. Only files that are missing or
    differ are downloaded; files only the checkout has are kept. Returns the paths written."""
    head = client.get_branch_head(branch)
    if head is None:
        return ()
    local = snapshot_audit(root)
    written = []
    for path, sha in sorted(client.tree_files(head, AUDIT_DIR).items()):
        if path in local and git_blob_sha(local[path]) == sha:
            continue
        if ".." in path.split("/") or path.startswith("/"):
            continue
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(client.read_blob(sha))
        written.append(path)
    return tuple(written)
