"""Experience Configs repositories (DESIGN.md §13): ``configs/<repository>.yaml``.

A publish covers the whole repository, so a repository is ONE planned resource, addressed
``configs:<repository>/publish``. Its value is the whole repository as JSON::

    {"entries": {key: {"value": v, "description": d, "conditional": {rule id: v}}},
     "rules": {rule id: definition}, "rulesOrder": [rule id, ...],
     "deploymentStrategy": "Immediate" | "GradualRollout"}

so the plan's diff lines are per key (``/entries/<key>/value``, ``…/description``), per
conditional value (``/entries/<key>/conditional/<rule>``), per rule and for the rules order.
The strategy is how a publish is made, not state Roblox keeps: the live side takes the declared
one (a strategy alone never makes a change) and DSP063 says which strategy the publish uses.

Precondition: :class:`~dsgit.plan.model.ConfigsPrecondition` (the published ``configVersion``
and the draft hash the plan saw). Execution, one repository at a time:

1. read the published repository and the draft: a ``configVersion`` moved or a draft staged
   since the plan is a conflict, nothing written; so is a key the plan changes that a running
   experiment now locks;
2. journal the intent (pre-image: the published repository), overwrite the draft with the
   WHOLE repository including its conditional rules, check the returned hash names a draft
   holding exactly that, journal the hash;
3. publish with that ``draftHash``, the plan's commit as message and the strategy.

A resumed run tells from the live state where it stopped: published already (the version moved
by one to exactly the planned contents) → done, never a second publish; our draft still staged
(its hash journaled, or its contents exactly ours) → publish it; anything else → a conflict.
The ledger's ``revision_id`` of a configs change is the ``configVersion`` before and after.

``DataStoresConfig`` is declared by ``policies/erasure.yaml`` (its ``user_data_templates``), and
dsgit owns only that key of it (:data:`OWNED_KEYS`): the repository's other keys and its
conditional rules are not dsgit's. Everything here reads such a repository through
:func:`managed_part` (the live value, pre-images and the ledger's digests hold only the owned
keys), and a publish overwrites the draft with :func:`merged_contents`: the live repository with
the owned keys replaced, so nothing dsgit does not own is ever wiped (DSP065 names what is kept).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dsgit.erasure.policy import TEMPLATES_KEY, TEMPLATES_REPOSITORY, templates_change
from dsgit.errors import DsgitError, RunFatal
from dsgit.ledger.records import ChangeOutcome, EntryState
from dsgit.model.configs import CONFIGS, ConfigsDeclaration
from dsgit.model.declaration import DeclaredEntry, StoreDeclaration, StorePolicy
from dsgit.model.entry import Address, EntryData, JSONValue, LiveEntry, StoreKind
from dsgit.model.layout import CONFIGS_DIR
from dsgit.model.overrides import EnvironmentOverride
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.desired import DesiredEntry
from dsgit.plan.digest import entry_digest
from dsgit.plan.live import ScopeListing
from dsgit.plan.model import ConfigsPrecondition, Diagnostic
from dsgit.planning.reading import Reading, read_failure
from dsgit.remote.configs_api import (
    ConfigContents,
    ConfigDraft,
    ConfigEntry,
    ConfigsApi,
    DeploymentStrategy,
    DraftChanged,
    PublishedConfig,
    RuleSet,
)

if TYPE_CHECKING:
    from dsgit.apply.execute import ChangeExecutor
    from dsgit.apply.result import ChangeResult
    from dsgit.apply.step import Step
    from dsgit.plan.live import LiveValue
    from dsgit.remote.api import OpenCloudApi
    from dsgit.repo.loader import RepositoryReader

__all__ = [
    "KIND",
    "OWNED_KEYS",
    "PUBLISH_KEY",
    "ConfigsKind",
    "address_of",
    "contents_of",
    "locked_changes",
    "managed_part",
    "merged_contents",
    "removed_keys",
    "value_of",
]

PUBLISH_KEY = "publish"  # the one address of a repository: configs:<repository>/publish
STRATEGY = "deploymentStrategy"
DESCRIPTIONS = "descriptions"
# Members of the planned value a publish does not write: how it publishes, and descriptions
# (the configs API has no field for them; Creator Hub sets them).
NOT_PUBLISHED = (STRATEGY, DESCRIPTIONS)
EXPERIMENT_LOCKED_REPOSITORY = "InExperienceConfig"  # experiments lock keys of this one only
# Repositories dsgit owns only some keys of (the rest, and their conditional rules, stay as live
# has them); every other repository is dsgit's whole.
OWNED_KEYS: Mapping[str, frozenset[str]] = {TEMPLATES_REPOSITORY: frozenset({TEMPLATES_KEY})}


def address_of(repository: str) -> Address:
    return Address(CONFIGS, repository, "", PUBLISH_KEY)


# --- the repository as one JSON value ------------------------------------------------------------


def _entry_json(value: JSONValue, variants: Mapping[str, JSONValue]) -> JSONValue:
    found: dict[str, JSONValue] = {"value": value}
    if variants:
        found["conditional"] = dict(variants)
    return found


def declared_value(declaration: ConfigsDeclaration) -> dict[str, JSONValue]:
    """The repository ``declaration`` declares, as the planned value."""
    entries: dict[str, JSONValue] = {
        key: _entry_json(entry.value, entry.conditional)
        for key, entry in sorted(declaration.entries.items())
    }
    descriptions: dict[str, JSONValue] = {
        key: entry.description
        for key, entry in sorted(declaration.entries.items())
        if entry.description
    }
    return {
        "entries": entries,
        "rules": {condition.id: condition.rule for condition in declaration.conditions},
        "rulesOrder": list(declaration.condition_ids),
        STRATEGY: declaration.strategy.value,
        DESCRIPTIONS: descriptions,
    }


def value_of(contents: ConfigContents, declared: JSONValue = None) -> dict[str, JSONValue]:
    """A repository's live contents as the planned value; the members no publish writes (the
    strategy, descriptions) are taken from ``declared`` (the planned value), so they never
    make a change (Immediate and none without one)."""
    entries: dict[str, JSONValue] = {
        key: _entry_json(entry.value, entry.variants)
        for key, entry in sorted(contents.entries.items())
    }
    found: dict[str, JSONValue] = {
        "entries": entries,
        "rules": dict(contents.rules.rules),
        "rulesOrder": list(contents.rules.order),
        STRATEGY: DeploymentStrategy.IMMEDIATE.value,
        DESCRIPTIONS: {},
    }
    if isinstance(declared, dict):
        found.update({name: declared[name] for name in NOT_PUBLISHED if name in declared})
    return found


def managed_part(repository: str, value: dict[str, JSONValue]) -> dict[str, JSONValue]:
    """The part of a repository's planned ``value`` dsgit manages: all of it, except for a
    repository of :data:`OWNED_KEYS`, where only the owned keys (no conditional rules)."""
    owned = OWNED_KEYS.get(repository)
    if owned is None:
        return value
    found = dict(value)
    found["entries"] = {key: item for key, item in _entries(value).items() if key in owned}
    found["rules"] = {}
    found["rulesOrder"] = []
    return found


def _live_value(
    repository: str, contents: ConfigContents, declared: JSONValue = None
) -> dict[str, JSONValue]:
    return managed_part(repository, value_of(contents, declared))


def kept_keys(repository: str, contents: ConfigContents) -> tuple[str, ...]:
    """Live keys of ``repository`` that are not dsgit's (kept as they are by every publish)."""
    owned = OWNED_KEYS.get(repository)
    if owned is None:
        return ()
    return tuple(sorted(key for key in contents.entries if key not in owned))


