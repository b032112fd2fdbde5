"""The local server under hostile or careless input: never a 500, never a huge answer, never a stall.

Sections: bodies that are not JSON specs; error bodies' size; Host and Origin; the time budget of
/api/train; a real uvicorn server (chunked bodies, Host); and, clearly marked at the end,
spec-level bad input that relies on spec.py's own limits, with a fuzz test over the examples.
"""

from __future__ import annotations

import json
import re
import select
import socket
import time
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local_server import running

with warnings.catch_warnings():  # starlette's notice about httpx, not about our code
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from gradtrace.spec import Spec
from gradtrace.web import create_app, limits
from gradtrace.web.responses import MAX_JSON_DEPTH, MAX_MESSAGE_CHARS, error_response
from gradtrace.web.training import TrainSettings, train

LOCAL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), base_url=LOCAL, raise_server_exceptions=False)


def error_of(response: Any, status: int) -> tuple[list[Any], str]:
    """The error's location and message, after checking the status and the body's shape."""
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert body["detail"][0]["msg"] == body["message"] and "\n" not in body["message"]
    return body["detail"][0]["loc"], body["message"]


def post_bytes(client: TestClient, path: str, raw: bytes,
               content_type: str = "application/json") -> Any:
    return client.post(path, content=raw, headers={"content-type": content_type})


# ---- bodies that are not JSON specs --------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/step", "/api/spec", "/api/spec/text", "/api/train"])
@pytest.mark.parametrize(("kwargs", "found"), [
    ({"content": b"{}", "headers": {"content-type": "text/plain"}}, "text/plain"),
    ({"data": {"loss": "mse"}}, "application/x-www-form-urlencoded"),
    ({"files": {"spec": ("spec.toml", b"loss = 1")}}, "multipart/form-data"),
    ({"content": b'{"sizes": [2, 1]}'}, "none"),
])
def test_a_body_that_is_not_json_is_415(client: TestClient, path: str, kwargs: dict[str, Any],
                                        found: str) -> None:
    loc, message = error_of(client.post(path, **kwargs), 415)
    assert loc == ["body"] and found in message and "application/json" in message


def test_json_with_a_charset_or_a_json_suffix_is_read(client: TestClient,
                                                      seed: dict[str, Any]) -> None:
    raw = json.dumps(seed).encode()
    for kind in ("application/json; charset=utf-8", "application/vnd.gradtrace+json"):
        assert post_bytes(client, "/api/spec", raw, kind).status_code == 200


