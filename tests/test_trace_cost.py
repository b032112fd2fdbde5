"""What a trace costs at the cap: neuron-view equations are built only when read, and the JSON
trace written straight to text is byte for byte what ``json.dumps`` of its dict makes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gradtrace.render import markdown
from gradtrace.render import text as text_renderer
from gradtrace.render.options import RenderOptions
from gradtrace.render.wording import NEURON_FOLD
from gradtrace.spec import Spec, load_spec
from gradtrace.trace import jsontext
from gradtrace.trace.expr import Num, Sym, add, call, mul
from gradtrace.trace.json import dumps, equation_to_dict, to_dict
from gradtrace.trace.model import Trace
from gradtrace.trace.quantity import Equation, Equations, Quantity
from gradtrace.workflow import trace_spec


def _counting(count: int) -> tuple[Equations, list[int]]:
    calls: list[int] = []

    def build(k: int) -> Equation:
        calls.append(k)
        return Equation(Sym("z", 1, float(k), (k + 1,)), None, float(k))

    return Equations(count, build), calls


def test_equations_are_built_once_each_and_only_when_read() -> None:
    equations, calls = _counting(5)
    assert len(equations) == 5 and equations.built == 0 and calls == []
    first_two = equations[:2]
    assert [e.value for e in first_two] == [0.0, 1.0] and calls == [0, 1]
    assert equations[-1].value == 4.0 and equations[1] is first_two[1]
    assert calls == [0, 1, 4] and equations.built == 3
    assert [e.value for e in equations] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert sorted(calls) == [0, 1, 2, 3, 4]  # nothing built twice
    with pytest.raises(IndexError):
        equations[5]
    with pytest.raises(IndexError):
        equations[-6]


def test_equations_equal_the_tuple_of_the_same_equations() -> None:
    equations, _ = _counting(3)
    same = tuple(Equation(Sym("z", 1, float(k), (k + 1,)), None, float(k)) for k in range(3))
    assert equations == same and same == equations and hash(equations) == hash(same)
    assert equations != same[:2] and equations != "abc"
    lhs = Equation(Sym("z", 1, 0.0), None, 0.0)
    assert Quantity("z1", "z", 1, "forward", lhs, equations) == Quantity("z1", "z", 1, "forward", lhs, same)


def _cap_trace() -> Trace:
    sizes = [40, 40, 40, 40, 1]  # 4,961 parameters: the trace cap
    data = {"name": "cap", "loss": "half_sse", "learning_rate": 0.5, "sizes": sizes,
            "activations": ["tanh", "tanh", "tanh", "sigmoid"], "init": "xavier", "seed": 1,
            "data": {"input": [[0.1 * ((i % 7) - 3) for i in range(40)]], "target": [[1.0]]}}
    return trace_spec(Spec.model_validate(data))


@pytest.mark.parametrize("view", ["matrix", "neuron"])
def test_a_printed_trace_builds_only_the_equations_it_shows(view: str) -> None:
    trace = _cap_trace()
    options = RenderOptions(view=view, width=100)
    text_renderer.render(trace, options)
    markdown.render(trace, options)
    quantities = trace.steps[0].quantities()
    built = [q.neuron.built for q in quantities if isinstance(q.neuron, Equations)]
    assert len(built) > 20  # every quantity with more than one entry is built lazily
    limit = 0 if view == "matrix" else NEURON_FOLD
    assert max(built) == limit
    assert sum(len(q.neuron) for q in quantities) > 10_000


def _traces() -> list[tuple[str, Trace]]:
    result = []
    for name in ("seed", "xor", "softmax", "hankamber", "cs231n", "nnfs", "introml", "postnetwork"):
        result.append((name, trace_spec(load_spec(name), 2)))
    for optimizer in ({"name": "momentum", "momentum": 0.9},
                      {"name": "adam", "weight_decay": 0.1}):
        data: dict[str, Any] = load_spec("xor").model_dump()
        data["optimizer"] = optimizer
        result.append((optimizer["name"], trace_spec(Spec.model_validate(data), 2)))
    data = load_spec("hankamber").model_dump()
    data["round"] = 3
    result.append(("hankamber-round", trace_spec(Spec.model_validate(data))))
    return result


@pytest.mark.parametrize("version", [1, 2])
def test_the_json_text_is_json_dumps_of_the_trace_dict(version: int) -> None:
    for name, trace in [*_traces(), ("cap", _cap_trace())]:
        expected = json.dumps(to_dict(trace, version=version), separators=(",", ":"),
                              allow_nan=False)
        assert dumps(trace, version=version) == expected, name
        assert dumps(trace, explanation=False, version=version) == json.dumps(
            to_dict(trace, explanation=False, version=version), separators=(",", ":")), name


def test_the_text_writer_escapes_and_refuses_as_json_does() -> None:
    writer = jsontext.ExplanationWriter(jsontext.inline_symbol)
    one = Num(0.5, "½")
    rhs = add(mul(one, Sym("W", 1, -0.0, (1, 2))), call("σ", Sym("a", None, 3.0)), one)
    equation = Equation(Sym("δ", 2, 1e-300, (1,)), rhs, 2.5, "note: δ ⊙ \"quoted\"\n")
    quantity = Quantity("delta2", "delta", 2, "backward", equation, (equation,))
    expected = json.dumps({"key": "delta2", "kind": "delta", "layer": 2, "phase": "backward",
                           "matrix": equation_to_dict(equation), "neuron": [equation_to_dict(equation)]},
                          separators=(",", ":"))
    assert writer.quantity(quantity) == expected
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="not JSON compliant"):
            jsontext.inline_symbol(Sym("a", 1, bad, (1,)))


def test_fast_constructors_keep_frozen_dataclasses() -> None:
    import dataclasses

    node = Sym("W", 1, 0.5, (1, 2))
    assert node == Sym("W", 1, 0.5, (1, 2)) and hash(node) == hash(Sym("W", 1, 0.5, (1, 2)))
    assert repr(node) == "Sym(kind='W', layer=1, value=0.5, index=(1, 2))"
    assert dataclasses.replace(node, index=(2, 1)) == Sym("W", 1, 0.5, (2, 1))
    equation = Equation(node, mul(node, node), 0.25)
    assert equation.note is None and equation == Equation(node, mul(node, node), 0.25)
    for frozen, field in ((node, "kind"), (equation, "value"), (mul(node), "op")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(frozen, field, None)


def test_the_json_writer_keeps_no_equation_it_built() -> None:
    trace = trace_spec(load_spec("xor"), 1)
    dumps(trace, version=2)
    lazy = [q.neuron for q in trace.steps[0].quantities() if isinstance(q.neuron, Equations)]
    assert lazy and all(equations.built == 0 for equations in lazy)
    assert dumps(trace, version=2) == json.dumps(to_dict(trace, version=2), separators=(",", ":"))
    assert all(equations.built == len(equations) for equations in lazy)  # to_dict keeps them
    equations, calls = _counting(3)
    assert [e.value for e in equations.unkept()] == [0.0, 1.0, 2.0] and equations.built == 0
    equations[1]
    assert list(equations.unkept())[1] is equations[1] and calls == [0, 1, 2, 1, 0, 2]