def merged_contents(repository: str, live: ConfigContents, value: JSONValue) -> ConfigContents:
    """What the draft is overwritten with to publish ``value``: for a repository of
    :data:`OWNED_KEYS`, the ``live`` repository (its other keys and its conditional rules)
    with the owned keys made ``value``'s (an owned key ``value`` lacks is removed); for any
    other repository, ``value`` whole."""
    target = contents_of(value)
    owned = OWNED_KEYS.get(repository)
    if owned is None:
        return target
    entries = {key: entry for key, entry in live.entries.items() if key not in owned}
    entries.update({key: entry for key, entry in target.entries.items() if key in owned})
    return ConfigContents(entries, live.rules)


def live_descriptions(contents: ConfigContents) -> dict[str, str]:
    return {key: e.description for key, e in sorted(contents.entries.items()) if e.description}


def contents_of(value: JSONValue) -> ConfigContents:
    """Invert :func:`value_of`: what the draft is overwritten with (rules included)."""
    if not isinstance(value, dict):
        raise ValueError("a configs repository's planned value is an object")
    entries: dict[str, ConfigEntry] = {}
    raw_entries = value.get("entries")
    for key, raw in (raw_entries if isinstance(raw_entries, dict) else {}).items():
        if not isinstance(raw, dict):
            raise ValueError(f"configs entry {key!r} is not an object")
        variants = raw.get("conditional")
        entries[key] = ConfigEntry(
            raw.get("value"), variants=dict(variants) if isinstance(variants, dict) else {}
        )
    rules = value.get("rules")
    order = value.get("rulesOrder")
    return ConfigContents(
        entries,
        RuleSet(
            dict(rules) if isinstance(rules, dict) else {},
            tuple(str(rule) for rule in order) if isinstance(order, list) else (),
        ),
    )