@pytest.mark.parametrize(("raw", "expected"), [
    (b"", "empty"),
    (b'{"name": "\xff"}', "not UTF-8 (byte 10 is 0xff)"),
    (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deep"),
    (b'{"seed": ' + b"1" * 5000 + b"}", "more than 4300 digits"),
    (b'{"loss": ', "malformed JSON at character 9"),
])
def test_undecodable_bodies_are_422_at_body(client: TestClient, raw: bytes, expected: str) -> None:
    for path in ("/api/step", "/api/train"):
        loc, message = error_of(post_bytes(client, path, raw), 422)
        assert loc == ["body"] and message.startswith("request body: ") and expected in message


def test_nesting_past_the_depth_cap_names_where(client: TestClient) -> None:
    nested: Any = 1
    for _ in range(MAX_JSON_DEPTH + 5):
        nested = [nested]
    loc, message = error_of(client.post("/api/step", json={"data": {"input": nested}}), 422)
    assert loc[:4] == ["body", "data", "input", 0] and set(loc[4:]) == {0}  # loc is cut at 12
    assert f"more than {MAX_JSON_DEPTH} levels" in message


@pytest.mark.parametrize(("raw", "loc"), [
    (b'{"name": "a\\ud800b", "sizes": [2, 1]}', ["body", "name"]),
    (b'{"sizes": [2, 1], "\\udfff": 1}', ["body"]),
    (b'{"spec": {"description": "\\udc00"}}', ["body", "spec", "description"]),
])
def test_a_lone_surrogate_is_422_with_its_path(client: TestClient, raw: bytes,
                                               loc: list[Any]) -> None:
    path = "/api/train" if b'"spec"' in raw else "/api/spec"
    got, message = error_of(post_bytes(client, path, raw), 422)
    assert got == loc and "lone UTF-16 surrogate" in message
    assert "\\ud83d" not in message


def test_a_surrogate_pair_is_text(client: TestClient, seed: dict[str, Any]) -> None:
    raw = json.dumps({**seed, "name": "net \U0001F600"}).encode()  # escaped as \ud83d\ude00
    assert b"\\ud83d\\ude00" in raw
    assert post_bytes(client, "/api/spec", raw).json()["spec"]["name"] == "net \U0001F600"


def test_train_fields_are_checked_with_paths(client: TestClient, seed: dict[str, Any]) -> None:
    loc, message = error_of(client.post("/api/train", json=[1, 2]), 422)
    assert loc == ["body"] and "valid dictionary" in message
    loc, _ = error_of(client.post("/api/train", json={"spec": seed, "seed": -1}), 422)
    assert loc == ["body", "seed"]
    loc, message = error_of(client.post("/api/train", json={"spec": [1]}), 422)
    assert loc == ["body", "spec"] and "(found [1])" in message
    loc, _ = error_of(client.post("/api/spec/text", json={"text": 1}), 422)
    assert loc == ["body", "text"]


# ---- error bodies are small whatever they echo ---------------------------------------------------

@pytest.mark.parametrize("body", [
    {"sizes": [2, 1], "x" * 300_000: 1},
    {"sizes": [2, 1], "loss": "x" * 900_000},
    {"sizes": [2, 1], "activations": ["y" * 900_000]},
])
def test_error_bodies_are_bounded(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/api/spec", json=body)
    assert response.status_code == 422 and len(response.content) < 3 * MAX_MESSAGE_CHARS + 1000
    # shortened where it is echoed (spec.py), or else where the body is built (web/responses.py)
    assert re.search(r"… \(\d[\d,]* characters\)|characters left out", response.json()["message"])


def test_error_response_bounds_any_message_and_location() -> None:
    response = error_response(422, ["body", "k" * 10**6, *range(10**4)], "m\n" * 10**7, "value_error")
    body = json.loads(response.body)
    assert len(response.body) < 3 * MAX_MESSAGE_CHARS + 1000
    assert "\n" not in body["message"] and len(body["detail"][0]["loc"]) <= 12


def test_unknown_paths_and_methods_are_json(client: TestClient) -> None:
    loc, message = error_of(client.get("/api/nothing"), 404)
    assert loc == ["path"] and "/api/nothing" in message
    loc, message = error_of(client.get("/api/step"), 405)
    assert loc == ["path"] and "takes POST" in message


# ---- Host and Origin -----------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "localhost.evil.example",
                                  "127.0.0.1.nip.io", "testserver"])
def test_other_hosts_are_refused(client: TestClient, host: str) -> None:
    loc, message = error_of(client.get("/api/session", headers={"host": host}), 400)
    assert loc == ["header", "host"] and repr(host) in message
    error_of(client.get("/", headers={"host": host}), 400)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8765", "localhost:8765", "LOCALHOST",
                                  "[::1]:8765", "127.0.0.2"])
def test_loopback_hosts_are_served(client: TestClient, host: str) -> None:
    assert client.get("/api/session", headers={"host": host}).status_code == 200


def test_the_listen_host_is_allowed_and_a_wildcard_allows_addresses_only() -> None:
    lan = TestClient(create_app(listen_host="192.168.1.5"), base_url="http://192.168.1.5:8765")
    assert lan.get("/api/session").status_code == 200
    assert lan.get("/api/session", headers={"host": "192.168.1.6"}).status_code == 400
    wild = TestClient(create_app(listen_host="0.0.0.0"), base_url="http://10.0.0.7:8765")
    assert wild.get("/api/session").status_code == 200
    assert wild.get("/api/session", headers={"host": "evil.example"}).status_code == 400


@pytest.mark.parametrize("headers", [
    {"origin": "http://evil.example"},
    {"origin": "null"},
    {"origin": "http://127.0.0.1:9999"},  # another port is another origin
    {"origin": "https://127.0.0.1"},
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},
])
def test_state_changing_requests_from_other_origins_are_refused(
        client: TestClient, seed: dict[str, Any], headers: dict[str, str]) -> None:
    loc, message = error_of(client.post("/api/step", json=seed, headers=headers), 403)
    assert loc[0] == "header" and "refused" in message


