"""``python -m bench [NAME…] [-- ARGS…]`` (``make bench``): run benchmarks one after another.

With no NAME it lists them; each prints its figures and, last, the ratio it is judged by
(docs/performance.md). ARGS after ``--`` go to every benchmark named (``--quick`` for most).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks() -> dict[str, Path]:
    return {p.stem: p for p in sorted(HERE.glob("*.py")) if not p.stem.startswith("_")}


def main(argv: list[str]) -> int:
    names, extra = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    found = benchmarks()
    if not names:
        print("benchmarks (python -m bench NAME… [-- ARGS…]; figures in docs/performance.md):")
        for name, path in found.items():
            doc = (path.read_text().split('"""')[1].strip().splitlines() or [""])[0]
            print(f"  {name:<18} {doc}")
        return 0
    unknown = [name for name in names if name not in found]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(found)})")
        return 2
    worst = 0
    for name in names:
        print(f"== {name}", flush=True)
        worst = max(worst, subprocess.call([sys.executable, str(found[name]), *extra]))
    return worst


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