def _strategy(value: JSONValue) -> DeploymentStrategy:
    raw = value.get(STRATEGY) if isinstance(value, dict) else None
    return (
        DeploymentStrategy(raw) if raw in set(DeploymentStrategy) else DeploymentStrategy.IMMEDIATE
    )


def _entries(value: JSONValue) -> Mapping[str, JSONValue]:
    found = value.get("entries") if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def removed_keys(live: JSONValue, desired: JSONValue) -> tuple[str, ...]:
    """Published keys the desired repository no longer has."""
    return tuple(sorted(set(_entries(live)) - set(_entries(desired))))


def changed_keys(live: JSONValue, desired: JSONValue) -> tuple[str, ...]:
    """Keys whose value, description or conditional values differ (added and removed too)."""
    before, after = _entries(live), _entries(desired)
    return tuple(sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)))


def locked_changes(
    repository: str, live: JSONValue, desired: JSONValue, locked: Mapping[str, Any]
) -> tuple[str, ...]:
    """Keys the change touches that a running experiment locks."""
    if repository != EXPERIMENT_LOCKED_REPOSITORY:
        return ()
    return tuple(key for key in changed_keys(live, desired) if key in locked)


def _same(a: JSONValue, b: JSONValue) -> bool:
    """The same published contents (what a publish writes)."""
    return _published_part(a) == _published_part(b)


def _published_part(value: JSONValue) -> JSONValue:
    if isinstance(value, dict):
        return {name: item for name, item in value.items() if name not in NOT_PUBLISHED}
    return value


def staged_contents(published: ConfigContents, draft: ConfigDraft) -> ConfigContents:
    """What publishing ``draft`` would make of ``published`` (the draft holds differences)."""
    entries = dict(published.entries)
    for key, value in draft.values.items():
        if value is None:
            entries.pop(key, None)
        else:
            base = entries.get(key, ConfigEntry(None))
            entries[key] = ConfigEntry(value, base.description, base.variants)
    for (key, rule), value in draft.variants.items():
        old = entries.get(key)
        if old is None:
            continue
        variants = dict(old.variants)
        if value is None:
            variants.pop(rule, None)
        else:
            variants[rule] = value
        entries[key] = ConfigEntry(old.value, old.description, variants)
    for key, description in draft.descriptions.items():
        known = entries.get(key)
        if known is not None:
            entries[key] = ConfigEntry(known.value, description, known.variants)
    rules = draft.rules if draft.rules is not None else published.rules
    return ConfigContents(entries, rules)


