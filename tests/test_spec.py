"""Spec files: the three formats agree, sizes+init+seed are deterministic, and every class of bad
input is a SpecError whose one-line message names the file, the field and what was expected."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from gradtrace.core.backprop import train_step
from gradtrace.core.network import MLP
from gradtrace.core.optimizers import SGD
from gradtrace.errors import GradtraceError, LimitError, SpecError, UnknownNameError
from gradtrace.spec import MAX_LAYERS, MAX_PARAMETERS, MAX_UNITS, load_spec, parse_spec
from gradtrace.trace.record import (
    MAX_TRACE_BATCH,
    MAX_TRACE_PARAMETERS,
    MAX_TRACE_STEPS,
    MAX_TRACE_UNITS,
    check_traceable,
    trace_steps,
)

SEED_TOML = """\
loss = "half_sse"
learning_rate = 1.0
train_biases = true
[data]
input  = [0.35, 0.7]
target = 0.5
[[layers]]
weights = [[0.2, 0.2], [0.3, 0.3]]
bias = [0.1, -0.1]
activation = "sigmoid"
[[layers]]
weights = [[0.3, 0.9]]
activation = "leaky_relu"
slope = 0.2
"""

BASE: dict[str, Any] = {
    "loss": "half_sse",
    "learning_rate": 1.0,
    "data": {"input": [0.35, 0.7], "target": [0.5]},
    "layers": [
        {"weights": [[0.2, 0.2], [0.3, 0.3]], "bias": [0.0, 0.0], "activation": "sigmoid"},
        {"weights": [[0.3, 0.9]], "activation": "sigmoid"},
    ],
}


def _same_network(a: MLP, b: MLP) -> None:
    assert a.loss.name == b.loss.name and a.train_biases == b.train_biases
    assert len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers, strict=True):
        np.testing.assert_array_equal(la.W, lb.W)
        np.testing.assert_array_equal(la.b, lb.b)
        assert la.W.dtype == lb.W.dtype
        assert la.activation.name == lb.activation.name
        assert la.activation.params == lb.activation.params


# ---- the three formats ------------------------------------------------------------------------

def test_toml_json_and_yaml_give_the_same_network(tmp_path: Path) -> None:
    import tomllib

    fields = tomllib.loads(SEED_TOML)
    (tmp_path / "net.toml").write_text(SEED_TOML)
    (tmp_path / "net.json").write_text(json.dumps(fields))
    (tmp_path / "net.yaml").write_text(yaml.safe_dump(fields))
    (tmp_path / "net.yml").write_text(yaml.safe_dump(fields))
    specs = [load_spec(tmp_path / name) for name in ("net.toml", "net.json", "net.yaml", "net.yml")]
    reference = specs[0].build_mlp()
    assert reference.layers[1].activation.params == {"slope": 0.2}
    np.testing.assert_array_equal(reference.layers[0].b, [0.1, -0.1])
    np.testing.assert_array_equal(reference.layers[1].b, [0.0])  # bias is optional: zeros
    X, Y = specs[0].arrays()
    np.testing.assert_array_equal(Y, [[0.5]])  # a bare number is one output of one sample
    for spec in specs[1:]:
        assert spec == specs[0]
        _same_network(spec.build_mlp(), reference)
        X2, Y2 = spec.arrays()
        np.testing.assert_array_equal(X2, X)
        np.testing.assert_array_equal(Y2, Y)
    # string paths work too
    assert load_spec(str(tmp_path / "net.toml")) == specs[0]


def test_built_in_examples_load_by_name_and_default_to_the_seed() -> None:
    assert load_spec() == load_spec("seed")
    for name in ("seed", "xor", "softmax", "mattmazur"):
        spec = load_spec(name)
        X, Y = spec.arrays()
        assert X.shape[1] == spec.layer_sizes()[0] and Y.shape[1] == spec.layer_sizes()[-1]


def test_a_batch_is_a_list_of_rows() -> None:
    data = copy.deepcopy(BASE)
    data["data"] = {"input": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "target": [[1], [0], [1]]}
    X, Y = parse_spec(data).arrays()
    assert X.shape == (3, 2) and Y.shape == (3, 1)


# ---- sizes, init and seed --------------------------------------------------------------------

def _sized(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"sizes": [3, 4, 2], "init": "xavier", "seed": 5}
    data.update(overrides)
    return data


def test_sizes_with_a_seed_are_deterministic() -> None:
    first, again = parse_spec(_sized()).build_mlp(), parse_spec(_sized()).build_mlp()
    _same_network(first, again)
    assert [ly.W.shape for ly in first.layers] == [(4, 3), (2, 4)]
    assert [ly.b.shape for ly in first.layers] == [(4,), (2,)]
    assert all(np.all(ly.b == 0) for ly in first.layers)
    other_seed = parse_spec(_sized(seed=6)).build_mlp()
    assert not np.array_equal(first.layers[0].W, other_seed.layers[0].W)


@pytest.mark.parametrize("init", ["xavier", "he", "uniform"])
def test_each_init_draws_within_its_documented_range(init: str) -> None:
    mlp = parse_spec(_sized(init=init, sizes=[50, 40, 2])).build_mlp()
    W = mlp.layers[0].W  # (40, 50)
    if init == "xavier":
        assert np.abs(W).max() <= math.sqrt(6 / (50 + 40))
    elif init == "uniform":
        assert np.abs(W).max() <= 1 / math.sqrt(50)
    else:  # he: N(0, 2/n_in); 2000 draws put the sample std within 10% of sqrt(2/50)
        assert W.std() == pytest.approx(math.sqrt(2 / 50), rel=0.1)
    assert len(set(W.ravel().tolist())) == W.size  # drawn, not constant


def test_activations_for_sized_networks() -> None:
    mlp = parse_spec(_sized(activations=["tanh", "softmax"], loss="cross_entropy")).build_mlp()
    assert [ly.activation.name for ly in mlp.layers] == ["tanh", "softmax"]
    assert [ly.activation.name for ly in parse_spec(_sized(activations="relu")).build_mlp().layers] \
        == ["relu", "relu"]
    assert [ly.activation.name for ly in parse_spec(_sized()).build_mlp().layers] == \
        ["sigmoid", "sigmoid"]


def test_float32_networks_stay_float32_and_agree_with_float64() -> None:
    data64 = copy.deepcopy(BASE)
    data32 = copy.deepcopy(BASE) | {"dtype": "float32"}
    spec64, spec32 = parse_spec(data64), parse_spec(data32)
    mlp32 = spec32.build_mlp()
    X, Y = spec32.arrays()
    assert X.dtype == Y.dtype == np.float32
    assert all(ly.W.dtype == np.float32 and ly.b.dtype == np.float32 for ly in mlp32.layers)
    result32 = train_step(mlp32, X, Y, SGD(1.0))
    X64, Y64 = spec64.arrays()
    result64 = train_step(spec64.build_mlp(), X64, Y64, SGD(1.0))
    for (W32, b32), (W64, _) in zip(result32.new, result64.new, strict=True):
        assert W32.dtype == np.float32 and b32.dtype == np.float32
        np.testing.assert_allclose(W32, W64, rtol=1e-6)
    assert result32.cost == pytest.approx(result64.cost, rel=1e-5)
    sized = parse_spec(_sized(dtype="float32")).build_mlp()
    assert sized.layers[0].W.dtype == np.float32


# ---- bad input ---------------------------------------------------------------------------------

def _bad(mutate: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    mutate(data)
    return data


def _set(path: str, value: Any) -> Any:
    """A mutation setting e.g. "layers.0.bias" to value."""
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return mutate


_DELETE = object()

# (id, mutation, fragments the one-line message must contain)
BAD_FIELDS: list[tuple[str, Any, list[str]]] = [
    ("ragged-rows", _set("layers.0.weights", [[0.2, 0.2], [0.3]]),
     ["layers[0].weights", "different lengths"]),
    ("empty-weights", _set("layers.0.weights", []), ["layers[0].weights", "non-empty"]),
    ("weights-not-a-matrix", _set("layers.0.weights", "abc"), ["layers[0].weights"]),
    ("chained-shape", _set("layers.1.weights", [[0.3, 0.9, 0.1]]),
     ["layers[1].weights", "(1, 3)", "expected shape (1, 2)"]),
    ("bias-length", _set("layers.0.bias", [0.1]), ["layers[0].bias", "expected 2"]),
    ("input-width", _set("data.input", [0.1, 0.2, 0.3]), ["data.input", "2 inputs"]),
    ("target-width", _set("data.target", [0.1, 0.2]), ["data.target", "1 outputs"]),
    ("batch-mismatch", _set("data.input", [[0.1, 0.2], [0.3, 0.4]]),
     ["data.input", "2 samples", "data.target has 1"]),
    ("ragged-input", _set("data.input", [[0.1, 0.2], [0.3]]), ["data.input", "different lengths"]),
    ("nan-weight", _set("layers.0.weights", [[math.nan, 0.2], [0.3, 0.3]]),
     ["layers[0].weights[0][0]", "finite"]),
    ("inf-bias", _set("layers.0.bias", [math.inf, 0.0]), ["layers[0].bias[0]", "finite"]),
    ("nan-learning-rate", _set("learning_rate", math.nan), ["learning_rate", "finite"]),
    ("inf-slope", _set("layers.1.slope", math.inf), ["layers[1].slope", "finite"]),
    ("inf-target-number", _set("data.target", math.inf), ["data.target", "finite"]),
    ("nan-input", _set("data.input", [math.nan, 0.7]), ["data.input[0]", "finite"]),
    ("unknown-activation", _set("layers.0.activation", "sigmod"),
     ["layers[0].activation", "'sigmod'", "did you mean 'sigmoid'"]),
    ("unknown-loss", _set("loss", "cross_entropi"), ["loss", "did you mean 'cross_entropy'"]),
    ("unknown-loss-far", _set("loss", "hinge"), ["loss", "'hinge'", "half_sse"]),
    ("unknown-init", _set("init", "xavir"), ["init", "did you mean 'xavier'"]),
    ("bce-with-relu", lambda d: (d.update(loss="binary_cross_entropy"),
                                 d["layers"][1].update(activation="relu")),
     ["binary_cross_entropy", "'relu'", "sigmoid or softmax"]),
    ("ce-with-linear", lambda d: (d.update(loss="cross_entropy"),
                                  d["layers"][1].update(activation="linear")),
     ["cross_entropy", "'linear'", "sigmoid or softmax"]),
    ("softmax-hidden", _set("layers.0.activation", "softmax"), ["softmax", "output layer"]),
    ("both-layers-and-sizes", _set("sizes", [2, 2, 1]), ["layers", "sizes"]),
    ("neither-layers-nor-sizes", _set("layers", _DELETE), ["layers", "sizes"]),
    ("unknown-field", _set("colour", "red"), ["colour"]),
    ("unknown-layer-field", _set("layers.0.weight", [[1.0]]), ["layers[0].weight"]),
    ("negative-learning-rate", _set("learning_rate", -1), ["learning_rate", "greater than 0"]),
    ("string-learning-rate", _set("learning_rate", "fast"), ["learning_rate", "'fast'"]),
    ("bad-dtype", _set("dtype", "float16"), ["dtype", "float64", "float32"]),
]


@pytest.mark.parametrize(("mutate", "fragments"), [(m, f) for _, m, f in BAD_FIELDS],
                         ids=[i for i, _, _ in BAD_FIELDS])
def test_bad_fields_raise_a_spec_error_naming_the_field(mutate: Any, fragments: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(_bad(mutate), source="net.toml")
    message = str(info.value)
    assert isinstance(info.value, GradtraceError) and info.value.exit_code == 2
    assert message.startswith("net.toml: ")
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.parametrize("field", ["input", "target"])
def test_nan_in_a_data_list_says_finite_and_where(field: str) -> None:
    value = [math.nan, 0.7] if field == "input" else [[math.inf]]
    with pytest.raises(SpecError, match=rf"data\.{field}\[0\].*finite"):
        parse_spec(_bad(_set(f"data.{field}", value)), source="net.toml")


SIZES_BAD: list[tuple[str, list[Any], list[str]]] = [
    ("zero", [2, 0, 1], ["sizes", "sizes[1] is 0", "positive"]),
    ("negative", [2, -3, 1], ["sizes", "sizes[1] is -3", "positive"]),
    ("one-size", [2], ["sizes", "at least"]),
    ("fraction", [2.5, 1], ["sizes[0]", "integer"]),
    ("huge-layer", [2, MAX_UNITS + 1, 1], ["sizes[1]", "cap", f"{MAX_UNITS}"]),
    ("too-many-parameters", [5000, 5000, 5000, 5000], ["sizes", "cap", f"{MAX_PARAMETERS:,}"]),
    ("too-many-layers", [2] * (MAX_LAYERS + 2), ["sizes", f"cap of {MAX_LAYERS}"]),
]


@pytest.mark.parametrize(("sizes", "fragments"), [(s, f) for _, s, f in SIZES_BAD],
                         ids=[i for i, _, _ in SIZES_BAD])
def test_bad_sizes_are_refused_with_the_cap(sizes: list[Any], fragments: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec({"sizes": sizes}, source="big.toml")
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


MALFORMED = [
    ("net.toml", "loss = [\n", "malformed TOML"),
    ("net.toml", 'loss = "half_sse"\nloss = "mse"\n', "malformed TOML"),
    ("net.json", '{"loss": ', "malformed JSON at line 1"),
    ("net.json", '{\n"loss": "mse",\n}', "malformed JSON at line 3"),
    ("net.yaml", "loss: [1,\n  x: :", "malformed YAML at line"),
    ("net.json", "[1, 2]", "expected a table of fields"),
    ("net.yaml", "just a string", "expected a table of fields"),
    ("net.txt", "loss = 1", "unknown spec file type '.txt'"),
]


@pytest.mark.parametrize(("name", "text", "fragment"), MALFORMED)
def test_malformed_files_raise_a_spec_error_naming_the_file(
    tmp_path: Path, name: str, text: str, fragment: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and fragment in message and "\n" not in message


def test_non_finite_literals_in_files_are_refused(tmp_path: Path) -> None:
    # each format has its own spelling of NaN/inf; all must reach the finiteness check
    weights = "[[nan, 0.2], [0.3, 0.3]]"
    toml_text = SEED_TOML.replace("[[0.2, 0.2], [0.3, 0.3]]", weights)
    (tmp_path / "nan.toml").write_text(toml_text)
    (tmp_path / "nan.json").write_text(
        '{"data": {"input": [0.1, 0.2], "target": 0.5}, "layers": [{"weights": [[Infinity, 1]]}]}'
    )
    (tmp_path / "nan.yaml").write_text(
        "data: {input: [0.1, 0.2], target: 0.5}\nlayers:\n  - weights: [[.nan, 1]]\n"
    )
    for name in ("nan.toml", "nan.json", "nan.yaml"):
        with pytest.raises(SpecError, match=r"layers\[0\]\.weights\[0\]\[0\].*finite"):
            load_spec(tmp_path / name)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(SpecError, match="no such file") as info:
        load_spec(path)
    assert str(path) in str(info.value)


def test_unknown_example_suggests_the_closest_name() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'seed'"):
        load_spec("sed")
    with pytest.raises(UnknownNameError, match="mattmazur"):
        load_spec("nosuchexample")


def test_spec_without_data_says_so() -> None:
    spec = parse_spec({"sizes": [2, 1]})
    with pytest.raises(SpecError, match="data"):
        spec.arrays()


# ---- the trace caps -----------------------------------------------------------------------------

def _sized_mlp(sizes: list[int]) -> MLP:
    return parse_spec({"sizes": sizes, "activations": "linear"}).build_mlp()


def test_check_traceable_accepts_what_is_at_the_caps() -> None:
    check_traceable(_sized_mlp([1, MAX_TRACE_UNITS, 1]), MAX_TRACE_BATCH, MAX_TRACE_STEPS)


@pytest.mark.parametrize(
    ("sizes", "batch", "steps", "fragment"),
    [
        ([100, 60], 1, 1, "parameters"),  # 6,060 parameters
        ([1, MAX_TRACE_UNITS + 1, 1], 1, 1, "units"),
        ([2, 1], MAX_TRACE_BATCH + 1, 1, "batch"),
        ([2, 1], 1, MAX_TRACE_STEPS + 1, "steps"),
    ],
)
def test_check_traceable_refuses_beyond_the_caps(
    sizes: list[int], batch: int, steps: int, fragment: str
) -> None:
    assert MAX_TRACE_PARAMETERS < 100 * 60 + 60
    with pytest.raises(LimitError, match=fragment) as info:
        check_traceable(_sized_mlp(sizes), batch, steps)
    assert info.value.exit_code == 2 and "capped" in str(info.value)


def test_trace_steps_checks_the_cap_before_computing() -> None:
    mlp = _sized_mlp([2, 1])
    X, Y = np.zeros((MAX_TRACE_BATCH + 1, 2)), np.zeros((MAX_TRACE_BATCH + 1, 1))
    with pytest.raises(LimitError):
        trace_steps(mlp, X, Y, SGD(0.1))
