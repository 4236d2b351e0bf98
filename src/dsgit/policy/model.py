"""The approvals policy and approvals as frozen values (DESIGN.md §5).

A :class:`Policy` is read from ``policies/approvals.yaml`` by :mod:`dsgit.policy.parse`; an
:class:`Approval` comes from a source (a signed file or text block, a GitHub review). Neither
is trusted: :func:`dsgit.policy.evaluate.evaluate` decides which approvals count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "DEFAULT_DESTRUCTIVE_MIN",
    "DEFAULT_MAX_AGE",
    "DEFAULT_PROTECTED_MIN",
    "NO_POLICY_DIGEST",
    "Approval",
    "ApprovalKind",
    "Approver",
    "ChangeClass",
    "EvaluationContext",
    "Policy",
    "Rule",
]

DEFAULT_MAX_AGE = timedelta(days=7)
DEFAULT_PROTECTED_MIN = 1
DEFAULT_DESTRUCTIVE_MIN = 2
# What a plan records when the repository has no policies/approvals.yaml.
NO_POLICY_DIGEST = "none"


class ChangeClass(StrEnum):
    """What kind of change a rule covers; computed from the plan, never read from it."""

    ANY = "any"
    DESTRUCTIVE = "destructive"
    ERASURE = "erasure"
    CONFIGS = "configs"


class ApprovalKind(StrEnum):
    """Where an approval came from."""

    SIGNATURE = "signature"
    GITHUB_REVIEW = "github-review"


@dataclass(frozen=True)
class Approver:
    """A person who may approve: ``key`` is ``ed25519:<base64 raw public key>``; ``emails`` are
    the git identities that make them an author of a commit (for the self-approval rule)."""

    name: str
    github: str | None = None
    key: str | None = None
    emails: tuple[str, ...] = ()

    def identities(self) -> frozenset[str]:
        """Lower-cased names this person is known by in git, GitHub and the policy."""
        found = {self.name.lower(), *(email.lower() for email in self.emails)}
        if self.github:
            found.add(self.github.lower())
        return frozenset(found)


@dataclass(frozen=True)
class Rule:
    """Which plans need whose approvals: environments and address globs (fnmatch), change
    classes, how many distinct people, and from whom (approver or group names; empty: any)."""

    name: str
    environments: tuple[str, ...] = ("*",)
    addresses: tuple[str, ...] = ("*",)
    classes: tuple[ChangeClass, ...] = (ChangeClass.ANY,)
    min_approvals: int = 1
    from_: tuple[str, ...] = ()
    implicit: bool = False  # one of the built-in rules of protected environments


@dataclass(frozen=True)
class Policy:
    """``policies/approvals.yaml``. ``digest`` is ``sha256:<hex>`` of its canonical content (or
    :data:`NO_POLICY_DIGEST` when the repository has none)."""

    approvers: tuple[Approver, ...] = ()
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    max_age: timedelta = DEFAULT_MAX_AGE
    protected_min_approvals: int = DEFAULT_PROTECTED_MIN
    destructive_min_approvals: int = DEFAULT_DESTRUCTIVE_MIN
    allow_self_approval: bool = False  # for one-person projects; off by default (DESIGN §5)
    digest: str = NO_POLICY_DIGEST
    source: str = "policies/approvals.yaml"

    def approver(self, name: str) -> Approver | None:
        for person in self.approvers:
            if person.name == name:
                return person
        return None

    def approver_by_github(self, login: str) -> Approver | None:
        for person in self.approvers:
            if person.github is not None and person.github.lower() == login.lower():
                return person
        return None

    def approver_by_key(self, key: str) -> Approver | None:
        for person in self.approvers:
            if person.key == key:
                return person
        return None

    def members(self, names: tuple[str, ...]) -> frozenset[str]:
        """Approver names behind a rule's ``from`` (groups expanded)."""
        found: set[str] = set()
        for name in names:
            if name in self.groups:
                found.update(self.groups[name])
            else:
                found.add(name)
        return frozenset(found)


@dataclass(frozen=True)
class Approval:
    """One claimed approval of a plan, not yet judged.

    ``approver`` is the policy name the signer claims (signatures) or the reviewer's GitHub
    login (reviews). ``reference`` identifies it in the ledger: ``sha256:…`` of the signed
    document, or ``github-review:<id>``. ``problems`` are reasons the source already found why
    it cannot count (GitHub's rules); an approval with problems never counts.
    """

    kind: ApprovalKind
    approver: str
    digest: str
    environment: str
    universe_id: int
    time: datetime
    reference: str
    origin: str
    key: str | None = None
    signature: str | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvaluationContext:
    """What evaluation needs besides the plan, approvals and policy.

    ``protected``: the environment is protected. ``authors``: lower-cased identities (GitHub
    logins, emails, names) of the plan's author and the authors, committers and co-authors of
    its commits; they cannot approve. ``policy_digest``: the digest the plan recorded, to refuse
    a policy changed after the plan. ``source_errors``: approval sources that could not be read
    (fail closed: their approvals are absent, and the verdict says why).
    """

    now: datetime
    protected: bool
    authors: frozenset[str] = frozenset()
    plan_policy_digest: str | None = None
    source_errors: tuple[str, ...] = ()
    clock_skew: timedelta = timedelta(minutes=5)
