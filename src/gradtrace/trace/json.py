"""The trace's JSON form, schemas ``gradtrace.trace/1`` and ``/2`` (public interfaces: see README).

Matrices are nested lists in the column-vector view; floats are written at full precision
(Python's shortest round-trip repr). ``explanation`` holds each quantity's equations as
expression trees (trace/expr.py) so that any front end can print formula -> numbers -> result.
In ``/1`` every symbol carries its value; ``/2`` writes each matrix once per step (``values``)
and symbols refer to it (trace/refs.py), stores the learning rate once (not again among the
optimiser's hyperparameters), and is written without indentation: about 1/7 the size of ``/1``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np

from gradtrace.errors import GradtraceError
from gradtrace.trace import expr, jsontext, refs
from gradtrace.trace.bulk import collector_paused
from gradtrace.trace.model import (
    Array,
    BackwardRecord,
    Equation,
    ForwardRecord,
    LayerInfo,
    NetworkInfo,
    OptimizerInfo,
    OptimizerState,
    Quantity,
    Step,
    Trace,
    UpdateRecord,
    frozen_array,
)

SCHEMA = "gradtrace.trace/1"
SCHEMA_FILE = "trace-1.schema.json"
SCHEMA_2 = "gradtrace.trace/2"
VERSIONS = {1: SCHEMA, 2: SCHEMA_2}
# What a hand-rounded step's "exact" object holds: what the exact run computed (its input, target,
# learning rate and optimiser are the step's own).
EXACT_FIELDS = ("forward", "cost", "per_sample_cost", "backward", "update")


def schema(version: int = 1) -> dict[str, Any]:
    """The JSON Schema document for ``gradtrace.trace/<version>``."""
    name = f"trace-{version}.schema.json"
    text = resources.files("gradtrace.trace").joinpath(name).read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def _matrix(array: Array) -> list[list[float]]:
    result: list[list[float]] = np.asarray(array, dtype=np.float64).tolist()  # floats made in C
    return result


def network_to_dict(network: NetworkInfo) -> dict[str, Any]:
    layers = []
    for layer in network.layers:
        item: dict[str, Any] = {
            "inputs": layer.inputs, "outputs": layer.outputs, "activation": layer.activation,
            "trainable": layer.trainable,
        }
        if layer.slope is not None:
            item["slope"] = layer.slope
        if layer.params:
            item["params"] = dict(layer.params)
        layers.append(item)
    return {"loss": network.loss, "train_biases": network.train_biases, "layers": layers,
            "batch_reduction": network.batch_reduction, "weights_layout": network.weights_layout,
            "delta_convention": network.delta_convention}


def equation_to_dict(equation: Equation) -> dict[str, Any]:
    value = equation.value
    return {
        "lhs": expr.to_json(equation.lhs),
        "rhs": None if equation.rhs is None else expr.to_json(equation.rhs),
        "value": value if isinstance(value, float) else [list(row) for row in value],
        **({"note": equation.note} if equation.note else {}),
    }


def quantity_to_dict(quantity: Quantity) -> dict[str, Any]:
    return {
        "key": quantity.key, "kind": quantity.kind, "layer": quantity.layer,
        "phase": quantity.phase,
        "matrix": equation_to_dict(quantity.matrix),
        "neuron": [equation_to_dict(eq) for eq in quantity.neuron],
    }


def step_to_dict(step: Step, explanation: bool = True, version: int = 1) -> dict[str, Any]:
    hyperparameters = dict(step.optimizer.hyperparameters)
    if version >= 2:  # the learning rate once a step: top-level only
        hyperparameters.pop("learning_rate", None)
    data: dict[str, Any] = {
        "index": step.index,
        "learning_rate": step.learning_rate,
        "optimizer": {"name": step.optimizer.name, **hyperparameters},
        "input": _matrix(step.input),
        "target": _matrix(step.target),
        "forward": [{"layer": r.layer, "z": _matrix(r.z), "a": _matrix(r.a)} for r in step.forward],
        "cost": step.cost,
        "per_sample_cost": [float(c) for c in step.per_sample_cost],
        "backward": [_backward_to_dict(r) for r in step.backward],
        "update": [_update_to_dict(r) for r in step.update],
    }
    if step.exact is not None:  # hand arithmetic: the same step in float64
        exact = step_to_dict(step.exact, explanation=False, version=version)
        data["exact"] = {key: exact[key] for key in EXACT_FIELDS}
    if explanation and version >= 2:
        data["explanation"], data["values"] = refs.explanation_to_json(step.quantities())
    elif explanation:
        data["explanation"] = [quantity_to_dict(q) for q in step.quantities()]
    return data


def _update_to_dict(record: UpdateRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "layer": record.layer, "W_old": _matrix(record.W_old), "W_new": _matrix(record.W_new),
        "b_old": _matrix(record.b_old), "b_new": _matrix(record.b_new),
        "W_trained": record.W_trained, "b_trained": record.b_trained,
    }
    if record.state:  # momentum's velocity, Adam's m and v: the update's formula reads them
        item["state"] = [
            {"name": s.name, "parameter": s.parameter, "old": _matrix(s.old), "new": _matrix(s.new),
             **({} if s.count is None else {"count": s.count})}
            for s in record.state
        ]
    return item


def _update_from_dict(data: dict[str, Any]) -> UpdateRecord:
    state = tuple(
        OptimizerState(s["name"], s["parameter"], _array(s["old"]), _array(s["new"]), s.get("count"))
        for s in data.get("state", ())
    )
    return UpdateRecord(data["layer"], _array(data["W_old"]), _array(data["W_new"]),
                        _array(data["b_old"]), _array(data["b_new"]), data.get("W_trained", True),
                        data.get("b_trained", True), state)


def _backward_to_dict(record: BackwardRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "layer": record.layer, "delta": _matrix(record.delta),
        "grad_W": _matrix(record.grad_W), "grad_b": _matrix(record.grad_b),
    }
    if record.grad_a is not None:
        item["grad_a"] = _matrix(record.grad_a)
    return item


def to_dict(trace: Trace, explanation: bool = True, version: int = 1) -> dict[str, Any]:
    """The whole trace as JSON-ready objects in schema ``gradtrace.trace/<version>``."""
    if version not in VERSIONS:
        raise GradtraceError(f"trace schema version {version} is unknown; use one of {sorted(VERSIONS)}")
    data: dict[str, Any] = {"schema": VERSIONS[version]}
    if trace.name:
        data["name"] = trace.name
    if trace.rounding is not None:
        data["round"] = trace.rounding
    data["network"] = network_to_dict(trace.network)
    data["steps"] = [step_to_dict(step, explanation, version) for step in trace.steps]
    return data


def dumps(trace: Trace, explanation: bool = True, indent: int | None = None, version: int = 1) -> str:
    """The trace as a compact JSON string; ``indent`` spaces per level for a /1 a person reads.

    Compact by default, /1 too: at the trace cap an indented /1 is 19 MB against 5 MB, and
    Python's json module indents in pure Python (1.8 s there) but writes compact text in C.
    ``/2`` is always compact (its size is the point).
    """
    if version == 1 and indent is not None:
        with collector_paused():
            data = to_dict(trace, explanation, version)
        return json.dumps(data, indent=indent, allow_nan=False)
    with collector_paused():
        head = to_dict(Trace(trace.network, (), trace.name, trace.rounding), version=version)
        del head["steps"]  # last: the steps follow as text
        steps = ",".join([_step_text(step, explanation, version) for step in trace.steps])
    return jsontext.with_raw(head, {"steps": f"[{steps}]"})


def _step_text(step: Step, explanation: bool, version: int) -> str:
    """``step_to_dict`` as compact JSON text, its explanation written straight to text."""
    records = step_to_dict(step, explanation=False, version=version)
    if not explanation:
        return jsontext.dumps(records)
    if version >= 2:
        text, values = refs.explanation_text(step.quantities())
        return jsontext.with_raw(records, {"explanation": text, "values": jsontext.dumps(values)})
    writer = jsontext.ExplanationWriter(jsontext.inline_symbol)
    return jsontext.with_raw(records, {"explanation": jsontext.explanation(step.quantities(), writer)})


def from_dict(data: dict[str, Any]) -> Trace:
    """Read a ``gradtrace.trace/1`` or ``/2`` object back into a Trace (explanations are rebuilt)."""
    if data.get("schema") not in VERSIONS.values():
        expected = " or ".join(repr(name) for name in VERSIONS.values())
        raise GradtraceError(f"expected a trace with schema {expected}, found {data.get('schema')!r}")
    net = data["network"]
    network = NetworkInfo(
        net["loss"],
        tuple(LayerInfo(ly["inputs"], ly["outputs"], ly["activation"], ly.get("slope"),
                        ly.get("trainable", True), _layer_params(ly)) for ly in net["layers"]),
        net.get("train_biases", True),
        net.get("batch_reduction", "mean"),
        net.get("weights_layout", "out_in"),
        net.get("delta_convention", "gradient"),
    )
    return Trace(network, tuple(_step_from_dict(s, network) for s in data["steps"]), data.get("name"),
                 data.get("round"))


def _array(value: list[list[float]]) -> Array:
    return frozen_array(np.array(value, dtype=np.float64))


def _step_from_dict(data: dict[str, Any], network: NetworkInfo) -> Step:
    exact = None
    if "exact" in data:  # the exact step shares the rounded step's input, target and optimiser
        exact = _step_from_dict({**{k: v for k, v in data.items() if k != "exact"},
                                 **data["exact"]}, network)
    optimizer = dict(data.get("optimizer", {"name": "sgd"}))
    name = optimizer.pop("name")
    # /2 stores the learning rate once; the model lists it first among the hyperparameters
    optimizer = {"learning_rate": data["learning_rate"], **optimizer}
    return Step(
        index=data["index"],
        network=network,
        learning_rate=data["learning_rate"],
        input=_array(data["input"]),
        target=_array(data["target"]),
        forward=tuple(ForwardRecord(r["layer"], _array(r["z"]), _array(r["a"]))
                      for r in data["forward"]),
        cost=data["cost"],
        per_sample_cost=frozen_array(np.array(data.get("per_sample_cost", [data["cost"]]))),
        backward=tuple(
            BackwardRecord(r["layer"], _array(r["delta"]), _array(r["grad_W"]), _array(r["grad_b"]),
                           _array(r["grad_a"]) if "grad_a" in r else None)
            for r in data["backward"]
        ),
        update=tuple(_update_from_dict(r) for r in data["update"]),
        optimizer=OptimizerInfo(name, tuple((k, float(v)) for k, v in optimizer.items())),
        exact=exact,
    )


def _layer_params(layer: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    """A layer's activation parameters; a trace written before "params" has at most a slope."""
    params = layer.get("params", {"slope": layer["slope"]} if "slope" in layer else {})
    return tuple((str(key), float(value)) for key, value in params.items())
