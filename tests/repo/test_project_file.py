"""``dsgit.yaml`` checks beyond its schema (repo/project_file.py)."""

from __future__ import annotations

from dsgit.repo.problems import Severity
from dsgit.repo.project_file import check_project
from dsgit.repo.yamlload import parse_yaml

CONFIG = """\
version: 1
default_environment: local
environments:
  local:
    universe_id: 1
    emulator: .dsgit/e.db
  served:
    universe_id: 2
    url: http://127.0.0.1:8080
  keyed:
    universe_id: 3
    url: https://apis.roblox.com
    api_key_env: KEYED_API_KEY
  roblox:
    universe_id: 4
"""


def test_an_environment_over_http_without_api_key_env_is_a_warning() -> None:
    document, parse_problems = parse_yaml(CONFIG, "dsgit.yaml")
    assert document is not None and not parse_problems
    problems = check_project(document.value, document.node)
    assert [(p.code, p.severity, p.line) for p in problems] == [
        ("DS203", Severity.WARNING, 8),
        ("DS203", Severity.WARNING, 15),
    ]
    assert "'served' talks to http://127.0.0.1:8080 but sets no `api_key_env`" in str(problems[0])
    assert "'roblox' talks to Open Cloud" in str(problems[1])
