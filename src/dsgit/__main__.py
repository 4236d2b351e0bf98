from __future__ import annotations

from dsgit.cli.main import main

main()