@pytest.mark.parametrize("headers", [
    {},  # curl, scripts
    {"origin": "http://127.0.0.1"},
    {"origin": "http://127.0.0.1:80", "sec-fetch-site": "same-origin"},
])
def test_own_origin_and_no_origin_are_served(client: TestClient, seed: dict[str, Any],
                                             headers: dict[str, str]) -> None:
    assert client.post("/api/step", json=seed, headers=headers).status_code == 200


def test_no_cors_no_framing_no_cdn_docs(client: TestClient) -> None:
    preflight = client.options("/api/step", headers={
        "origin": "http://evil.example", "access-control-request-method": "POST"})
    assert not any(h.startswith("access-control-") for h in preflight.headers)
    page = client.get("/", headers={"origin": "http://evil.example"})
    assert not any(h.startswith("access-control-") for h in page.headers)
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    schema = client.get("/openapi.json").json()
    train_body = schema["paths"]["/api/train"]["post"]["requestBody"]["content"]
    assert "steps" in train_body["application/json"]["schema"]["properties"]


# ---- the time budget of /api/train ---------------------------------------------------------------

def test_train_at_the_caps_stops_within_the_budget(client: TestClient) -> None:
    spec = {"sizes": [2] + [limits.MAX_UNITS] * (limits.MAX_LAYERS - 1) + [1]}
    started = time.perf_counter()
    loc, message = error_of(client.post("/api/train", json={
        "spec": spec, "steps": limits.MAX_TRAIN_STEPS, "points": limits.MAX_POINTS,
        "grid": limits.MAX_GRID}), 413)
    # the budget, plus at most one step measured over it (a loaded machine's step is slow)
    assert time.perf_counter() - started < limits.MAX_TRAIN_SECONDS + 1.5
    assert loc == ["body", "steps"] and f"{limits.MAX_TRAIN_SECONDS:g} s budget" in message
    assert client.get("/api/limits").json()["train_seconds"] == limits.MAX_TRAIN_SECONDS


def test_the_budget_is_checked_while_training() -> None:
    spec = Spec.model_validate({"sizes": [2, 32, 32, 1], "seed": 1})
    small = TrainSettings("xor", 200, None, 0, 20, 10)
    assert len(train(spec, small)["loss"]) == 20  # well inside the default budget
    with pytest.raises(limits.WebLimitError, match=r"capped at a 0\.001 s budget"):
        train(spec, TrainSettings("xor", 2000, None, 0, 2000, 0), budget=0.001)


def test_the_budget_counts_the_grid() -> None:
    """Few steps but a huge grid: the projection includes the grid's forward passes."""
    spec = Spec.model_validate({"sizes": [2, 64, 64, 1], "seed": 1})
    with pytest.raises(limits.WebLimitError):
        train(spec, TrainSettings("xor", 4, None, 0, 1, 10**4), budget=0.05)


# ---- a real server: streamed bodies and Host headers ---------------------------------------------

@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    with running(create_app()) as port:
        yield "127.0.0.1", port


