"""Print a workflow that runs action.yml's composite steps, so actionlint (which lints
workflows, not action metadata) checks their expressions, contexts and step references.

The action's inputs become workflow_dispatch inputs of the same names, so `${{ inputs.x }}`
resolves as in the action; `github.action_path` is part of the github context in both.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def main(path: str) -> None:
    action = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    runs = action.get("runs") or {}
    if runs.get("using") != "composite":
        raise SystemExit(f"{path}: not a composite action")
    inputs = {}
    for name, spec in (action.get("inputs") or {}).items():
        default = str(spec.get("default", ""))
        inputs[name] = {
            "description": str(spec.get("description", "")),
            "required": bool(spec.get("required", False)),
            # An action's input default may be an expression (`${{ github.token }}`); a
            # workflow_dispatch default may not, and it is not part of the steps linted here.
            "default": "" if "${{" in default else default,
            "type": "string",
        }
    workflow = {
        "name": f"{action.get('name', 'action')} (composite steps of {path})",
        "on": {"workflow_dispatch": {"inputs": inputs}},
        "permissions": {},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": runs["steps"]}},
    }
    sys.stdout.write(yaml.safe_dump(workflow, sort_keys=False, width=1000))


if __name__ == "__main__":
    main(sys.argv[1])
