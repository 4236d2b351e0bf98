"""Validation problems and the catalogue of their stable codes (docs/validation-codes.md).

Every problem names a repository-relative file (POSIX separators), a 1-based line and column
when known, a code and a message. Messages never hold values found under ``sensitive`` or
``encrypted`` pointers, nor key material.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dsgit.errors import ConfigError, Location

__all__ = ["CODES", "Problem", "Severity", "first_errors"]


class Severity(StrEnum):
    """Errors make ``dsgit validate`` exit 1; warnings are shown but do not."""

    ERROR = "error"
    WARNING = "warning"


# code -> short title; the long form lives in docs/validation-codes.md (a test keeps both equal).
CODES: dict[str, str] = {
    # files and YAML
    "DS101": "invalid YAML",
    "DS102": "duplicate key",
    "DS103": "alias bomb",
    "DS104": "not representable as JSON",
    "DS105": "invalid UTF-8",
    "DS106": "symlink or path leaving the repository",
    "DS107": "file too large",
    "DS108": "unexpected file",
    "DS109": "missing dsgit.yaml",
    "DS110": "entry schemas out of date",
    # file schemas and settings
    "DS201": "file does not match its schema",
    "DS202": "unknown field",
    "DS203": "invalid setting",
    "DS204": "invalid JSON pointer",
    "DS205": "invalid pattern",
    "DS206": "value schema not found",
    "DS207": "invalid JSON Schema",
    "DS208": "invalid suppression",
    "DS209": "invalid moved_from",
    # values and keys
    "DS301": "value does not match its schema",
    "DS302": "key does not match key_pattern",
    "DS303": "scope not managed",
    "DS304": "ordered value is not an integer",
    "DS305": "counter value is not an integer",
    # Roblox limits
    "DS401": "name too long or empty",
    "DS402": "value too large",
    "DS403": "attributes over the limit",
    "DS404": "invalid users",
    # encodings
    "DS501": "non-canonical path encoding",
    "DS502": "names collide by letter case",
    "DS503": "name not portable to Windows",
    # secrets
    "DS601": "encrypted value does not decrypt",
    "DS602": "value under an encrypted pointer is not encrypted",
    "DS603": "sensitive or encrypted pointer matches nothing",
    "DS604": "encrypted values not verified",
    # erasure policy (policies/erasure.yaml)
    "DS871": "erasure policy does not match its schema",
    "DS872": "unknown field in the erasure policy",
    "DS873": "erasure template or rule without the {UserId} token",
    "DS874": "whole-store erasure template for an ordered store",
    "DS875": "more than 100 erasure templates",
    "DS876": "duplicate erasure template or rule",
    "DS877": "erasure rule that cannot be run",
    "DS878": "more than 10 erasure templates",
    # per-environment values
    "DS620": "unknown environment",
    "DS621": "override for an environment the store does not exist in",
    # Experience Configs (configs/<repository>.yaml)
    "DS701": "configs file does not match its schema",
    "DS702": "unknown field in a configs file",
    "DS703": "wrong or unknown configs repository",
    "DS704": "config value does not match its type",
    "DS705": "config key too long, empty or reserved",
    "DS706": "config value too large",
    "DS707": "too many config keys",
    "DS708": "too many conditions",
    "DS709": "too many conditional values on a key",
    "DS710": "conditional value for an unknown condition",
    "DS711": "condition listed twice",
    "DS712": "json config value does not match its schema",
    "DS713": "invalid max_keys",
    "DS714": "number not exact in Roblox",
    "DS716": "unexpected file in configs/",
    "DS717": "DataStoresConfig is not declared in configs/",
    # retention policy (policies/retention.yaml)
    "DS801": "retention policy does not match its schema",
    "DS802": "unknown field in the retention policy",
    "DS803": "duplicate retention rule name",
    "DS804": "retention rule without a condition",
    "DS805": "retention action or condition the store kind cannot have",
    # migrations (migrations/<id>.yaml, docs/lifecycle.md)
    "DS821": "migration file does not match its schema",
    "DS822": "invalid migration selection",
    "DS823": "invalid migration step",
    "DS824": "invalid match schema",
    "DS825": "migration file name is not a usable id",
    "DS826": "unknown field in a migration",
    # notifications (dsgit.yaml)
    "DS861": "invalid notification sink",
    "DS862": "notification environment not defined",
    "DS863": "notification secret in the repository",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One finding of ``dsgit validate``."""

    file: str
    line: int | None
    column: int | None
    code: str
    message: str
    severity: Severity = Severity.ERROR

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown validation code {self.code}")

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def where(self) -> str:
        """``file:line:col``, as every error names a place."""
        return str(Location(self.file, self.line, self.column))

    def __str__(self) -> str:
        return f"{self.where()}: {self.code} {self.message}"

    def to_error(self, prefix: str = "") -> ConfigError:
        """The problem as the error ``load_declaration`` raises (file:line:col and code)."""
        file = f"{prefix}{self.file}"
        return ConfigError(f"{self.code} {self.message}", Location(file, self.line, self.column))

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "severity": str(self.severity),
            "title": CODES[self.code],
            "message": self.message,
        }


def first_errors(problems: list[Problem], shown: int = 10) -> ConfigError | None:
    """The errors among ``problems`` as one ``ConfigError`` at the first (the next ones listed
    under it, ``shown`` in all), for commands that need one file right; None without errors."""
    errors = [problem for problem in problems if problem.is_error]
    if not errors:
        return None
    first = errors[0]
    more = "".join(f"\n  {p.where()}: {p.code} {p.message}" for p in errors[1:shown])
    return ConfigError(
        f"{first.code} {first.message}{more}", Location(first.file, first.line, first.column)
    )
