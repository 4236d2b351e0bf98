"""Plan artifacts: where a pull request's reviewed plans are kept until the merge applies them.

:class:`ArtifactStore` is the small interface: ``stage`` the plans of one run under the
artifact's name, ``fetch`` them back for a head commit. :class:`ActionsArtifacts` is the store
under GitHub Actions: ``stage`` writes the files to a folder the Action's
``actions/upload-artifact`` step uploads (GitHub's REST API cannot upload artifacts), ``fetch``
finds the artifact through the REST API and checks where it came from before trusting a byte:

- the artifact was uploaded by a run of this repository, for this repository (not a fork);
- that run ran the expected workflow file, on a ``pull_request`` event, at the head commit;
- the artifact has not expired, and the zip holds the environment's plan and nothing odd.

The plan inside is then checked like any plan file (canonical bytes, digest) by its reader.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dsgit.errors import StalePlan
from dsgit.github.client import Artifact, GitHubClient

__all__ = [
    "ARTIFACT_PREFIX",
    "ActionsArtifacts",
    "ArtifactStore",
    "FetchedArtifact",
    "artifact_name",
    "plan_member",
]

ARTIFACT_PREFIX = "dsgit-plan-"
_UNSAFE = re.compile(r'[\\/":<>|*?\r\n\s]')
_MAX_MEMBER_BYTES = 256 * 1024 * 1024


def artifact_name(environments: tuple[str, ...], head_sha: str) -> str:
    """``dsgit-plan-<env>[+<env>…]-<head sha>``: one artifact per run of ``dsgit github pr``."""
    envs = "+".join(_UNSAFE.sub("_", env) for env in environments)
    return f"{ARTIFACT_PREFIX}{envs}-{head_sha}"


def plan_member(environment: str) -> str:
    """The path of an environment's plan inside the artifact."""
    return f"{_UNSAFE.sub('_', environment)}/plan.json"


def _environments_of(name: str, head_sha: str) -> tuple[str, ...] | None:
    suffix = f"-{head_sha}"
    if not name.startswith(ARTIFACT_PREFIX) or not name.endswith(suffix):
        return None
    return tuple(name[len(ARTIFACT_PREFIX) : -len(suffix)].split("+"))


@dataclass(frozen=True)
class FetchedArtifact:
    """An artifact's files, and which run uploaded it."""

    name: str
    run_id: int
    files: Mapping[str, bytes]


class ArtifactStore(Protocol):
    """Keeps the plans of a pull request's head commit."""

    def stage(self, name: str, files: Mapping[str, bytes]) -> Path:
        """Keep ``files`` (path inside the artifact -> bytes) as artifact ``name``."""
        ...

    def folder(self, name: str) -> Path:
        """The folder whose files become artifact ``name`` (plans are written there)."""
        ...

    def fetch(self, environment: str, head_sha: str) -> FetchedArtifact:
        """The newest artifact holding ``environment``'s plan for ``head_sha``; raises
        ``StalePlan`` when there is none that can be trusted."""
        ...


class ActionsArtifacts:
    """Artifacts of GitHub Actions runs: staged for the upload step, fetched by REST."""

    def __init__(
        self,
        client: GitHubClient,
        staging: Path,
        *,
        repository_id: int | None,
        workflow_path: str | None,
    ) -> None:
        self.client = client
        self.staging = staging
        self.repository_id = repository_id
        self.workflow_path = workflow_path

    def folder(self, name: str) -> Path:
        return self.staging / name

    def stage(self, name: str, files: Mapping[str, bytes]) -> Path:
        folder = self.folder(name)
        for member, data in files.items():
            target = folder / member
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return folder

    def fetch(self, environment: str, head_sha: str) -> FetchedArtifact:
        candidates = [
            artifact
            for artifact in self._listing()
            if environment in (_environments_of(artifact.name, head_sha) or ())
        ]
        if not candidates:
            raise StalePlan(
                f"no plan artifact for environment {environment!r} at head commit "
                f"{head_sha[:12]}: the pull request's plan job did not run for its last commit, "
                "or its artifact expired; push a commit (or re-run the plan job) to plan again"
            )
        newest = max(candidates, key=lambda a: (a.created_at is not None, a.created_at, a.id))
        self._check_origin(newest, head_sha)
        assert newest.run_id is not None
        data = self.client.download_artifact(newest.id)
        return FetchedArtifact(newest.name, newest.run_id, _unzip(data, newest.name))

    def _listing(self) -> list[Artifact]:
        path = self.client.repo_path("actions", "artifacts")
        return [
            Artifact.from_json(item)
            for item in self.client.paginate_key(path, "artifacts")
            if isinstance(item, Mapping) and str(item.get("name", "")).startswith(ARTIFACT_PREFIX)
        ]

    def _check_origin(self, artifact: Artifact, head_sha: str) -> None:
        def refuse(why: str) -> StalePlan:
            return StalePlan(f"plan artifact {artifact.name!r} (id {artifact.id}) refused: {why}")

        if artifact.expired:
            raise refuse("it expired")
        if artifact.run_id is None:
            raise refuse("GitHub does not say which run uploaded it")
        if artifact.head_sha is not None and artifact.head_sha != head_sha:
            raise refuse(f"it was made for commit {artifact.head_sha[:12]}, not {head_sha[:12]}")
        if self.repository_id is not None and (
            artifact.repository_id != self.repository_id
            or artifact.head_repository_id != self.repository_id
        ):
            raise refuse("it was uploaded by a run of another repository or a fork")
        run = self.client.get_workflow_run(artifact.run_id)
        if run.repository != self.client.repository or (
            run.head_repository and run.head_repository != self.client.repository
        ):
            raise refuse(f"its run {run.id} belongs to {run.head_repository or run.repository}")
        if self.workflow_path is not None and run.path.split("@", 1)[0] != self.workflow_path:
            raise refuse(
                f"its run {run.id} ran {run.path!r}, not the workflow {self.workflow_path!r}"
            )
        if run.event not in ("pull_request", "pull_request_target"):
            raise refuse(f"its run {run.id} ran on {run.event!r}, not on a pull request")
        if run.head_sha != head_sha:
            raise refuse(
                f"its run {run.id} planned commit {run.head_sha[:12]}, not {head_sha[:12]}"
            )


def _unzip(data: bytes, name: str) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise StalePlan(f"plan artifact {name!r} is not a zip archive") from None
    files: dict[str, bytes] = {}
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            member = info.filename
            if member.startswith("/") or ".." in member.split("/"):
                raise StalePlan(f"plan artifact {name!r} holds an unsafe path {member!r}")
            if info.file_size > _MAX_MEMBER_BYTES:
                raise StalePlan(f"plan artifact {name!r}: {member} is too large")
            files[member] = archive.read(info)
    return files
