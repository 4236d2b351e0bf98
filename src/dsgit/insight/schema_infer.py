"""``dsgit schema infer STORE``: sample a store on the live scan, infer its JSON Schema, and
check the sample against it (the conformance a schema made from a sample has on that sample
is 100 % with ``required_share`` 1; below 1, optional-but-frequent keys become required and
the figure tells how many values that leaves out).

Values are masked at the store's ``sensitive`` / ``encrypted`` pointers before inference, so
the schema carries no constraint derived from a secret; string enums are never made of
e-mail addresses or phone numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from dsgit.insight.infer import InferOptions, Shape, infer_schema
from dsgit.model.declaration import Declaration
from dsgit.model.entry import JSONValue, LiveEntry, StoreKind
from dsgit.plan.masking import PointerPatterns
from dsgit.remote.client import OpenCloudClient
from dsgit.scan import ScanEntry, ScanObserver, ScanOptions, Selection, Visitor, run_scan
from dsgit.scan.visitor import Emit

__all__ = ["Inferred", "infer_store_schema"]


@dataclass(frozen=True)
class Inferred:
    store: str
    schema: dict[str, Any]
    keys: int  # listed
    sampled: int  # values the schema was inferred from
    conforming: int  # of those, how many the inferred schema accepts

    @property
    def conformance(self) -> float:
        return self.conforming / self.sampled if self.sampled else 1.0


class _Collect(Visitor):
    def __init__(self, mask: PointerPatterns) -> None:
        self.mask = mask
        self.shape = Shape()
        self.values: list[JSONValue] = []  # the sample (at most --sample N values)

    def visit(self, entry: ScanEntry, emit: Emit) -> None:
        if isinstance(entry.live, LiveEntry):
            value = self.mask.mask(entry.live.value) if self.mask else entry.live.value
            self.shape.add(value)
            self.values.append(value)


def infer_store_schema(
    client: OpenCloudClient,
    store: str,
    *,
    scope: str = "global",
    sample: int = 1000,
    options: InferOptions | None = None,
    declaration: Declaration | None = None,
    observer: ScanObserver | None = None,
) -> Inferred:
    declared = declaration.stores.get((StoreKind.STANDARD, store)) if declaration else None
    mask = PointerPatterns(
        (*declared.policy.sensitive, *declared.policy.encrypted) if declared else ()
    )
    collect = _Collect(mask)
    result = run_scan(
        client,
        [Selection((store,), scopes=(scope,))],
        collect,
        ScanOptions(sample=sample),
        observer=observer,
    )
    try:
        keys = result.counters["listed"]
    finally:
        result.discard()
    count = len(collect.values)
    schema = infer_schema(
        collect.shape,
        title=store,
        description=(
            f"Inferred by dsgit schema infer from {count:,} of {keys:,} values of data store "
            f"{store!r} (scope {scope}); review before relying on it."
        ),
        options=options,
    )
    validator = Draft202012Validator(schema)
    conforming = sum(1 for value in collect.values if validator.is_valid(value))
    return Inferred(store, schema, keys, count, conforming)
