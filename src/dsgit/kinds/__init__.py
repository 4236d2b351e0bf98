"""The resource kinds dsgit manages, one module each, and the registry that names them.

A new kind is a module here (its layout, parsing, live reads, precondition, execution and
undo; see :class:`dsgit.kinds.base.ResourceKind`) plus one ``register`` line below.
"""

from __future__ import annotations

from dsgit.kinds.base import ResourceKind
from dsgit.model.entry import StoreKind

__all__ = ["ResourceKind", "kind_of", "register", "registered"]

_KINDS: dict[StoreKind, ResourceKind] = {}


def register(kind: ResourceKind) -> ResourceKind:
    """Make ``kind`` known to the loader, the reader and the executor (once per name)."""
    known = _KINDS.get(kind.name)
    if known is not None and known is not kind:
        raise ValueError(f"a resource kind named {kind.name.value!r} is registered already")
    _KINDS[kind.name] = kind
    return kind


def unregister(kind: ResourceKind) -> None:
    """Forget ``kind`` (tests that register a kind of their own clean up with this)."""
    if _KINDS.get(kind.name) is kind:
        del _KINDS[kind.name]


def kind_of(name: StoreKind) -> ResourceKind:
    """The registered kind called ``name``. Raises ``ValueError`` for an unknown one."""
    try:
        return _KINDS[name]
    except KeyError:
        raise ValueError(f"no resource kind {name.value!r} is registered") from None


def registered() -> tuple[ResourceKind, ...]:
    """Every registered kind, in registration order (the order files are loaded and read)."""
    return tuple(_KINDS.values())


from dsgit.kinds import configs, ordered, standard  # noqa: E402  (the kinds import this module's names)

register(standard.KIND)
register(ordered.KIND)
register(configs.KIND)
