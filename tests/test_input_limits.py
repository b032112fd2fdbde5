"""Hostile input to the one place it is read: spec text, spec mappings, CLI options, the engine's
numbers. Each class of attack is refused with one short SpecError/NumericalError, quickly, never a
RecursionError, MemoryError or a silent inf (gradtrace issue #11)."""

from __future__ import annotations

import copy
import math
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gradtrace.errors import ECHO_LIMIT, NumericalError, SpecError, shorten, unknown_name
from gradtrace.spec import (
    MAX_NESTING,
    MAX_SAMPLES,
    MAX_SPEC_CHARACTERS,
    MAX_VALUES,
    load_spec,
    parse_spec,
    parse_text,
)
from gradtrace.web.app import create_app
from gradtrace.workflow import check_spec, trace_spec

BASE: dict[str, Any] = {
    "loss": "half_sse",
    "learning_rate": 1.0,
    "data": {"input": [0.35, 0.7], "target": [0.5]},
    "layers": [
        {"weights": [[0.2, 0.2], [0.3, 0.3]], "activation": "linear"},
        {"weights": [[0.3, 0.9]], "activation": "linear"},
    ],
}


def _spec(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def _laughs(levels: int) -> str:
    """The "billion laughs" YAML: each level aliases the one before nine times (9**levels)."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for k in range(1, levels + 1):
        lines.append(f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


# ---- reading text --------------------------------------------------------------------------

def test_yaml_aliases_are_refused_before_they_expand() -> None:
    text = _laughs(8)  # 9**8 = 43 million strings if expanded
    started = time.perf_counter()
    with pytest.raises(SpecError, match=r"line 1, column \d+: YAML anchors and aliases \(&a0\)"):
        parse_text(text, "yaml", "laughs.yaml")
    assert time.perf_counter() - started < 0.5
    with pytest.raises(SpecError, match=r"aliases \(\*x\)"):  # an alias alone, anchor undefined
        parse_text("loss: *x\n", "yaml", "net.yaml")


@pytest.mark.parametrize(("fmt", "open_", "close"), [("json", "[", "]"), ("toml", "[", "]"),
                                                     ("yaml", "[", "]")])
@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 1_000, 100_000])
def test_deep_nesting_is_a_spec_error_in_every_format(fmt: str, open_: str, close: str,
                                                      depth: int) -> None:
    value = open_ * depth + close * depth
    text = {"json": f'{{"sizes": {value}}}', "toml": f"sizes = {value}",
            "yaml": f"sizes: {value}"}[fmt]
    started = time.perf_counter()
    with pytest.raises(SpecError, match=f"nest.*{MAX_NESTING}") as info:
        parse_text(text, fmt, f"deep.{fmt}")
    assert len(str(info.value)) < 200
    assert time.perf_counter() - started < 5  # PyYAML scans 100,000 brackets in about 1 s


def test_nesting_up_to_the_limit_is_read() -> None:
    value = "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1)
    assert parse_text(f'{{"a": {value}}}', "json", "ok.json")["a"] is not None


@pytest.mark.parametrize("fmt", ["json", "toml", "yaml"])
def test_integers_over_4300_digits_are_a_spec_error(fmt: str) -> None:
    digits = "9" * 5000
    text = {"json": f'{{"seed": {digits}}}', "toml": f"seed = {digits}", "yaml": f"seed: {digits}"}
    with pytest.raises(SpecError, match="more than 4,300 digits"):
        parse_text(text[fmt], fmt, f"big.{fmt}")


def test_text_and_value_counts_are_capped() -> None:
    with pytest.raises(SpecError, match=f"capped at {MAX_SPEC_CHARACTERS:,}"):
        parse_text(" " * (MAX_SPEC_CHARACTERS + 1), "json", "huge.json")
    with pytest.raises(SpecError, match=f"more than {MAX_VALUES:,} values"):
        parse_spec({"sizes": [0] * MAX_VALUES})


# ---- mappings: the web API validates request JSON without parse_text -------------------------

def test_integers_beyond_the_float_range_are_refused_naming_the_field() -> None:
    data = _spec(data={"input": [10**400, 0.7], "target": [0.5]})
    with pytest.raises(SpecError, match=r"data\.input\[0\]: an integer of 401 digits"):
        parse_spec(data)


def test_deeply_nested_mappings_are_refused() -> None:
    nested: Any = 0.5
    for _ in range(5_000):
        nested = [nested]
    with pytest.raises(SpecError, match=r"data\.target\[0\]…: nested more than 64"):
        parse_spec(_spec(data={"input": [0.35, 0.7], "target": nested}))


@pytest.mark.parametrize("where", ["name", "description", "key"])
def test_lone_surrogates_are_refused_naming_the_field(where: str) -> None:
    data = {"\ud800x": 1} if where == "key" else _spec(**{where: "net \udc80"})
    with pytest.raises(SpecError, match="lone surrogate") as info:
        parse_spec(data)
    message = str(info.value)
    assert (where in message) if where != "key" else "field name" in message
    message.encode("utf-8")  # printable: the surrogate itself is escaped


def test_a_surrogate_escape_in_json_text_is_refused() -> None:
    with pytest.raises(SpecError, match=r"net\.json: name: .*U\+D800"):
        parse_text('{"name": "\\ud800"}', "json", "net.json")


# ---- echoed input is short -----------------------------------------------------------------------

def test_a_200_kb_field_name_gives_a_short_line() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(_spec(**{"k" * 200_000: 1}), source="net.json")
    message = str(info.value)
    assert len(message) < 300 and "200,000 characters" in message and "unknown field" in message


def test_a_long_value_is_shortened_in_every_message() -> None:
    long = "x" * 100_000
    for data in (_spec(loss=long), _spec(learning_rate=long), _spec(name=[long]),
                 _spec(data={"input": [long, 0.7], "target": [0.5]})):
        with pytest.raises(SpecError) as info:
            parse_spec(data)
        assert len(str(info.value)) < 300, str(info.value)[:400]


def test_shorten_cuts_with_the_length_and_keeps_short_values() -> None:
    assert shorten("abc") == "'abc'"
    cut = shorten("y" * 1000)
    assert len(cut) < ECHO_LIMIT + 30 and cut.endswith("… (1,000 characters)")
    assert "\\ud800" in shorten("\ud800")  # escaped, so the line can be printed
    assert len(unknown_name("loss", "z" * 10**6, ["mse"])) < 200


# ---- values the engine cannot take ---------------------------------------------------------------

@pytest.mark.parametrize(("changes", "fragments"), [
    ({"layers": []}, ["layers is empty"]),
    ({"seed": -1, "layers": None, "sizes": [2, 1]}, ["seed", "greater than or equal to 0"]),
    ({"training": {"seed": -5}}, ["training.seed", "greater than or equal to 0"]),
    ({"training": {"samples": MAX_SAMPLES + 1}}, ["training.samples", f"{MAX_SAMPLES}"]),
    ({"optimizer": {"name": "adma"}}, ["optimizer.name", "did you mean 'adam'"]),
])
def test_values_the_engine_cannot_take_are_spec_errors(changes: dict[str, Any],
                                                       fragments: list[str]) -> None:
    data = {k: v for k, v in _spec(**changes).items() if v is not None}
    with pytest.raises(SpecError) as info:
        parse_spec(data, source="net.toml")
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_float32_values_beyond_its_range_are_refused_naming_the_entry() -> None:
    layers = copy.deepcopy(BASE["layers"])
    layers[1]["weights"] = [[0.3, -1e39]]
    with pytest.raises(SpecError, match=r"layers\[1\]\.weights\[0\]\[1\] is -1e\+39, beyond float32"):
        parse_spec(_spec(dtype="float32", layers=layers))
    with pytest.raises(SpecError, match=r"data\.input\[1\] is 5e\+38"):
        parse_spec(_spec(dtype="float32", data={"input": [0.35, 5e38], "target": [0.5]}))
    parse_spec(_spec(layers=layers))  # float64 holds it


# ---- non-finite results: one error naming the first quantity ---------------------------------

def _overflowing(**changes: Any) -> Any:
    return parse_spec(_spec(**changes), source="big.toml")


def test_an_overflowing_step_names_the_first_non_finite_quantity() -> None:
    # z1 = W1 a0 = 1e200 · 1e200 overflows; everything after it is inf or NaN too
    spec = _overflowing(data={"input": [1e200, 1e200], "target": [0.5]},
                        layers=[{"weights": [[1e200, 0.0], [0.0, 0.0]], "activation": "linear"},
                                {"weights": [[0.3, 0.9]], "activation": "linear"}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's raw RuntimeWarnings never reach the user
        with pytest.raises(NumericalError, match=r"^big\.toml: z1 overflowed to inf in step 1 "
                           r"\(layer 1\); scale the inputs") as info:
            trace_spec(spec)
        assert info.value.exit_code == 2
        with pytest.raises(NumericalError, match="gradient of W1"):
            check_spec(spec, 1e-6)


def test_an_overflow_in_a_later_step_names_the_step() -> None:
    # step 1 is finite: z1 = 1e150, ∂C/∂W1 = z1 a0 = 1e300, W1' = 1 − 1e300; step 2's
    # z1 = W1' a0 = −1e450 is the first value out of range
    spec = _overflowing(data={"input": [1e150, 0.0], "target": [0.0]}, steps=2,
                        layers=[{"weights": [[1.0, 0.0]], "activation": "linear"}])
    with pytest.raises(NumericalError, match=r"z1 overflowed to -inf in step 2 \(layer 1\)"):
        trace_spec(spec)


def test_float32_overflow_inside_the_network_is_caught() -> None:
    spec = _overflowing(dtype="float32", data={"input": [1e20, 1e20], "target": [0.5]},
                        layers=[{"weights": [[1e20, 1e20]], "activation": "linear"}])
    with pytest.raises(NumericalError, match="z1 overflowed to inf"):
        trace_spec(spec)


def test_the_web_step_answers_422_with_the_same_message() -> None:
    client = TestClient(create_app(), base_url="http://127.0.0.1")
    body = _spec(data={"input": [1e200, 1e200], "target": [0.5]},
                 layers=[{"weights": [[1e200, 0.0]], "activation": "linear"}])
    response = client.post("/api/step", json=body)
    assert response.status_code == 422
    assert response.json()["message"].startswith("z1 overflowed to inf in step 1")
    laughs = client.post("/api/spec/text", json={"text": _laughs(9), "format": "yaml"})
    assert laughs.status_code == 422 and "aliases" in laughs.json()["message"]
    assert len(laughs.content) < 1000


# ---- CLI options merged into the spec --------------------------------------------------------

@pytest.mark.parametrize(("path", "option", "value", "fragment"), [
    ("learning_rate", "--learning-rate", 0.0, "greater than 0"),
    ("training.batch_size", "--batch-size", 0, "greater than or equal to 1"),
    ("optimizer.momentum", "--momentum", 1.5, "less than 1"),
    ("optimizer.weight_decay", "--weight-decay", -1.0, "greater than or equal to 0"),
    ("training.seed", "--seed", -1, "greater than or equal to 0"),
    ("training.samples", "--samples", 10**9, "less than or equal to"),
    ("steps", "--steps", 0, "greater than or equal to 1"),
])
def test_options_are_validated_by_the_spec_and_name_the_option(path: str, option: str,
                                                              value: object, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec("xor").with_options({path: (option, value)})
    message = str(info.value)
    assert message.startswith(f"{option}: ") and fragment in message and f"(sets {path})" in message


def test_options_replace_spec_values_and_none_keeps_them() -> None:
    spec = load_spec("xor")
    merged = spec.with_options({"learning_rate": ("--lr", 0.25), "training.epochs": ("--epochs", 3),
                                "optimizer.name": ("--optimizer", None)})
    assert merged.learning_rate == 0.25 and merged.training.epochs == 3
    assert merged.optimizer == spec.optimizer and merged.source == spec.source
    assert merged.with_options({}) == merged


def test_a_float_option_that_is_not_finite_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"--learning-rate: .*finite"):
        load_spec("xor").with_options({"learning_rate": ("--learning-rate", math.inf)})
