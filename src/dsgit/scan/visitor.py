"""The consumer side of a scan: a visitor sees each selected entry once.

A visitor is any object with ``visit(entry, emit)``, ``snapshot()`` and ``restore(state)``:

- ``visit`` is called once per entry, on one thread, in no particular order. ``emit(record)``
  adds a JSON record to the scan's result (a JSON Lines file beside the checkpoint, streamed
  back by :meth:`dsgit.scan.ScanResult.records`): what the result needs, e.g. one record per
  planned deletion, is kept on disk, not in memory.
- ``snapshot`` returns the visitor's own running state (counters, histograms: small JSON),
  saved in every checkpoint; ``restore`` puts it back when a killed scan resumes. Records and
  snapshot are saved together, so after a resume every entry has been counted exactly once.

:class:`Visitor` is a base for visitors without state of their own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol

from dsgit.model.entry import JSONValue
from dsgit.scan.entry import ScanEntry

__all__ = ["Emit", "ScanVisitor", "Visitor"]

Emit = Callable[[JSONValue], None]


class ScanVisitor(Protocol):
    """What :func:`dsgit.scan.run_scan` drives (see the module docstring)."""

    def visit(self, entry: ScanEntry, emit: Emit) -> None: ...

    def snapshot(self) -> JSONValue: ...

    def restore(self, state: JSONValue) -> None: ...


class Visitor(ABC):
    """A stateless visitor: implement :meth:`visit` (and override the other two when it keeps
    state)."""

    @abstractmethod
    def visit(self, entry: ScanEntry, emit: Emit) -> None:
        """Look at one entry; ``emit`` a result record for it if it matters."""

    def snapshot(self) -> JSONValue:
        return None

    def restore(self, state: JSONValue) -> None:
        return None
