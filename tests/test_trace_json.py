"""The trace's JSON: both schema versions round-trip every optimiser, /2's references give back
exactly /1's numbers, and /2 stays small at the trace cap."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gradtrace.errors import GradtraceError
from gradtrace.spec import Spec, load_spec
from gradtrace.trace import refs
from gradtrace.trace.expr import Sym, add, mul
from gradtrace.trace.json import dumps, from_dict, schema, to_dict
from gradtrace.trace.model import Trace
from gradtrace.trace.quantity import Equation, Quantity
from gradtrace.workflow import trace_spec

EXAMPLES = ["seed", "xor", "softmax", "mattmazur"]
OPTIMIZERS: list[dict[str, Any]] = [
    {"name": "sgd"},
    {"name": "momentum", "momentum": 0.9},
    {"name": "adam", "weight_decay": 0.1},
]


def _trace(example: str, optimizer: dict[str, Any], steps: int = 2) -> Trace:
    data = load_spec(example).model_dump()
    data["optimizer"] = optimizer
    return trace_spec(Spec.model_validate(data), steps)


def _validator(version: int) -> jsonschema.protocols.Validator:
    document = schema(version)
    cls = jsonschema.validators.validator_for(document)
    cls.check_schema(document)
    return cls(document)


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: "-".join(map(str, o.values())))
@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("version", [1, 2])
def test_every_optimiser_round_trips(example: str, optimizer: dict[str, Any], version: int) -> None:
    trace = _trace(example, optimizer)
    text = dumps(trace, version=version)
    data = json.loads(text)
    errors = list(_validator(version).iter_errors(data))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:3]]
    again = from_dict(data)  # momentum and Adam read their state back (this raised StopIteration)
    for step, read in zip(trace.steps, again.steps, strict=True):
        assert read.quantities() == step.quantities()
        assert read.optimizer == step.optimizer
        assert read.learning_rate == step.learning_rate
    assert dumps(again, version=version) == text


@pytest.mark.parametrize("optimizer", OPTIMIZERS[1:], ids=["momentum", "adam-decay"])
@pytest.mark.parametrize("example", EXAMPLES)
def test_references_give_back_every_number(example: str, optimizer: dict[str, Any]) -> None:
    trace = _trace(example, optimizer)
    data = json.loads(dumps(trace, version=2))
    for step, written in zip(trace.steps, data["steps"], strict=True):
        read = refs.explanation_from_json(written["explanation"], written["values"])
        assert read == step.quantities()  # every Sym: kind, layer, index and value, bit for bit


def test_version_2_stores_the_learning_rate_once() -> None:
    trace = _trace("xor", {"name": "adam"})
    step = json.loads(dumps(trace, version=2))["steps"][0]
    assert step["learning_rate"] == 0.5
    assert "learning_rate" not in step["optimizer"]
    assert step["optimizer"]["beta1"] == 0.9
    # /1 keeps its meaning: the rate in both places, as before
    assert json.loads(dumps(trace, version=1))["steps"][0]["optimizer"]["learning_rate"] == 0.5


def test_an_entry_of_no_known_matrix_keeps_its_value_inline() -> None:
    table = refs.ValueTable()
    W = Sym("W", 1, ((0.5, -0.0), (2.0, 3.0)))
    known = Sym("W", 1, -0.0, (1, 2))
    stray = Sym("W", 1, 7.0, (1, 1))  # W1[1,1] is 0.5 in the table: this one cannot point there
    signed = Sym("W", 1, 0.0, (1, 2))  # +0.0 is written differently from the table's -0.0
    equation = Equation(Sym("z", 1, 1.0, (1,)), add(mul(W, known), stray, signed), 1.0)
    quantity = Quantity("z1", "z", 1, "forward", equation, ())
    written = table.quantity(quantity)
    terms = written["matrix"]["rhs"]["args"]
    assert terms[0]["args"] == [{"ref": 0}, {"ref": 0, "index": [1, 2]}]
    assert terms[1] == {"sym": "W", "layer": 1, "value": 7.0, "index": [1, 1]}
    assert terms[2]["value"] == 0.0 and "ref" not in terms[2]
    assert "value" not in written["matrix"]  # equal to the lhs's
    read = refs.explanation_from_json(json.loads(json.dumps([written])), table.values)
    assert read == (quantity,)


def test_from_dict_names_both_schemas() -> None:
    data = to_dict(_trace("seed", {"name": "sgd"}, 1), version=2)
    data["schema"] = "gradtrace.trace/3"
    with pytest.raises(GradtraceError, match=re.escape("'gradtrace.trace/1' or 'gradtrace.trace/2'")):
        from_dict(data)
    with pytest.raises(GradtraceError, match="version 3 is unknown"):
        to_dict(_trace("seed", {"name": "sgd"}, 1), version=3)


def test_both_versions_are_compact_unless_indent_is_asked() -> None:
    """Indenting is pure Python in the json module (1.8 s for /1 at the cap); compact is C."""
    trace = _trace("seed", {"name": "sgd"}, 1)
    for version in (1, 2):
        written = dumps(trace, version=version)
        assert "\n" not in written and '":' in written and '": ' not in written
        assert json.loads(written) == to_dict(trace, version=version)
    assert dumps(trace, version=1, indent=2).startswith('{\n  "schema": "gradtrace.trace/1"')


def test_version_2_is_small_at_the_trace_cap() -> None:
    # 40-40-40-40-1 (4,961 parameters), one sample: /1 repeats operands in every equation (19 MB)
    spec = Spec.model_validate({
        "loss": "half_sse", "sizes": [40, 40, 40, 40, 1], "activations": ["tanh"] * 3 + ["sigmoid"],
        "seed": 1, "data": {"input": [[0.1 * (i % 7 - 3) for i in range(40)]], "target": [[1.0]]},
    })
    trace = trace_spec(spec)
    written = dumps(trace, version=2)
    assert len(written.encode()) <= 3_000_000
    step = json.loads(written)["steps"][0]  # (schema validation: on the small traces above)
    assert refs.explanation_from_json(step["explanation"], step["values"]) == trace.steps[0].quantities()


# ---- imports -----------------------------------------------------------------------------------

TRACE = Path(__file__).resolve().parents[1] / "src" / "gradtrace" / "trace"


def _runtime_imports(path: Path) -> set[str]:
    """Modules a file imports when it runs (not those under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node) for block in ast.walk(tree)
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name)
        and block.test.id == "TYPE_CHECKING"
        for node in ast.walk(block)
    }
    return {node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and id(node) not in typing_only}


@pytest.mark.parametrize("name", ["explain.py", "updates.py", "quantity.py", "refs.py"])
def test_the_explainer_does_not_import_the_model_back(name: str) -> None:
    assert "gradtrace.trace.model" not in _runtime_imports(TRACE / name)
    assert "gradtrace.trace.explain" in _runtime_imports(TRACE / "model.py")


def test_the_cycle_collector_is_left_as_found() -> None:
    """explain and dumps pause the collector (a third of their time at the cap), then restore it."""
    import gc

    from gradtrace.trace.bulk import collector_paused

    assert gc.isenabled()
    dumps(_trace("seed", {"name": "sgd"}, 1), version=2)
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
