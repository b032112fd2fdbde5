"""POST /api/grade through the ASGI test client: the same grader as the CLI, digits as written."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():  # starlette's notice about httpx, not about our code
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from gradtrace import grade
from gradtrace.web import limits

# The README's answers file: W2 updated before δ1 (updated_weights), the rest carried.
README_ANSWERS = {
    "z1": ["0.21", "0.315"], "a1": ["0.5523", "0.5781"], "z2": "0.6860", "a2": "0.6651",
    "cost": "0.0136", "delta2": "0.0368", "grad_W2": ["0.0203", "0.0213"],
    "W2_new": ["0.2797", "0.8787"], "delta1": ["0.002543", "0.007881"],
}


def post(client: TestClient, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/api/grade", content=raw, headers={"content-type": "application/json"})


def error_of(response: Any, status: int) -> tuple[list[Any], str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["message"] == body["detail"][0]["msg"] and "\n" not in body["message"]
    return body["detail"][0]["loc"], body["message"]


def test_reply_is_the_cli_grader_s_report(client: TestClient, seed: dict[str, Any]) -> None:
    response = post(client, {"spec": seed, "answers": README_ANSWERS})
    assert response.status_code == 200, response.text
    reply = response.json()
    expected = grade("seed", {k: v for k, v in README_ANSWERS.items()}).to_dict()
    expected["spec"] = reply["spec"]  # the name comes from the spec sent (the example's name)
    assert reply == expected
    assert reply["schema"] == "gradtrace.grade/1" and reply["first_error"] == "delta1"
    delta1 = next(e for e in reply["entries"] if e["key"] == "delta1")
    assert delta1["note"] == "delta1:updated_weights"
    assert "W2_new" in delta1["mistakes"][0]["explanation"]


def test_example_name_as_spec(client: TestClient) -> None:
    reply = post(client, {"spec": "seed", "answers": {"z1": ["0.21", "0.315"]}}).json()
    assert reply["summary"]["correct"] == 1 and reply["spec"]["name"] == "seed"


@pytest.mark.parametrize("raw", [b'"0.5780"', b"0.5780"])
def test_written_digits_are_kept_string_or_number(client: TestClient, raw: bytes) -> None:
    # a1[1] is 0.552308: "0.5523" (4 decimals) is right; 0.5780 judged at 4 decimals, ±0.00005
    body = b'{"spec": "seed", "answers": {"a1[2]": ' + raw + b'}}'
    entry = next(e for e in post(client, body).json()["entries"] if e["key"] == "a1")
    assert entry["given"] == "0.5780"
    assert entry["tolerance"] == pytest.approx(0.00005)
    assert entry["status"] == "wrong"  # the exact a1[2] is 0.578105: 0.5780 is off by 1.05e-4


def test_trailing_zero_decides_correctness(client: TestClient) -> None:
    # exact a1[2] = 0.578105: "0.578" (±0.0005) is right, "0.5780" (±0.00005) is not
    statuses = [next(e for e in post(client, {"spec": "seed", "answers": {"a1[2]": given}})
                     .json()["entries"] if e["key"] == "a1")["status"]
                for given in ("0.578", "0.5780")]
    assert statuses == ["correct", "wrong"]


def test_options_forgive_and_tolerance(client: TestClient) -> None:
    body: dict[str, Any] = {"spec": "seed", "answers": {"a1[2]": "0.5780"}}
    forgiving = post(client, {**body, "tolerance": 0.001}).json()
    assert forgiving["settings"]["tolerance"] == 0.001
    assert next(e for e in forgiving["entries"] if e["key"] == "a1")["status"] == "correct"


def test_a_bad_number_is_an_invalid_entry_not_an_error(client: TestClient) -> None:
    reply = post(client, {"spec": "seed", "answers": {"z1": ["0.21", "abc"]}})
    assert reply.status_code == 200
    entry = next(e for e in reply.json()["entries"] if e["key"] == "z1")
    assert entry["status"] == "invalid" and entry["problem"]


def test_huge_exponent_is_invalid_not_infinite(client: TestClient) -> None:
    reply = post(client, b'{"spec": "seed", "answers": {"z1": [1e400, 0.315]}}')
    assert reply.status_code == 200
    assert next(e for e in reply.json()["entries"] if e["key"] == "z1")["status"] == "invalid"


@pytest.mark.parametrize(("body", "status", "loc", "words"), [
    ({"spec": "seed", "answers": {"z11": "1"}}, 422, ["body", "answers", "z11"], "did you mean 'z1'"),
    ({"spec": "../../etc/passwd", "answers": {"z1": "1"}}, 422, ["body", "spec"], "unknown example"),
    ({"spec": "seed", "answers": {}}, 422, ["body", "answers"], "no answers"),
    ({"spec": "seed"}, 422, ["body", "answers"], "missing"),
    ({"answers": {"z1": "1"}}, 422, ["body", "spec"], "missing"),
    ({"spec": "seed", "answers": {"z1": "1"}, "tolerence": 1}, 422, ["body", "tolerence"],
     "did you mean 'tolerance'"),
    ({"spec": "seed", "answers": {"z1": "1"}, "round": -3}, 422, ["body", "round"],
     "greater than or equal to 0"),
    ({"spec": "seed", "answers": {"z1": "1"}, "tolerance": -1}, 422, ["body", "tolerance"],
     "greater than or equal to 0"),
    ({"spec": {"sizes": [2, 1], "learning_rate": -1}, "answers": {"z1": "1"}}, 422,
     ["body", "spec", "learning_rate"], "greater than 0"),
    ({"spec": "seed", "answers": {f"step{limits.MAX_STEP_STEPS + 1}": {"z1": "1"}}}, 413,
     ["body", "answers"], f"capped at {limits.MAX_STEP_STEPS}"),
    ([1, 2], 422, ["body"], "expected a JSON object"),
])
def test_bad_requests_name_the_field(client: TestClient, body: Any, status: int, loc: list[Any],
                                     words: str) -> None:
    found_loc, message = error_of(post(client, body), status)
    assert found_loc == loc and words in message, message


def test_body_decoding_and_type_as_other_routes(client: TestClient) -> None:
    _, message = error_of(post(client, b'{"spec": "seed", "answers": {'), 422)
    assert "malformed JSON" in message
    response = client.post("/api/grade", content=b"{}", headers={"content-type": "text/plain"})
    error_of(response, 415)


def test_body_cap_applies(client: TestClient) -> None:
    padding = "0" * (limits.MAX_BODY_BYTES + 10)
    body = b'{"spec": "seed", "answers": {"z1": "0.' + padding.encode() + b'"}}'
    _, message = error_of(post(client, body), 413)
    assert "cap" in message
