"""Fast, single, named failures as a user meets them: `dsgit plan` in a subprocess against a
port that refuses connections, a served emulator that refuses the key, and a tiny server on
127.0.0.1 that answers only 503."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .conftest import UNIVERSE, Repo, serve

pytestmark = pytest.mark.slow

CANARY_KEY = "canary-key-9d2b41e0"


def _refusing_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _shop(repo: Repo, stores: int = 6) -> None:
    for number in range(stores):
        repo.write(f"datastores/Store{number}/_store.yaml", {"ownership": "owned"})
        repo.entry(f"Store{number}", "item", {"price": number})
    repo.commit("stores")


def _errors(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]


def test_an_unreachable_url_fails_naming_host_and_port(tmp_path: Path) -> None:
    # How fast it gives up (a bounded number of attempts, under 3 s of back-off) is proven
    # with a fake clock in tests/remote/test_health.py; wall time here would only measure
    # the machine's load.
    port = _refusing_port()
    url = f"http://127.0.0.1:{port}"
    repo = Repo(tmp_path / "game", url)
    _shop(repo)
    result = repo.dsgit("plan", "-o", "plans/p.json", expect=1)
    assert f"cannot connect to 127.0.0.1:{port}" in result.err
    assert _errors(result.err) == [line for line in result.err.splitlines() if line.strip()], (
        result.err
    )  # one message, nothing else
    assert len(_errors(result.err)) == 1
    assert f"127.0.0.1:{port}" in result.err and "environment 'served'" in result.err
    assert "Traceback" not in result.err
    assert not (repo.root / "plans/p.json").exists()


def test_a_wrong_key_is_one_error_naming_environment_and_variable(tmp_path: Path) -> None:
    with serve("--ccu", "20000", "--api-key", "the-right-key") as served:
        keyed = {
            "universe_id": UNIVERSE,
            "url": served.url,
            "budget": {"ccu": 20000, "share": 1},
            "api_key_env": "DSGIT_E2E_KEY",
        }
        repo = Repo(tmp_path / "game", served.url, {"keyed": keyed})
        _shop(repo)
        denied = repo.dsgit(
            "plan", "-e", "keyed", "-o", "plans/p.json", env={"DSGIT_E2E_KEY": CANARY_KEY}, expect=1
        )
        assert len(_errors(denied.err)) == 1, denied.err
        assert "environment 'keyed'" in denied.err and "$DSGIT_E2E_KEY" in denied.err
        assert "HTTP 401" in denied.err and "rejected the API key" in denied.err
        assert CANARY_KEY not in denied.out + denied.err
        assert "list scope" not in denied.err  # the old, wrong suggestion
        assert not (repo.root / "plans/p.json").exists()


def test_a_key_without_the_scope_names_the_scope_to_add(tmp_path: Path) -> None:
    limited = "read-only-key:universe-datastores.objects:read"
    with serve("--ccu", "20000", "--api-key", limited) as served:
        keyed = {
            "universe_id": UNIVERSE,
            "url": served.url,
            "budget": {"ccu": 20000, "share": 1},
            "api_key_env": "DSGIT_E2E_KEY",
        }
        repo = Repo(tmp_path / "game", served.url, {"keyed": keyed})
        _shop(repo)
        denied = repo.dsgit("plan", "-e", "keyed", env={"DSGIT_E2E_KEY": "read-only-key"}, expect=1)
        assert len(_errors(denied.err)) == 1, denied.err
        assert "`universe-datastores.objects:list`" in denied.err and "HTTP 403" in denied.err
        assert "read-only-key" not in denied.out + denied.err


def test_api_keys_with_stray_whitespace_are_stripped_others_refused_unechoed(
    tmp_path: Path,
) -> None:
    with serve("--ccu", "20000", "--api-key", CANARY_KEY) as served:
        keyed = {
            "universe_id": UNIVERSE,
            "url": served.url,
            "budget": {"ccu": 20000, "share": 1},
            "api_key_env": "DSGIT_E2E_KEY",
        }
        repo = Repo(tmp_path / "game", served.url, {"keyed": keyed})
        _shop(repo, stores=1)
        for saved in (CANARY_KEY + "\r", CANARY_KEY + "\r\n", " " + CANARY_KEY + "\t"):
            ok = repo.dsgit("plan", "-e", "keyed", env={"DSGIT_E2E_KEY": saved})
            assert CANARY_KEY not in ok.out + ok.err
        broken = CANARY_KEY[:6] + "\t" + CANARY_KEY[6:]
        started = time.monotonic()
        refused = repo.dsgit("plan", "-e", "keyed", env={"DSGIT_E2E_KEY": broken}, expect=1)
        assert time.monotonic() - started < 30  # refused before sending: no retries
        assert "$DSGIT_E2E_KEY holds a tab" in refused.err and "not shown" in refused.err
        assert len(_errors(refused.err)) == 1
        for piece in (CANARY_KEY[:6], CANARY_KEY[6:]):
            assert piece not in refused.out + refused.err


class _Unavailable(BaseHTTPRequestHandler):
    """Answers every request 503, as a service in an outage does."""

    def _answer(self) -> None:
        body = b'{"code": "UNAVAILABLE", "message": "try later"}'
        self.send_response(503)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _unavailable_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_service_answering_only_5xx_stops_the_run_once_bounded(tmp_path: Path) -> None:
    with _unavailable_server() as url:
        repo = Repo(tmp_path / "game", url)
        _shop(repo)
        started = time.monotonic()
        result = repo.dsgit("plan", "-o", "plans/p.json", expect=1)
        elapsed = time.monotonic() - started
    # the run's retry bound is 15 s; six stores retried one after another took 135 s before
    assert elapsed < 60, f"took {elapsed:.1f} s"
    assert len(_errors(result.err)) == 1, result.err
    assert "answered only errors for 15 s" in result.err and url.split("//")[1] in result.err
    assert not (repo.root / "plans/p.json").exists()
