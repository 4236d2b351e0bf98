"""Render tests build plans with the planning tests' fakes (``tests/plan/plan_fakes.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plan"))
