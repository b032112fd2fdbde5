"""The trace's JSON form, schema ``gradtrace.trace/1`` (a public interface: see README).

Matrices are nested lists in the column-vector view; floats are written at full precision
(Python's shortest round-trip repr). ``explanation`` holds each quantity's equations as
expression trees (trace/expr.py) so that any front end can print formula -> numbers -> result.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np

from gradtrace.errors import GradtraceError
from gradtrace.trace import expr
from gradtrace.trace.model import (
    Array,
    BackwardRecord,
    Equation,
    ForwardRecord,
    LayerInfo,
    NetworkInfo,
    OptimizerInfo,
    Quantity,
    Step,
    Trace,
    UpdateRecord,
    frozen_array,
)

SCHEMA = "gradtrace.trace/1"
SCHEMA_FILE = "trace-1.schema.json"


def schema() -> dict[str, Any]:
    """The JSON Schema document for ``gradtrace.trace/1``."""
    text = resources.files("gradtrace.trace").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def _matrix(array: Array) -> list[list[float]]:
    return [[float(v) for v in row] for row in np.asarray(array)]


def network_to_dict(network: NetworkInfo) -> dict[str, Any]:
    layers = []
    for layer in network.layers:
        item: dict[str, Any] = {
            "inputs": layer.inputs, "outputs": layer.outputs, "activation": layer.activation,
            "trainable": layer.trainable,
        }
        if layer.slope is not None:
            item["slope"] = layer.slope
        layers.append(item)
    return {"loss": network.loss, "train_biases": network.train_biases, "layers": layers}


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


def step_to_dict(step: Step, explanation: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "index": step.index,
        "learning_rate": step.learning_rate,
        "optimizer": {"name": step.optimizer.name, **dict(step.optimizer.hyperparameters)},
        "input": _matrix(step.input),
        "target": _matrix(step.target),
        "forward": [{"layer": r.layer, "z": _matrix(r.z), "a": _matrix(r.a)} for r in step.forward],
        "cost": step.cost,
        "per_sample_cost": [float(c) for c in step.per_sample_cost],
        "backward": [_backward_to_dict(r) for r in step.backward],
        "update": [
            {"layer": r.layer, "W_old": _matrix(r.W_old), "W_new": _matrix(r.W_new),
             "b_old": _matrix(r.b_old), "b_new": _matrix(r.b_new),
             "W_trained": r.W_trained, "b_trained": r.b_trained}
            for r in step.update
        ],
    }
    if explanation:
        data["explanation"] = [quantity_to_dict(q) for q in step.quantities()]
    return data


def _backward_to_dict(record: BackwardRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "layer": record.layer, "delta": _matrix(record.delta),
        "grad_W": _matrix(record.grad_W), "grad_b": _matrix(record.grad_b),
    }
    if record.grad_a is not None:
        item["grad_a"] = _matrix(record.grad_a)
    return item


def to_dict(trace: Trace, explanation: bool = True) -> dict[str, Any]:
    """The whole trace as JSON-ready objects."""
    data: dict[str, Any] = {"schema": SCHEMA}
    if trace.name:
        data["name"] = trace.name
    data["network"] = network_to_dict(trace.network)
    data["steps"] = [step_to_dict(step, explanation) for step in trace.steps]
    return data


def dumps(trace: Trace, explanation: bool = True, indent: int | None = 2) -> str:
    """The trace as a JSON string."""
    return json.dumps(to_dict(trace, explanation), indent=indent, allow_nan=False)


def from_dict(data: dict[str, Any]) -> Trace:
    """Read a ``gradtrace.trace/1`` object back into a Trace (explanations are rebuilt)."""
    if data.get("schema") != SCHEMA:
        raise GradtraceError(f"expected a trace with schema {SCHEMA!r}, found {data.get('schema')!r}")
    net = data["network"]
    network = NetworkInfo(
        net["loss"],
        tuple(LayerInfo(ly["inputs"], ly["outputs"], ly["activation"], ly.get("slope"),
                        ly.get("trainable", True)) for ly in net["layers"]),
        net.get("train_biases", True),
    )
    return Trace(network, tuple(_step_from_dict(s, network) for s in data["steps"]), data.get("name"))


def _array(value: list[list[float]]) -> Array:
    return frozen_array(np.array(value, dtype=np.float64))


def _step_from_dict(data: dict[str, Any], network: NetworkInfo) -> Step:
    optimizer = dict(data.get("optimizer", {"name": "sgd"}))
    name = optimizer.pop("name")
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
        update=tuple(
            UpdateRecord(r["layer"], _array(r["W_old"]), _array(r["W_new"]), _array(r["b_old"]),
                         _array(r["b_new"]), r.get("W_trained", True), r.get("b_trained", True))
            for r in data["update"]
        ),
        optimizer=OptimizerInfo(name, tuple((k, float(v)) for k, v in optimizer.items())),
    )