def _live_entry(
    repository: str, published: PublishedConfig, draft_hash: str, declared: JSONValue
) -> LiveEntry:
    value = _live_value(repository, published.contents, declared)
    version = str(published.version)
    return LiveEntry(repository, "", PUBLISH_KEY, value, {}, (), draft_hash, version, "", "")


# --- live reads --------------------------------------------------------------------------------


def _read_repository(
    api: ConfigsApi, reading: Reading, repository: str, want: DesiredEntry
) -> None:
    address = want.address
    label = f"{CONFIGS.value}:{repository}"
    try:
        published = api.read_published(repository)
        draft = api.read_draft(repository)
        locked = api.locked_keys() if repository == EXPERIMENT_LOCKED_REPOSITORY else {}
    except RunFatal:
        raise
    except DsgitError as exc:
        reading.requested.add(address)
        reading.diagnostics.append(read_failure(f"reading configs repository {repository}", exc, 1))
        return
    desired = want.data.value
    strategy = _strategy(desired).value
    live = _live_entry(repository, published, draft.draft_hash, desired)
    reading.listings[(CONFIGS, repository, "")] = ScopeListing(
        ok=True, keys=frozenset({PUBLISH_KEY})
    )
    reading.entries[address] = live

    def found(code: DiagnosticCode, message: str) -> None:
        reading.diagnostics.append(
            diagnostic(code, message, address=str(address), file=want.file, line=want.line)
        )

    declared = desired.get(DESCRIPTIONS) if isinstance(desired, dict) else None
    written = live_descriptions(published.contents)
    for key in sorted(set(declared if isinstance(declared, dict) else {}) | set(written)):
        mine = declared.get(key) if isinstance(declared, dict) else None
        if key in _entries(desired) and mine != written.get(key):
            found(
                DiagnosticCode.CONFIGS_DESCRIPTION_NOT_PUBLISHED,
                f"{label}: the description of {key!r} differs from Creator Hub's "
                f"({_shown(written.get(key))} live, {_shown(mine)} declared); a publish "
                "cannot change it",
            )
    if _same(live.value, desired):
        return
    if draft.staged:
        keys = ", ".join(sorted(draft.keys)) or "the conditional rules"
        found(
            DiagnosticCode.CONFIGS_DRAFT_STAGED,
            f"{label}: a draft is staged (Creator Hub or Studio) changing {keys}; "
            "apply would overwrite it with the whole repository",
        )
    for key in locked_changes(repository, live.value, desired, locked):
        experiment = locked[key]
        found(
            DiagnosticCode.CONFIGS_KEY_LOCKED,
            f"{label}: key {key!r} is locked by the running experiment "
            f"{experiment.name!r} ({experiment.id}); the plan changes it",
        )
    for key in removed_keys(live.value, desired):
        found(
            DiagnosticCode.CONFIGS_KEY_REMOVED,
            f"{label}: removes the published key {key!r}; "
            + (
                "Roblox stops deleting what it described on right-to-erasure requests"
                if key == TEMPLATES_KEY
                else "game code reading it gets nil"
            ),
        )
    if repository in OWNED_KEYS:
        _owned_only(repository, published.contents, live.value, desired, found)
    found(
        DiagnosticCode.CONFIGS_PUBLISH,
        f"{label}: publishes configVersion {published.version + 1} (now "
        f"{published.version}) with deployment strategy {strategy}",
    )


