"""What the budget benchmarks share: an emulator served by a subprocess.

A served emulator runs in its own interpreter, so its CPU does not compete with the client's
for the GIL and the figures measure dsgit, not the emulator sharing its process.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

_SERVE = """
import sys
from dsgit.emulator import Emulator, FaultSpec
faults = FaultSpec.parse(sys.argv[3]) if sys.argv[3] else None
ccu = None if sys.argv[2] == "none" else int(sys.argv[2])
emulator = Emulator(db=sys.argv[1], ccu=ccu, faults=faults)
with emulator.serve(host="127.0.0.1", port=0) as server:
    print(server.url, flush=True)
    sys.stdin.read()
"""


def latency_faults(seconds: float) -> str:
    """The ``FaultSpec`` text that injects ``seconds`` of latency ("" for none)."""
    return f"latency={seconds * 1000:g}ms" if seconds > 0 else ""


@contextmanager
def served_emulator(
    db: Path | str,
    ccu: int | None,
    faults: str = "",
    *,
    on_start: Callable[[int], None] | None = None,
    on_stop: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """Serve an emulator (``db``, limits at ``ccu``, None: off; ``faults``) in a subprocess;
    yields its URL.

    ``on_start`` gets the process id once the server listens, ``on_stop`` just before it is
    stopped (to read its CPU time).
    """
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(db), "none" if ccu is None else str(ccu), faults],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url:
            raise RuntimeError("the emulator did not start")
        if on_start is not None:
            on_start(process.pid)
        yield url
    finally:
        if on_stop is not None:
            on_stop(process.pid)
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)
