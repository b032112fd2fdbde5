"""Any value in an answers file grades or is refused in one line: never a traceback (hypothesis).

Values are drawn as TOML would give them (numbers kept as Decimal, text, booleans, nested lists,
tables), for real keys and for near-miss keys, and run through the CLI's ``main`` in this process.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradtrace.cli import main

KEYS = ["z1", "a1", "cost", "delta1", "grad_W1", "W1_new", "W1_new[1,2]", "a1[2]", "z3", "cost[1]",
        "W1_new[0,1]", "step2", "delta2"]
numbers = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=6),
    st.decimals(-5, 5, allow_nan=False, places=2),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.integers(-10**6, 10**6),
    st.booleans(), st.text(max_size=8),
)
values: st.SearchStrategy[Any] = st.recursive(
    numbers, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS),
                                                                          inner, max_size=2),
    max_leaves=12)


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value) if not value.is_finite() else float(value)
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.dictionaries(st.sampled_from(KEYS), values, min_size=1, max_size=4),
       fmt=st.sampled_from(["json", "text", "markdown"]))
def test_any_answers_grade_or_fail_in_one_line(answers: dict[str, Any], fmt: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"spec": "seed", "answers": _json(answers)}), encoding="utf-8")
    code = main(["grade", str(path), "--format", fmt])
    err = capsys.readouterr().err
    assert code in (0, 1, 2)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("gradtrace: error: ")
    else:
        assert err == ""
