"""A short property-based fuzz of the in-process transport over every OpenAPI operation: random
names, query values and bodies never produce a 5xx, and every answer fits the OpenAPI files
(successes their schemas, errors their API's error model)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsgit.emulator import Emulator
from dsgit.emulator.params import KNOWN_NAMES
from openapi_check import check, operations

_PARAM = re.compile(r"\{(\w+)\}")

_text = st.text(st.characters(codec="utf-8"), max_size=12)
_numberish = st.sampled_from(["0", "1", "-1", "9" * 25, "1e400", "NaN", "5.5", "", " 7 "])
_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_json = st.recursive(
    _json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_fields = st.sampled_from(
    ["value", "amount", "users", "attributes", "etag", "id", "entries", "draftHash", "message"]
)
_raw_bodies = st.sampled_from(
    [b"", b"{", b"NaN", b'{"value": NaN}', b'{"value": 1e400}', b'"\\ud800"', b"\xff", b"[]"]
)


@st.composite
def _requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes]:
    operation = draw(st.sampled_from(operations()))
    universe = draw(st.sampled_from(["1", "0", "9223372036854775807", "9223372036854775808"]))

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "universeId" or name == "universe_id":
            return universe
        if "repositor" in name.lower():
            return draw(st.sampled_from(["InExperienceConfig", "Nope", ""]))
        return quote(draw(_text | st.sampled_from(["S", "k", "global", "-"])), safe="")

    path = _PARAM.sub(fill, operation.template)
    names = draw(st.lists(st.sampled_from(KNOWN_NAMES), max_size=4))
    query = {name: draw(_text | _numberish) for name in names}
    if draw(st.booleans()):
        body = json.dumps(draw(st.dictionaries(_fields, _json, max_size=4))).encode()
    else:
        body = draw(_raw_bodies | st.binary(max_size=20))
    method = draw(st.sampled_from([operation.method, operation.method, "TRACE", "HEAD"]))
    return method, path, query, body


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(request=_requests())
def test_random_requests_never_fail_and_fit_the_openapi_files(
    request: tuple[str, str, dict[str, str], bytes],
) -> None:
    method, path, query, body = request
    with (
        Emulator() as emu,
        httpx.Client(transport=emu.transport(), base_url="http://emulator") as client,
    ):
        answer = client.request(method, path, params=query, content=body)
        assert answer.status_code < 500, answer.text
        if answer.content and method != "HEAD":
            assert answer.headers["content-type"].startswith("application/json")
            json.loads(answer.content)
        if method != "HEAD":
            check(answer)
