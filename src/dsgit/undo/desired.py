"""The desired side of undo plans: what each address should hold again, and under what policy.

Undo writes back what was there, whoever owns the store: a restore rewrites ``observed`` player
data. So every undo policy is the store's policy (schema, sensitive and encrypted pointers,
suppressions, key overrides) made ``owned``, without prune or counters. Deleting is the one
thing ownership still decides: a ``seed`` or ``observed`` entry is never deleted by an undo
plan (:func:`kept_ownership`; a DSP046 note instead), because once created it belongs to the
game servers, which may have filled it with player data since.

Values read from pre-images or revisions are plaintext. Those with ``sensitive`` or
``encrypted`` nodes are sealed: each such node becomes an ``ENC[...]`` token of the keyring's
primary key, bound to the entry's address and pointer (exactly what an encrypted declared value
looks like), so the plan file holds no plaintext and apply decrypts them just before writing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from dsgit.crypto import Keyring, encrypt_paths, plaintext_paths
from dsgit.model.declaration import Declaration, KeyOverride, Ownership, StorePolicy, Suppression
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.desired import DesiredEntry, StoreSpec
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import Diagnostic

__all__ = [
    "WHOLE_VALUE",
    "desired_entry",
    "kept_note",
    "kept_ownership",
    "store_spec",
    "undo_policy",
]

WHOLE_VALUE = ""  # the JSON pointer of a whole value: used for pre-images sealed as a whole

# Last override, so it wins over the store's own overrides for every key.
_UNDO_OVERRIDE = KeyOverride("*", {"ownership": Ownership.OWNED, "prune": False, "counters": ()})


def _store_policy(declaration: Declaration | None, kind: StoreKind, store: str) -> StorePolicy:
    if declaration is None:
        return StorePolicy()
    found = declaration.stores.get((kind, store))
    return found.policy if found is not None else StorePolicy()


def store_spec(
    declaration: Declaration | None,
    kind: StoreKind,
    store: str,
    scopes: Iterable[str] = (),
) -> StoreSpec:
    """The spec an undo plan gives a store: its policy, owned, no prune, no counters."""
    policy = _store_policy(declaration, kind, store)
    policy = replace(
        policy,
        ownership=Ownership.OWNED,
        prune=False,
        counters=(),
        overrides=(*policy.overrides, _UNDO_OVERRIDE),
    )
    found = declaration.stores.get((kind, store)) if declaration is not None else None
    return StoreSpec(kind, store, policy, tuple(sorted(set(scopes))), found.file if found else None)


def kept_ownership(
    declarations: Iterable[Declaration | None], address: Address
) -> Ownership | None:
    """``seed`` or ``observed`` when any of ``declarations`` gives ``address`` that ownership
    (the entry must not be deleted by an undo plan); None when all make it owned."""
    for declaration in declarations:
        if declaration is None:
            continue
        found = declaration.stores.get((address.kind, address.store))
        if found is None:
            continue
        ownership = found.policy.for_key(address.key).ownership
        if ownership is not Ownership.OWNED:
            return ownership
    return None


def kept_note(address: Address, ownership: Ownership, why: str) -> Diagnostic:
    """DSP046: the undo plan leaves this entry live instead of deleting it."""
    return diagnostic(
        DiagnosticCode.UNDO_KEEPS_SEED_OR_OBSERVED,
        f"{address}: {why}, but it is a {ownership.value} entry: not deleted (undo plans never "
        "delete seed or observed entries)",
        address=str(address),
    )


def undo_policy(declaration: Declaration | None, address: Address) -> StorePolicy:
    """The effective policy of one address in an undo plan."""
    return store_spec(declaration, address.kind, address.store).policy.for_key(address.key)


def desired_entry(
    address: Address,
    data: EntryData,
    policy: StorePolicy,
    keyring: Keyring | None,
    *,
    sealed_whole: bool = False,
    suppress: tuple[Suppression, ...] = (),
) -> DesiredEntry:
    """``data`` (plaintext) as the desired state of ``address``, sealed where it must be.

    ``sealed_whole``: the value must be hidden as a whole (a pre-image that was stored
    encrypted for a store the current declaration no longer marks sensitive).
    """
    hidden = {*policy.sensitive, *policy.encrypted}
    if sealed_whole:
        hidden = {WHOLE_VALUE}
    patterns = tuple(sorted(hidden))
    if address.kind is StoreKind.ORDERED or not patterns:
        return DesiredEntry(address, data, policy, suppress=suppress)
    if not plaintext_paths(data.value, patterns):
        return DesiredEntry(address, data, replace(policy, encrypted=patterns), suppress=suppress)
    # Every hidden node is carried as ciphertext: "encrypted" keeps planning from replacing the
    # tokens with sensitive placeholders (which apply would resolve from the declaration).
    policy = replace(policy, sensitive=patterns, encrypted=patterns)
    if keyring is None:
        masked = EntryData(PointerPatterns(patterns).mask(data.value), data.attributes, data.users)
        problem = diagnostic(
            DiagnosticCode.ENCRYPTED_UNCOMPARABLE,
            f"{address}: the value to write back holds sensitive values and no encryption key "
            "is available to carry them in the plan",
            address=str(address),
        )
        return DesiredEntry(address, masked, policy, suppress=suppress, problem=problem)
    sealed = encrypt_paths(data.value, patterns, keyring.primary, address)
    return DesiredEntry(
        address,
        EntryData(sealed, data.attributes, data.users),
        policy,
        plain=data,
        suppress=suppress,
    )
