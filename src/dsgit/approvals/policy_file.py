"""Reading ``policies/approvals.yaml``: YAML, its file schema, then the policy's own checks.

:func:`policy_problems` serves ``dsgit validate`` (every problem at its line);
:func:`load_policy` serves the commands that need the policy (the first problems as one
``ConfigError``). A repository without the file has the empty policy (no rules; a protected
environment still needs one approval).
"""

from __future__ import annotations

from pathlib import Path

from yaml.nodes import Node

from dsgit.errors import ConfigError, Location
from dsgit.model.entry import JSONValue
from dsgit.policy.model import Policy
from dsgit.policy.parse import policy_from_document
from dsgit.repo.file_schemas import FileKind, check_file
from dsgit.repo.problems import Problem, first_errors
from dsgit.repo.yamlload import locate, parse_yaml

__all__ = ["POLICY_FILE", "load_policy", "policy_problems"]

POLICY_FILE = "policies/approvals.yaml"


def policy_problems(value: JSONValue, node: Node | None, file: str = POLICY_FILE) -> list[Problem]:
    """Schema problems, then (when the shape is right) the policy's own checks (DS203)."""
    problems = check_file(FileKind.APPROVALS, value, node, file)
    if problems:
        return problems
    _policy, issues = policy_from_document(value, source=file)
    for issue in issues:
        tokens = [str(part) for part in issue.path]
        place = locate(node, tokens)
        line, column = place if place is not None else (None, None)
        field = ".".join(tokens)
        message = f"{issue.message} ({field})" if field else issue.message
        problems.append(Problem(file, line, column, "DS203", message))
    return problems


def load_policy(root: Path) -> Policy:
    """The policy of the repository at ``root`` (``ConfigError`` when it is wrong)."""
    path = root / POLICY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Policy(source=POLICY_FILE)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise ConfigError(
            f"cannot read the approvals policy: {reason}", Location(POLICY_FILE)
        ) from None
    document, problems = parse_yaml(text, POLICY_FILE)
    if document is not None and not problems:
        problems = policy_problems(document.value, document.node)
    error = first_errors(problems)
    if error is not None:
        raise error
    assert document is not None
    policy, _issues = policy_from_document(document.value, source=POLICY_FILE)
    return policy
