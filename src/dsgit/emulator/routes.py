"""Every endpoint the emulator serves: path template, method, operation, scopes, rate class.

Paths are matched on the raw, still percent-encoded path, one segment per parameter, then
each parameter is decoded; so ``%2F`` in a key stays in the key, and a literal ``:`` ends the
name before a custom method (``:increment``) while ``%3A`` belongs to the name. A request whose
names carry unencoded ``/`` matches on a second, lenient pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from dsgit.emulator import (
    analytics_api,
    configs_api,
    experiments_api,
    rtbf,
    v1_standard,
    v2_standard,
)
from dsgit.emulator.api_error import Family, invalid
from dsgit.emulator.call import Handler
from dsgit.emulator.ordered_api import V1 as ORDERED_V1
from dsgit.emulator.ordered_api import V2 as ORDERED_V2

__all__ = ["ROUTES", "Operation", "RateClass", "Route", "entry_identity", "family_of", "match"]


@dataclass(frozen=True)
class RateClass:
    """The budget a request draws from: API (v2, v1, snapshot, configs), store kind, class."""

    api: str
    kind: str
    name: str


@dataclass(frozen=True)
class Operation:
    """One endpoint: ``scopes`` from its ``x-roblox-scopes``; ``any_scope`` when they are
    conditional (v1 set/increment need create or update depending on what exists)."""

    operation_id: str
    family: Family
    handler: Handler
    scopes: tuple[str, ...]
    rate: RateClass
    any_scope: bool = False

    @property
    def keyed(self) -> bool:
        """Reads or writes one standard entry (counted against the per-key throughput)."""
        return (
            self.rate.kind == "standard"
            and self.rate.name in ("read", "write")
            and (self.rate.api in ("v1", "v2"))
        )


@dataclass(frozen=True)
class Route:
    template: str
    strict: re.Pattern[str]
    lenient: re.Pattern[str]
    methods: Mapping[str, Operation]


_LENIENT = {"ds": r"(?P<ds>.+?)", "scope": r"(?P<scope>.+?)", "entry": r"(?P<entry>.+)"}


def _compile(template: str, lenient: bool) -> re.Pattern[str]:
    def group(found: re.Match[str]) -> str:
        name = found.group(1)
        if lenient and name in _LENIENT:
            return _LENIENT[name]
        return rf"(?P<{name}>[^/]+)"

    escaped = re.sub(r"\\\{(\w+)\\\}", group, re.escape(template))
    return re.compile(f"^{escaped}$")


def _route(template: str, methods: dict[str, Operation]) -> Route:
    return Route(template, _compile(template, False), _compile(template, True), methods)


V2 = "/cloud/v2/universes/{u}"
V1 = "/datastores/v1/universes/{u}/standard-datastores"
V1_ORDERED = "/ordered-data-stores/v1/universes/{u}/orderedDataStores/{ds}/scopes/{scope}/entries"
CONFIGS = "/creator-configs-public-api/v1/configs/universes/{u}/repositories/{repo}"
EXPERIMENTS = "/creator-configs-public-api/v1/experimentation/universes/{u}"
# Not Roblox's: the emulator's stand-in for an edit made in Creator Hub or Studio.
CREATOR_HUB = "/_emulator/creator-hub/universes/{u}/repositories/{repo}/draft"
# Not Roblox's: Roblox's automated deletion of one user's data by the published templates.
USER_DATA_REQUESTS = "/_emulator/universes/{u}/user-data-requests"
ANALYTICS = "/analytics-query-api/v1/universes/{u}"

_DS = "universe-datastores"
_ODS = "universe.ordered-data-store.scope.entry"


def _rate(api: str, kind: str, name: str) -> RateClass:
    return RateClass(api, kind, name)


def _v2(op: str, handler: Handler, scopes: tuple[str, ...], name: str) -> Operation:
    return Operation(op, Family.V2, handler, scopes, _rate("v2", "standard", name))


def _v2o(op: str, handler: Handler, scope: str, name: str) -> Operation:
    return Operation(op, Family.V2, handler, (f"{_ODS}:{scope}",), _rate("v2", "ordered", name))


def _v1(
    op: str, handler: Handler, scopes: tuple[str, ...], name: str, *, any_scope: bool = False
) -> Operation:
    rate = _rate("v1", "standard", name)
    return Operation(op, Family.V1_STANDARD, handler, scopes, rate, any_scope)


def _v1o(op: str, handler: Handler, scope: str, name: str) -> Operation:
    rate = _rate("v1", "ordered", name)
    return Operation(op, Family.V1_ORDERED, handler, (f"{_ODS}:{scope}",), rate)


def _cfg(op: str, handler: Handler, scope: str, name: str) -> Operation:
    """A configs operation; ``name`` its budget: ``read`` (100 a minute), ``draft`` (draft
    writes, 50) or ``publish`` (publish and restore, 10)."""
    return Operation(
        f"CreatorConfigsPublicApi_{op}",
        Family.CONFIGS,
        handler,
        (f"universe:{scope}",),
        _rate("configs", "configs", name),
    )


def _exp(op: str, handler: Handler, scope: str, name: str) -> Operation:
    """An experimentation operation: ``read`` (100 a minute) or ``write`` (10)."""
    return Operation(
        f"PublicExperimentation_{op}",
        Family.CONFIGS,
        handler,
        (f"universe:{scope}",),
        _rate("experiments", "experiments", name),
    )


def _entries(scoped: bool) -> list[Route]:
    base = f"{V2}/data-stores/{{ds}}" + ("/scopes/{scope}" if scoped else "")
    on = "Universes_DataStores" if scoped else "Universes"
    one = "Universes_DataStores_Scopes" if scoped else "Universes_DataStores"
    both = (f"{_DS}.objects:create", f"{_DS}.objects:update")
    h = v2_standard
    return [
        _route(
            f"{base}/entries",
            {
                "GET": _v2(
                    f"Cloud_ListDataStoreEntries__Using_{on}",
                    h.list_entries,
                    (f"{_DS}.objects:list",),
                    "list",
                ),
                "POST": _v2(
                    f"Cloud_CreateDataStoreEntry__Using_{on}",
                    h.create_entry,
                    (f"{_DS}.objects:create",),
                    "write",
                ),
            },
        ),
        _route(
            f"{base}/entries/{{entry}}:increment",
            {
                "POST": _v2(
                    f"Cloud_IncrementDataStoreEntry__Using_{one}", h.increment_entry, both, "write"
                )
            },
        ),
        _route(
            f"{base}/entries/{{entry}}:listRevisions",
            {
                "GET": _v2(
                    f"Cloud_ListDataStoreEntryRevisions__Using_{one}",
                    h.list_revisions,
                    (f"{_DS}.versions:list",),
                    "list",
                )
            },
        ),
        _route(
            f"{base}/entries/{{entry}}",
            {
                "GET": _v2(
                    f"Cloud_GetDataStoreEntry__Using_{one}",
                    h.get_entry,
                    (f"{_DS}.objects:read",),
                    "read",
                ),
                "PATCH": _v2(
                    f"Cloud_UpdateDataStoreEntry__Using_{one}",
                    h.update_entry,
                    (f"{_DS}.objects:update",),
                    "write",
                ),
                "DELETE": _v2(
                    f"Cloud_DeleteDataStoreEntry__Using_{one}",
                    h.delete_entry,
                    (f"{_DS}.objects:delete",),
                    "remove",
                ),
            },
        ),
    ]


def _ordered(prefix: str, dialect_ops: str) -> list[Route]:
    if dialect_ops == "v2":
        d, make, ids = (
            ORDERED_V2,
            _v2o,
            {
                "list": "Cloud_ListOrderedDataStoreEntries",
                "create": "Cloud_CreateOrderedDataStoreEntry",
                "get": "Cloud_GetOrderedDataStoreEntry",
                "update": "Cloud_UpdateOrderedDataStoreEntry",
                "delete": "Cloud_DeleteOrderedDataStoreEntry",
                "increment": "Cloud_IncrementOrderedDataStoreEntry",
            },
        )
    else:
        d, make, ids = (
            ORDERED_V1,
            _v1o,
            {
                name: f"OrderedDataStores_{name.capitalize()}Entry"
                for name in ("create", "get", "update", "delete", "increment")
            }
            | {"list": "OrderedDataStores_ListEntries"},
        )
    return [
        _route(
            prefix,
            {
                "GET": make(ids["list"], d.list, "read", "list"),
                "POST": make(ids["create"], d.create, "write", "write"),
            },
        ),
        _route(
            f"{prefix}/{{entry}}:increment",
            {"POST": make(ids["increment"], d.increment, "write", "write")},
        ),
        _route(
            f"{prefix}/{{entry}}",
            {
                "GET": make(ids["get"], d.get, "read", "read"),
                "PATCH": make(ids["update"], d.update, "write", "write"),
                "DELETE": make(ids["delete"], d.delete, "write", "remove"),
            },
        ),
    ]


def _build() -> tuple[Route, ...]:
    h, v1, cfg, exp = v2_standard, v1_standard, configs_api, experiments_api
    conditional = (f"{_DS}.objects:update", f"{_DS}.objects:create", f"{_DS}.control:create")
    entry = f"{V1}/datastore/entries/entry"
    routes = [
        _route(
            f"{V2}/data-stores",
            {
                "GET": _v2(
                    "Cloud_ListDataStores", h.list_data_stores, (f"{_DS}.control:list",), "list"
                )
            },
        ),
        _route(
            f"{V2}/data-stores:snapshot",
            {
                "POST": Operation(
                    "Cloud_SnapshotDataStores",
                    Family.V2,
                    h.snapshot,
                    (f"{_DS}.control:snapshot",),
                    _rate("snapshot", "standard", "all"),
                )
            },
        ),
        _route(
            f"{V2}/data-stores/{{ds}}:undelete",
            {
                "POST": _v2(
                    "Cloud_UndeleteDataStore",
                    h.undelete_data_store,
                    (f"{_DS}.control:delete",),
                    "remove",
                )
            },
        ),
        _route(
            f"{V2}/data-stores/{{ds}}",
            {
                "DELETE": _v2(
                    "Cloud_DeleteDataStore",
                    h.delete_data_store,
                    (f"{_DS}.control:delete",),
                    "remove",
                )
            },
        ),
        *_entries(scoped=True),
        *_entries(scoped=False),
        *_ordered(f"{V2}/ordered-data-stores/{{ds}}/scopes/{{scope}}/entries", "v2"),
        _route(
            V1,
            {
                "GET": _v1(
                    "Datastores_ListDatastoresAsync",
                    v1.list_data_stores,
                    (f"{_DS}.control:list",),
                    "list",
                )
            },
        ),
        _route(
            f"{V1}/datastore/entries",
            {
                "GET": _v1(
                    "Entries_ListKeysAsync", v1.list_entries, (f"{_DS}.objects:list",), "list"
                )
            },
        ),
        _route(
            entry,
            {
                "GET": _v1("Entries_GetEntryAsync", v1.get_entry, (f"{_DS}.objects:read",), "read"),
                "POST": _v1(
                    "Entries_SetEntryAsync", v1.set_entry, conditional, "write", any_scope=True
                ),
                "DELETE": _v1(
                    "Entries_DeleteEntryAsync",
                    v1.delete_entry,
                    (f"{_DS}.objects:delete",),
                    "remove",
                ),
            },
        ),
        _route(
            f"{entry}/increment",
            {
                "POST": _v1(
                    "Entries_IncrementEntryAsync",
                    v1.increment_entry,
                    conditional,
                    "write",
                    any_scope=True,
                )
            },
        ),
        _route(
            f"{entry}/versions",
            {
                "GET": _v1(
                    "Entries_ListEntryVersionsAsync",
                    v1.list_versions,
                    (f"{_DS}.versions:list",),
                    "list",
                )
            },
        ),
        _route(
            f"{entry}/versions/version",
            {
                "GET": _v1(
                    "Entries_GetEntryVersionAsync",
                    v1.get_version,
                    (f"{_DS}.versions:read",),
                    "read",
                )
            },
        ),
        *_ordered(V1_ORDERED, "v1"),
        _route(
            f"{ANALYTICS}/metrics",
            {
                "POST": Operation(
                    "AnalyticsQuery_QueryMetrics",
                    Family.CONFIGS,  # gateway-style 401/403/404; its own envelope otherwise
                    analytics_api.query_metrics,
                    ("universe.analytics:read",),
                    _rate("analytics", "analytics", "all"),
                )
            },
        ),
        _route(CONFIGS, {"GET": _cfg("GetConfigRepositoryValues", cfg.get_values, "read", "read")}),
        _route(
            f"{CONFIGS}/full",
            {"GET": _cfg("GetConfigRepositoryFull", cfg.get_full, "read", "read")},
        ),
        _route(
            f"{CONFIGS}/draft",
            {
                "GET": _cfg("GetConfigRepositoryDraft", cfg.get_draft, "read", "read"),
                "PATCH": _cfg("UpdateDraft", cfg.update_draft, "write", "draft"),
                "DELETE": _cfg("DeleteDraft", cfg.delete_draft, "write", "draft"),
            },
        ),
        _route(
            f"{CONFIGS}/draft:overwrite",
            {"PUT": _cfg("OverwriteDraft", cfg.overwrite_draft, "write", "draft")},
        ),
        _route(
            f"{CONFIGS}/publish", {"POST": _cfg("PublishDraft", cfg.publish, "write", "publish")}
        ),
        _route(
            f"{CONFIGS}/revisions",
            {"GET": _cfg("ListRevisions", cfg.list_revisions, "read", "read")},
        ),
        _route(
            f"{CONFIGS}/revisions/{{rev}}/restore",
            {"POST": _cfg("RestoreRevision", cfg.restore, "write", "publish")},
        ),
        _route(
            f"{EXPERIMENTS}/experiments",
            {
                "GET": _exp("ListExperiments", exp.list_experiments, "read", "read"),
                "POST": _exp("CreateExperiment", exp.create_experiment, "write", "write"),
            },
        ),
        _route(
            f"{EXPERIMENTS}/experiments/{{experiment}}",
            {
                "GET": _exp("GetExperiment", exp.get_experiment, "read", "read"),
                "DELETE": _exp("DiscardExperiment", exp.discard_experiment, "write", "write"),
            },
        ),
        _route(
            f"{EXPERIMENTS}/experiments/{{experiment}}:start",
            {"POST": _exp("StartExperiment", exp.start_experiment, "write", "write")},
        ),
        _route(
            f"{EXPERIMENTS}/experiments/{{experiment}}:complete",
            {"POST": _exp("CompleteExperiment", exp.complete_experiment, "write", "write")},
        ),
        _route(
            f"{EXPERIMENTS}/operations/{{operation}}",
            {"GET": _exp("GetExperimentOperationStatus", exp.get_operation, "read", "read")},
        ),
        _route(
            CREATOR_HUB,
            {
                "POST": Operation(
                    "Emulator_StageDraftFromCreatorHub",
                    Family.CONFIGS,
                    cfg.stage_draft,
                    ("universe:write",),
                    _rate("emulator", "admin", "admin"),
                )
            },
        ),
        _route(
            USER_DATA_REQUESTS,
            {
                "POST": Operation(
                    "Emulator_ApplyUserDataTemplates",
                    Family.V2,
                    rtbf.user_data_request,
                    (f"{_DS}.objects:delete",),
                    _rate("emulator", "admin", "admin"),
                )
            },
        ),
    ]
    return tuple(routes)


ROUTES = _build()


def family_of(path: str) -> Family:
    """The error model of whatever API ``path`` points into (for 404s of unknown paths)."""
    if path.startswith("/datastores/"):
        return Family.V1_STANDARD
    if path.startswith("/ordered-data-stores/"):
        return Family.V1_ORDERED
    if path.startswith(("/creator-configs-public-api/", "/_emulator/", "/analytics-query-api/")):
        return Family.CONFIGS
    return Family.V2


def _decode(groups: dict[str, str]) -> dict[str, str]:
    decoded = {}
    for name, raw in groups.items():
        try:
            decoded[name] = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            raise invalid(f"path parameter {name} is not valid UTF-8") from None
    return decoded


def entry_identity(
    operation: Operation, params: Mapping[str, str], query: Mapping[str, str]
) -> tuple[str, str, str]:
    """(store, scope, key) a keyed operation addresses, as given (before validation)."""
    if operation.rate.api == "v1":
        return (
            query.get("datastoreName", ""),
            query.get("scope") or "global",
            query.get("entryKey", ""),
        )
    key = params.get("entry", query.get("id", ""))
    if operation.rate.name == "read" and "@" in key:
        key = key.rpartition("@")[0]
    return params.get("ds", ""), params.get("scope") or "global", key


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving ``path`` (one with ``method`` if any) and its decoded parameters."""
    fallback: tuple[Route, dict[str, str]] | None = None
    for attempt in ("strict", "lenient"):
        for route in ROUTES:
            pattern = route.strict if attempt == "strict" else route.lenient
            found = pattern.match(path)
            if found is None:
                continue
            if method in route.methods:
                return route, _decode(found.groupdict())
            if fallback is None:
                fallback = route, _decode(found.groupdict())
        if fallback is not None:
            return fallback
    return None
