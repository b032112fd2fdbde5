"""Specs as the page edits them: explicit weights for every layer, and TOML text for download."""

from __future__ import annotations

import json
import math
from typing import Any

from gradtrace.core.network import MLP
from gradtrace.spec import Spec

# What the page opens with when no spec is given: a network that learns the xor dataset visibly
# within a few seconds of Play (10 steps a frame, batches of 10), as Playground's default does;
# its traced batch is four xor points, one per quadrant.
PLAYGROUND: dict[str, Any] = {
    "name": "playground",
    "description": "2-4-4-1 tanh/tanh/sigmoid with trainable biases, binary cross-entropy, η 0.3",
    "loss": "binary_cross_entropy",
    "learning_rate": 0.3,
    "sizes": [2, 4, 4, 1],
    "activations": ["tanh", "tanh", "sigmoid"],
    "init": "xavier",
    "seed": 3,
    "data": {"input": [[-0.5, 0.5], [0.5, 0.5], [0.5, -0.5], [-0.5, -0.5]],
             "target": [[1], [0], [1], [0]]},
}


def explicit_spec(spec: Spec, mlp: MLP | None = None) -> dict[str, Any]:
    """The spec as a JSON-ready mapping with ``layers`` holding ``mlp``'s (or the spec's) weights.

    The page holds and edits weights as (n_out, n_in), so the mapping is always in that layout.
    """
    mlp = mlp or spec.build_mlp()
    data = spec.model_dump(exclude_none=True, exclude={"sizes", "activations", "init", "seed"})
    layers = []
    for layer in mlp.layers:
        item: dict[str, Any] = {
            "weights": layer.W.tolist(),  # (n_out, n_in)
            "bias": layer.b.tolist(),
            "activation": layer.activation.name,
        }
        if "slope" in layer.activation.params:
            item["slope"] = layer.activation.params["slope"]
        if not layer.trainable:
            item["trainable"] = False
        layers.append(item)
    data["layers"] = layers
    # the weights above are (n_out, n_in) whatever layout the spec was written in: say so, or an
    # X·W spec's matrices would be read turned round (refused, or silently another network)
    data["weights_layout"] = "out_in"
    return data


# ---- TOML ------------------------------------------------------------------------------------

def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        assert math.isfinite(value), "specs are validated finite"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def to_toml(spec: dict[str, Any]) -> str:
    """A spec mapping (scalars, tables, an array of ``layers`` tables) as TOML text."""
    lines = ["# gradtrace spec, saved from the web page"]
    tables = {k: v for k, v in spec.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in spec.items()
              if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)}
    for key, value in spec.items():
        if key not in tables and key not in arrays:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables.items():
        lines += ["", f"[{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    for key, items in arrays.items():
        for item in items:
            lines += ["", f"[[{key}]]"] + [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"
