"""A local emulator of Roblox Open Cloud data stores, ordered data stores and configs.

Used in process (``Emulator(...).transport()``, an httpx transport, no sockets) as dsgit's
embedded default, or served over HTTP (``emu.serve()``, ``dsgit emulator serve``) for any
client. See ``docs/emulator.md`` for what it serves and every known difference from Roblox.
"""

from __future__ import annotations

from dsgit.emulator.app import Emulator
from dsgit.emulator.faults import FaultSpec
from dsgit.emulator.server import ServedEmulator
from dsgit.emulator.transport import EmulatorTransport
from dsgit.emulator.wire import Request, Response

__all__ = ["Emulator", "EmulatorTransport", "FaultSpec", "Request", "Response", "ServedEmulator"]
