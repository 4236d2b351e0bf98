"""Plan files on disk: one canonical document, or a segmented plan (a manifest and its JSON
Lines segments). :mod:`dsgit.plan.io` and :mod:`dsgit.plan.segments` own the formats; this
package reads and writes the files (docs/plan-format.md)."""

from dsgit.planfile.read import SegmentedPlan, read_any_plan, read_plan_bytes
from dsgit.planfile.write import SegmentWriter, write_plan

__all__ = ["SegmentWriter", "SegmentedPlan", "read_any_plan", "read_plan_bytes", "write_plan"]