def _owned_only(
    repository: str,
    contents: ConfigContents,
    live: JSONValue,
    desired: JSONValue,
    found: Callable[[DiagnosticCode, str], None],
) -> None:
    """DSP066 (the templates added and removed) and DSP065 (the keys kept) of a repository
    dsgit owns only some keys of."""
    label = f"{CONFIGS.value}:{repository}"
    before = _entries(live).get(TEMPLATES_KEY)
    after = _entries(desired).get(TEMPLATES_KEY)
    change = templates_change(
        before.get("value") if isinstance(before, dict) else None,
        after.get("value") if isinstance(after, dict) else None,
    )
    if change is not None:
        found(DiagnosticCode.CONFIGS_TEMPLATES, f"{label}: {TEMPLATES_KEY} {change}")
    kept = kept_keys(repository, contents)
    rules = len(contents.rules.rules)
    what = []
    if kept:
        shown = ", ".join(repr(key) for key in kept[:5]) + (", …" if len(kept) > 5 else "")
        what.append(f"{len(kept)} key(s) ({shown})")
    if rules:
        what.append(f"{rules} conditional rule(s)")
    if what:
        found(
            DiagnosticCode.CONFIGS_KEYS_KEPT,
            f"{label}: keeps {' and '.join(what)} dsgit does not own as they are live "
            f"(policies/erasure.yaml declares {TEMPLATES_KEY} only)",
        )


def _shown(description: JSONValue) -> str:
    return repr(description) if isinstance(description, str) else "none"


def _read_live(api: ConfigsApi, reading: Reading) -> None:
    for address, want in sorted(reading.desired.entries.items()):
        if address.kind is not CONFIGS or not isinstance(want, DesiredEntry):
            continue
        if reading.select.selects(address):
            _read_repository(api, reading, address.store, want)


# --- execution ---------------------------------------------------------------------------------


def _state(repository: str, published: PublishedConfig, draft_hash: str | None) -> EntryState:
    """A repository's state for the journal and the ledger: ``revision_id`` is the
    ``configVersion``; the digest is over the managed contents (any strategy: Immediate)."""
    value = _live_value(repository, published.contents)
    return EntryState(True, draft_hash, str(published.version), entry_digest(EntryData(value)))


def _execute(
    run: ChangeExecutor, api: ConfigsApi, step: Step, intent: Mapping[str, Any] | None
) -> ChangeResult:
    change = step.change
    repository = change.address.store
    if step.data is None:
        return run.refuse(step, "a configs repository is never deleted, only published")
    desired = step.data.value
    strategy = _strategy(desired)
    published = api.read_published(repository)
    draft = api.read_draft(repository)
    before = _state(repository, published, draft.draft_hash)
    live_value = _live_value(repository, published.contents, desired)
    pre = change.precondition
    planned = pre.config_version if isinstance(pre, ConfigsPrecondition) else 0
    seen = pre.draft_hash if isinstance(pre, ConfigsPrecondition) else None
    if intent is not None:
        earlier = EntryState.from_json(intent["before"])
        if _same(live_value, desired):  # the interrupted publish landed
            return run.done(step, ChangeOutcome.WRITTEN, earlier, before, "resumed: published")
        if published.version != int(earlier.revision_id or 0):
            return run.conflict(
                step,
                before,
                f"published by someone else meanwhile (configVersion now "
                f"{published.version}); not published again. Plan again",
            )
        journaled = intent.get("draft_hash")
        landed = journaled is None and _same(
            _live_value(repository, staged_contents(published.contents, draft)), desired
        )
        if journaled == draft.draft_hash or landed:  # our draft is staged: publish it
            return _publish(run, api, step, earlier, draft.draft_hash, strategy, dict(intent))
        if journaled is not None or draft.draft_hash != seen:
            return run.conflict(
                step, before, "the draft was changed after an interrupted apply; not published"
            )
        # killed before the draft write landed: write it now, as a first run would
    if _same(live_value, desired):
        return run.already_planned(step, intent, before, before)
    if published.version != planned:
        return run.conflict(
            step,
            before,
            f"published since the plan (configVersion {published.version}, "
            f"planned against {planned}); nothing written. Plan again",
        )
    if isinstance(pre, ConfigsPrecondition) and draft.draft_hash != seen:
        return run.conflict(
            step,
            before,
            "a draft was staged since the plan (Creator Hub or Studio); nothing "
            "written. Plan again",
        )
    if repository == EXPERIMENT_LOCKED_REPOSITORY:
        locked = locked_changes(repository, live_value, desired, api.locked_keys())
        if locked:
            return run.conflict(
                step,
                before,
                f"locked by a running experiment since the plan: "
                f"{', '.join(locked)}; nothing written",
            )
    preimage = run.record_intent(
        step, True, EntryData(_live_value(repository, published.contents)), before
    )
    target = merged_contents(repository, published.contents, desired)
    try:
        written = api.overwrite_draft(repository, target, draft_hash=draft.draft_hash)
    except DraftChanged:
        return run.conflict(step, before, "the draft changed while applying; nothing written")
    now = api.read_draft(repository)
    staged = _live_value(repository, staged_contents(published.contents, now))
    if now.draft_hash != written or not _same(staged, desired):
        return run.conflict(
            step,
            before,
            "the draft is not what was written (changed right after the write?); not published",
        )
    return _publish(run, api, step, before, written, strategy, {"preimage": preimage})


