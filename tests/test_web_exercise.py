"""GET /api/exercise through the ASGI test client: the CLI's generator and variant check."""

from __future__ import annotations

from typing import Any

import pytest

from gradtrace.exercise import ambiguity, generate, make_variants
from gradtrace.spec import parse_spec


def get(client: Any, query: str) -> Any:
    return client.get(f"/api/exercise?{query}")


def test_the_exercise_is_the_cli_s_variant(client: Any) -> None:
    reply = get(client, "seed=7&sizes=3,2,2&activations=tanh,sigmoid&loss=half_sse&decimals=3")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    variant = make_variants(7, 1, 3, sizes=[3, 2, 2], activations=["tanh", "sigmoid"],
                            loss="half_sse")[0]
    assert body["seed"] == 7 and body["frozen_seed"] == variant.seed
    assert body["spec"] == variant.data
    # the frozen seed rebuilds it, and every diagnosis on it is unambiguous at its decimals
    assert generate(variant.seed, (3, 2, 2), ["tanh", "sigmoid"], "half_sse") == body["spec"]
    assert ambiguity(parse_spec(body["spec"]), 3) is None
    assert (body["sizes"], body["activations"], body["decimals"]) == ([3, 2, 2],
                                                                     ["tanh", "sigmoid"], 3)


def test_same_query_same_exercise_and_seeds_differ(client: Any) -> None:
    first, again, other = (get(client, f"seed={s}").json() for s in (11, 11, 12))
    assert first == again
    assert first["spec"] != other["spec"]
    assert first["sizes"] == [2, 2, 1] and first["activations"] == ["sigmoid"]


def test_the_spec_traces_on_the_page(client: Any) -> None:
    spec = get(client, "seed=3").json()["spec"]
    trace = client.post("/api/step", json=spec)
    assert trace.status_code == 200 and trace.json()["schema"] == "gradtrace.trace/1"


@pytest.mark.parametrize(("query", "field", "words"), [
    ("seed=-1", "seed", "greater than or equal to 0"),
    ("seed=abc", "seed", "valid integer"),
    ("sizes=2,x", "sizes", "valid integer"),
    ("sizes=2", "sizes", "give 2 to 4"),
    ("sizes=9,1", "sizes", "1 to 8 units"),
    ("sizes=2,2,2,2,2", "sizes", "give 2 to 4"),
    ("sizes=8,4,2", "sizes", "40 weights"),
    ("activations=sigmod", "activations", "did you mean 'sigmoid'"),
    ("activations=tanh,tanh,tanh", "activations", "3 activations for 2 layers"),
    ("loss=hinge", "loss", "unknown loss"),
    ("decimals=0", "decimals", "greater than or equal to 1"),
    ("decimals=9", "decimals", "less than or equal to 8"),
    ("sead=1", "sead", "Extra inputs"),
])
def test_bad_query_names_the_field(client: Any, query: str, field: str, words: str) -> None:
    reply = get(client, query)
    assert reply.status_code == 422, reply.text
    body = reply.json()
    assert body["detail"][0]["loc"] == ["query", field]
    assert body["message"].startswith(f"{field}: ") and words in body["message"], body["message"]
    assert "\n" not in body["message"]


def test_no_fair_variant_is_a_422_naming_the_seed(client: Any) -> None:
    # at one decimal no z of a hand-sized network carries two significant figures, so no
    # candidate passes (and the CLI's option names are not echoed)
    body = get(client, "decimals=1&sizes=1,1").json()
    assert body["detail"][0]["loc"] == ["query", "seed"]
    assert "no variant" in body["message"] and "--" not in body["message"]


def test_a_search_without_a_fair_variant_stops_at_its_budget(client: Any) -> None:
    import time

    from gradtrace.web.exercises import SEARCH_BUDGET

    started = time.monotonic()
    body = get(client, "decimals=1&sizes=2,3,3,2").json()  # 500 candidates take far longer
    took = time.monotonic() - started
    assert f"within {SEARCH_BUDGET:g} s" in body["message"]
    assert took < SEARCH_BUDGET + 1.5  # one candidate's check past the budget at most
