"""Reading the entries a migration selects: list the stores and keys, read each value.

A small adapter over the Open Cloud client, kept behind :class:`EntryScan` so that the shared
live-scan engine can take its place. Memory stays flat: keys are read in batches as the
listing pages them, and each entry is handed on before the next batch is listed.

A failed or throttled listing or read is an error diagnostic (DSP011 / DSP012 / DSP014), never
"nothing to migrate"; an error that ends the whole run (:class:`~dsgit.errors.RunFatal`) is
raised.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol

from dsgit.errors import DsgitError, RateLimitedError, RunFatal
from dsgit.migrate.model import Selection
from dsgit.model.entry import RESERVED_STORE, LiveEntry
from dsgit.plan.codes import diagnostic
from dsgit.plan.model import Diagnostic
from dsgit.plan.read import fix_for
from dsgit.remote.api import OpenCloudApi

__all__ = ["BATCH", "ApiScan", "EntryScan"]

BATCH = 256  # keys read at once: bounds what is held between a listing page and the reads


class EntryScan(Protocol):
    """The selected live entries, streamed; ``diagnostics`` (read failures) and ``listed``
    (keys the selection matched) are complete once ``entries()`` is exhausted."""

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]: ...

    @property
    def listed(self) -> int: ...

    def entries(self) -> Iterator[LiveEntry]: ...


@dataclass
class ApiScan:
    """:class:`EntryScan` through the Open Cloud client (list, then read in batches)."""

    api: OpenCloudApi
    selection: Selection
    _diagnostics: list[Diagnostic] = field(default_factory=list)
    _listed: int = 0

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return tuple(self._diagnostics)

    @property
    def listed(self) -> int:
        return self._listed

    def stores(self) -> list[str]:
        selection = self.selection
        if not selection.store_is_glob:
            return [selection.store]
        head = re.split(r"[*?\[]", selection.store, maxsplit=1)[0]
        try:
            names = [
                info.id
                for info in self.api.list_data_stores(prefix=head or None)
                if selection.selects_store(info.id) and info.id != RESERVED_STORE
            ]
        except RunFatal:
            raise
        except DsgitError as exc:
            self._failed(f"listing data stores {selection.store!r}", exc, None)
            return []
        return sorted(set(names))

    def entries(self) -> Iterator[LiveEntry]:
        for store in self.stores():
            yield from self._store(store)

    def _store(self, store: str) -> Iterator[LiveEntry]:
        selection = self.selection
        try:
            keys = (
                (store, item.scope, item.key)
                for item in self.api.list_keys(
                    store, selection.scope, prefix=selection.list_prefix or None
                )
                if selection.selects_key(item.key)
            )
            while batch := list(islice(keys, BATCH)):
                self._listed += len(batch)
                yield from self._read(store, batch)
        except RunFatal:
            raise
        except DsgitError as exc:
            self._failed(f"standard:{store}/{selection.scope}: listing", exc, f"standard:{store}")

    def _read(self, store: str, batch: list[tuple[str, str, str]]) -> Iterator[LiveEntry]:
        done = 0
        try:
            for _request, live in self.api.get_entries(batch):
                done += 1
                if live is not None:  # deleted between listing and read: nothing to migrate
                    yield live
        except RunFatal:
            raise
        except DsgitError as exc:
            missing = len(batch) - done
            self._diagnostics.append(
                diagnostic(
                    "DSP014",
                    f"standard:{store}: reading entries failed ({exc}); {missing} entries "
                    "were not read",
                    count=missing,
                    store=f"standard:{store}",
                    fix=fix_for(exc, None),
                )
            )

    def _failed(self, what: str, exc: DsgitError, store: str | None) -> None:
        code = "DSP012" if isinstance(exc, RateLimitedError) else "DSP011"
        self._diagnostics.append(
            diagnostic(
                code,
                f"{what} failed ({exc}); nothing there is migrated",
                store=store,
                fix=fix_for(exc, None),
            )
        )
