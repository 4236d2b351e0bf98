"""The in-process adapter: an ``httpx.BaseTransport`` that hands requests to the emulator."""

from __future__ import annotations

from typing import Protocol

import httpx

from dsgit.emulator.wire import Disposition, Request, Response

__all__ = ["EmulatorTransport"]


class _Handles(Protocol):
    def handle(self, request: Request) -> Response: ...


class EmulatorTransport(httpx.BaseTransport):
    """No sockets: each httpx request is answered by ``Emulator.handle`` in the caller's thread.

    Injected transport faults surface as httpx errors: a lost response as
    ``httpx.RemoteProtocolError``, a timeout as ``httpx.ReadTimeout``.
    """

    def __init__(self, emulator: _Handles) -> None:
        self._emulator = emulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        target = request.url.raw_path.decode("ascii")
        answer = self._emulator.handle(Request(request.method, target, headers, body))
        if answer.disposition is Disposition.DROP:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if answer.disposition is Disposition.TIMEOUT:
            raise httpx.ReadTimeout("timed out waiting for the response", request=request)
        return httpx.Response(
            answer.status, headers=list(answer.headers), content=answer.body, request=request
        )
