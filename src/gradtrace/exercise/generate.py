"""Hand-friendly networks, deterministic in a seed.

Notation: layer l has W_l (n_l, n_{l−1}), b_l (n_l,), z_l = W_l a_{l−1} + b_l, a_l = σ_l(z_l); a_0 the
input x, y the target, η the learning rate. Every given number is one a learner copies by hand:
W and b are multiples of 0.05 in [−1, 1] (so also every multiple of 0.1), x and y have at most two
decimals, η ∈ {0.1, 0.25, 0.5, 1}. A draw is kept only when every unit has 0.05 ≤ |z| ≤ 2.5: far
from saturation (σ′(2.5) ≈ 0.07, tanh′(2.5) ≈ 0.03) and from a kink at z = 0 (relu, abs), for
every activation alike, so no activation is special-cased here.

Conventions (the hand-work ones: weights_layout, delta_convention, batch_reduction) are spec
fields: ``with_conventions`` sets them through ``Spec.with_options``, so the spec validates them,
and writes the weights in the chosen layout (in_out: W_l as (n_{l−1}, n_l), z = a W + b).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gradtrace.core.activations import ACTIVATIONS
from gradtrace.core.losses import LOSSES
from gradtrace.errors import GradtraceError, SpecError, unknown_name
from gradtrace.spec import Spec, parse_spec

LEARNING_RATES = (0.1, 0.25, 0.5, 1.0)
WEIGHT_STEP = 0.05  # weights and biases: k·0.05, |k| ≤ 20
Z_MIN, Z_MAX = 0.05, 2.5  # |z| of every unit: off a kink, off saturation
MAX_DRAWS = 2_000  # draws per seed before giving up: small nets pass in a few
MAX_UNITS = 8  # per layer: a sheet worked by hand
# spec field -> the command-line option that sets it (named in a refusal)
CONVENTION_OPTIONS = {"weights_layout": "--layout", "delta_convention": "--delta-convention",
                      "batch_reduction": "--batch-reduction", "round": "--round"}


def generate(seed: int, sizes: Sequence[int] = (2, 2, 1), activations: str | Sequence[str] =
             "sigmoid", loss: str = "half_sse", *,
             conventions: Mapping[str, str | int | None] | None = None) -> dict[str, Any]:
    """A spec mapping (validated by ``spec.parse_spec``) of a hand-friendly network for ``seed``.

    The same seed, sizes, activations, loss and ``conventions`` (field -> value, None = default;
    see ``with_conventions``) always give the same mapping; the numbers do not depend on the
    conventions.
    """
    names = _activations(sizes, activations)
    if loss not in LOSSES:
        raise SpecError(unknown_name("loss", loss, LOSSES), field="--loss")
    rng = np.random.default_rng(seed)
    for _ in range(MAX_DRAWS):
        data = _draw(rng, sizes, names, loss, seed)
        if _in_range(data):
            spec = parse_spec(data, source=f"exercise seed {seed}")  # refused: a bug here
            return with_conventions(spec, conventions or {}) if conventions else data
    raise GradtraceError(f"no hand-friendly network of sizes {list(sizes)} with {', '.join(names)} "
                         f"after {MAX_DRAWS} draws (every |z| in [{Z_MIN}, {Z_MAX}]); use fewer "
                         "units per layer")


def _activations(sizes: Sequence[int], activations: str | Sequence[str]) -> list[str]:
    if len(sizes) < 2 or any(not 1 <= n <= MAX_UNITS for n in sizes):
        raise SpecError(f"sizes {list(sizes)}: give at least two layer sizes, each 1..{MAX_UNITS}",
                        field="--sizes")
    names = [activations] * (len(sizes) - 1) if isinstance(activations, str) else list(activations)
    if len(names) != len(sizes) - 1:
        raise SpecError(f"{len(names)} activations for {len(sizes) - 1} layers; give one, or one per "
                        "layer", field="--activations")
    for name in names:
        if name not in ACTIVATIONS:
            raise SpecError(unknown_name("activation", name, ACTIVATIONS), field="--activations")
    return names


def _grid(rng: np.random.Generator, shape: tuple[int, ...]) -> list[Any]:
    """Multiples of 0.05 in [−1, 1], never 0 (a zero weight is a missing connection)."""
    k = rng.integers(1, 21, size=shape) * rng.choice([-1, 1], size=shape)
    values: list[Any] = np.round(k * WEIGHT_STEP, 2).tolist()
    return values


def _draw(rng: np.random.Generator, sizes: Sequence[int], names: list[str], loss: str,
          seed: int) -> dict[str, Any]:
    layers = [{"weights": _grid(rng, (n_out, n_in)), "bias": _grid(rng, (n_out,)),
               "activation": name}
              for n_in, n_out, name in zip(sizes[:-1], sizes[1:], names, strict=True)]
    x = np.round(rng.integers(1, 100, size=sizes[0]) / 100, 2)
    y = np.round(rng.integers(1, 100, size=sizes[-1]) / 100, 2)
    if LOSSES[loss].target_problem(y[None, :], "target") is not None:
        y = np.eye(sizes[-1])[int(rng.integers(sizes[-1]))]  # e.g. cross-entropy: a one-hot class
    return {
        "name": f"exercise-{seed}",
        "description": f"a hand-friendly exercise (gradtrace exercise, frozen seed {seed})",
        "loss": loss,
        "learning_rate": float(rng.choice(LEARNING_RATES)),
        "layers": layers,
        "data": {"input": x.tolist(), "target": y.tolist()},
    }


def _in_range(data: dict[str, Any]) -> bool:
    """Every unit's |z| within [Z_MIN, Z_MAX] on the exercise's input."""
    a = np.asarray(data["data"]["input"], dtype=np.float64)  # (n_0,)
    for layer in data["layers"]:
        z = np.asarray(layer["weights"]) @ a + np.asarray(layer["bias"])  # (n_l,)
        if np.any(np.abs(z) < Z_MIN) or np.any(np.abs(z) > Z_MAX):
            return False
        a = ACTIVATIONS[layer["activation"]].forward(z[None, :])[0]
    return True


def with_conventions(spec: Spec, conventions: Mapping[str, str | int | None]) -> dict[str, Any]:
    """The spec's mapping with ``conventions`` (weights_layout, delta_convention, batch_reduction,
    round;
    None keeps the spec's own) set and validated by the spec, its weights written in the layout.

    The numbers stay the same network: only how W is written and which convention the trace
    speaks change.
    """
    unknown = set(conventions) - set(CONVENTION_OPTIONS)
    if unknown:
        raise SpecError(f"unknown convention {sorted(unknown)[0]!r}; expected one of: "
                        f"{', '.join(CONVENTION_OPTIONS)}")
    checked = spec.with_options({field: (CONVENTION_OPTIONS[field], value)
                                 for field, value in conventions.items()
                                 if field != "weights_layout"})
    layout = conventions.get("weights_layout") or spec.weights_layout
    data: dict[str, Any] = checked.model_dump(mode="json", exclude_unset=True)
    data.pop("sizes", None)
    data.pop("activations", None)
    data["layers"] = [
        {"weights": (layer.W.T if layout == "in_out" else layer.W).tolist(),  # (n_in, n_out) | (n_out, n_in)
         "bias": layer.b.tolist(), "activation": layer.activation.name,
         **({} if layer.trainable else {"trainable": False})}
        for layer in checked.build_mlp().layers]
    data["weights_layout"] = layout
    if layout == "out_in" and "weights_layout" not in checked.model_fields_set:
        del data["weights_layout"]  # the default: a spec written as before
    return parse_spec(data, source=spec.source).model_dump(mode="json", exclude_unset=True)