def _publish(
    run: ChangeExecutor,
    api: ConfigsApi,
    step: Step,
    before: EntryState,
    draft_hash: str,
    strategy: DeploymentStrategy,
    intent: dict[str, Any],
) -> ChangeResult:
    repository = step.change.address.store
    if intent.get("draft_hash") != draft_hash:
        # journal the draft's hash (and again the pre-image) before publishing: a resume
        # publishes this draft only
        extra = {"preimage": intent["preimage"]} if "preimage" in intent else {}
        run.intent(step, before=before.to_json(), draft_hash=draft_hash, **extra)
    try:
        version = api.publish(repository, draft_hash, run.message, strategy)
    except DraftChanged:
        return run.conflict(step, before, "the draft changed before the publish; not published")
    after = EntryState(True, None, str(version), step.after_digest)
    published = api.read_published(repository)
    if published.version == version:
        after = _state(repository, published, None)
    return run.done(step, ChangeOutcome.WRITTEN, before, after, f"configVersion {version}")


def _overrides(declaration: ConfigsDeclaration) -> dict[str, EnvironmentOverride]:
    """Each key's ``environments:`` merge patches as one merge patch of the repository value
    per environment (``{"entries": {key: {"value": patch}}}`` patches exactly that value)."""
    patches: dict[str, dict[str, JSONValue]] = {}
    for key, entry in sorted(declaration.entries.items()):
        for environment, patch in entry.environments.items():
            patches.setdefault(environment, {})[key] = {"value": patch}
    return {
        environment: EnvironmentOverride({"entries": keys}, has_patch=True)
        for environment, keys in patches.items()
    }


# --- the kind --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigsKind:
    """Experience Configs repositories (see the module's docstring)."""

    name: StoreKind = CONFIGS
    directory: str = CONFIGS_DIR

    def load(self, loader: RepositoryReader) -> Iterator[StoreDeclaration]:
        for repository, declaration in sorted(loader.configs().items()):
            address = address_of(repository)
            data = EntryData(declared_value(declaration))
            entry = DeclaredEntry(
                address, data, declaration.file, 1, environments=_overrides(declaration)
            )
            yield StoreDeclaration(
                CONFIGS, repository, StorePolicy(), {("", PUBLISH_KEY): entry}, declaration.file
            )

    def read_live(self, api: OpenCloudApi, reading: Reading) -> None:
        _read_live(api, reading)

    def read_current(
        self, api: OpenCloudApi, addresses: Sequence[Address], into: dict[Address, LiveValue | None]
    ) -> Diagnostic | None:
        for address in addresses:
            try:
                published = api.read_published(address.store)
                draft = api.read_draft(address.store)
            except RunFatal:
                raise
            except DsgitError as exc:
                missing = sum(1 for a in addresses if a not in into)
                return read_failure("reading configs repositories", exc, missing)
            # as pre-images hold it: an undo publishes at once, descriptions stay Creator Hub's
            into[address] = _live_entry(address.store, published, draft.draft_hash, None)
        return None

    def execute(
        self, run: ChangeExecutor, step: Step, intent: Mapping[str, Any] | None
    ) -> ChangeResult:
        return _execute(run, run.api, step, intent)


KIND = ConfigsKind()
