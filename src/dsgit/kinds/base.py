"""What a resource kind is: the one place that knows how its resources live on disk, how they
are read live, what a change of them expects and how it is carried out.

The built-in kinds are standard and ordered data stores (:mod:`dsgit.kinds.standard`,
:mod:`dsgit.kinds.ordered`); each is one module registered with one line in
:mod:`dsgit.kinds`. Everything generic (the loader, the live reader, the executor) asks the
registry, never spells a kind out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from dsgit.model.entry import Address, StoreKind

if TYPE_CHECKING:
    from dsgit.apply.execute import ChangeExecutor
    from dsgit.apply.result import ChangeResult
    from dsgit.apply.step import Step
    from dsgit.model.declaration import StoreDeclaration
    from dsgit.plan.live import LiveValue
    from dsgit.plan.model import Diagnostic
    from dsgit.planning.reading import Reading
    from dsgit.remote.api import OpenCloudApi
    from dsgit.repo.loader import RepositoryReader

__all__ = ["ResourceKind"]


class ResourceKind(Protocol):
    """One kind of resource dsgit manages (a Protocol: a kind is any object with these)."""

    @property
    def name(self) -> StoreKind:
        """The kind's name: the ``<name>:`` prefix of its plan addresses."""
        ...

    @property
    def directory(self) -> str:
        """The top folder of the data repository that holds this kind's files."""
        ...

    def load(self, loader: RepositoryReader) -> Iterator[StoreDeclaration]:
        """Parse this kind's files (under :attr:`directory`) into declared stores; problems
        go to ``loader``, never raised."""
        ...

    def read_live(self, api: OpenCloudApi, reading: Reading) -> None:
        """Read what planning ``reading.desired`` needs of this kind into ``reading``
        (listings, entries, diagnostics for what could not be read)."""
        ...

    def read_current(
        self, api: OpenCloudApi, addresses: Sequence[Address], into: dict[Address, LiveValue | None]
    ) -> Diagnostic | None:
        """Read the latest state of ``addresses`` (all of this kind) into ``into`` (None:
        absent), for undo plans; a failure is returned as a diagnostic, never "absent"."""
        ...

    def execute(
        self, run: ChangeExecutor, step: Step, intent: Mapping[str, Any] | None
    ) -> ChangeResult:
        """Carry out one change of this kind (``intent``: an interrupted run's, to resume)."""
        ...