def test_a_chunked_body_is_refused_while_it_is_read(server: tuple[str, int]) -> None:
    """32 MB offered in 64 KiB chunks: the 413 comes back long before the client is done."""
    host, port = server
    chunk = b"[" + b"0," * (32 * 1024) + b"0]"
    planned = 32 * 1024 * 1024
    sent = 0
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(f"POST /api/step HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: "
                     "application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        sock.setblocking(False)
        answer = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sent < planned:
            readable, writable, _ = select.select([sock], [sock], [], 1.0)
            if readable:
                sock.setblocking(True)
                while b"}]}" not in answer and (part := sock.recv(65536)):
                    answer += part
                break
            if writable:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < planned // 2  # it stopped reading: the client was told while still sending
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert body["detail"][0]["loc"] == ["body"]
    assert f"{limits.MAX_BODY_BYTES:,}-byte cap" in body["message"]


def test_a_declared_length_over_the_cap_is_refused_unread(server: tuple[str, int]) -> None:
    host, port = server
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(f"POST /api/step HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json"
                     "\r\nContent-Length: 1000000000\r\n\r\n{".encode())
        answer = b""
        while b"}]}" not in answer and (part := sock.recv(65536)):
            answer += part
    assert answer.startswith(b"HTTP/1.1 413") and b"1,000,000,000 bytes" in answer


def test_the_real_server_checks_the_host(server: tuple[str, int]) -> None:
    host, port = server
    url = f"http://{host}:{port}/api/session"
    refused = httpx.get(url, headers={"host": "evil.example"})
    assert refused.status_code == 400 and refused.json()["detail"][0]["loc"] == ["header", "host"]
    assert httpx.get(url, headers={"host": f"localhost:{port}"}).json() == {"spec": None}


# ==== spec-level bad input through the API =======================================================
# These rely on spec.py rejecting the values itself (limits on depth, size, aliases, seeds, empty
# layer lists); that is another branch of issue #11. Until it is merged some of them fail: the
# fuzz test finds `layers: []` and `seed: -1` (500s raised inside spec.py) within a few examples.

SPEC_LEVEL = [
    ({"layers": []}, "layers"),
    ({"sizes": [2, 1], "seed": -1}, "seed"),
    ({"sizes": [2, 10**30]}, "sizes"),
]


@pytest.mark.parametrize(("body", "field"), SPEC_LEVEL)
def test_spec_level_bad_values_are_4xx_with_their_field(client: TestClient, seed: dict[str, Any],
                                                        body: dict[str, Any], field: str) -> None:
    body = {**body, "data": seed["data"]}
    for path in ("/api/spec", "/api/step"):
        response = client.post(path, json=body)
        assert 400 <= response.status_code < 500, response.text[:300]
        assert response.json()["detail"][0]["loc"][:2] == ["body", field]


def test_float32_with_1e300_is_not_a_silent_number(client: TestClient, seed: dict[str, Any]) -> None:
    body = {**seed, "dtype": "float32", "data": {"input": [1e300, 1.0], "target": [0.5]}}
    response = client.post("/api/step", json=body)
    assert 400 <= response.status_code < 500, response.text[:300]
    assert response.json()["detail"][0]["loc"][:3] == ["body", "data", "input"]


def test_yaml_alias_bomb_is_refused_quickly(client: TestClient) -> None:
    """9 aliases of 9 aliases ... : 9^7 = 4.8 million numbers in data.input from 1 kB of text."""
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for name, previous in zip("bcdefg", "abcdef", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    lines.append("data: {input: *g, target: [1]}")
    started = time.perf_counter()
    response = client.post("/api/spec/text", json={"format": "yaml", "text": "\n".join(lines)})
    assert time.perf_counter() - started < 2.0
    loc, _ = error_of(response, response.status_code)
    assert 400 <= response.status_code < 500 and loc[0] == "body"


# ---- fuzz: mutations of the shipped examples never get a 500 -------------------------------------

def json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | \
        st.sampled_from([10**40, -1, 0, 1e300, -1e300, "", "sigmoid", "softmax", "adam", "float32"])
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) |
                        st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value, the value itself first."""
    found = [prefix]
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        found += paths(child, (*prefix, key))
    return found


def mutated(spec: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    if not path:
        return new
    spec = json.loads(json.dumps(spec))
    parent = spec
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return spec


@pytest.fixture(scope="module")
def examples(client: TestClient) -> list[dict[str, Any]]:
    return [client.get(f"/api/examples/{item['name']}").json()
            for item in client.get("/api/examples").json()]


@settings(max_examples=100, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_examples_never_get_a_500(client: TestClient, examples: list[dict[str, Any]],
                                         data: st.DataObject) -> None:
    spec = data.draw(st.sampled_from(examples), label="example")
    path = data.draw(st.sampled_from(paths(spec)), label="path")
    new = data.draw(json_values(), label="new value")
    delete = bool(path) and data.draw(st.booleans(), label="delete")
    body = mutated(spec, path, new, delete)
    route = data.draw(st.sampled_from(["/api/spec", "/api/step"]), label="route")
    response = client.post(route, content=json.dumps(body).encode(),
                           headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        error = response.json()
        assert error["message"] and error["detail"][0]["loc"][0] == "body"
