"""Hand-friendly networks, deterministic in a seed.

Notation: layer l has W_l (n_l, n_{l−1}), b_l (n_l,), z_l = W_l a_{l−1} + b_l, a_l = σ_l(z_l); a_0 the
input x, y the target, η the learning rate. Every given number is one a learner copies by hand:
W and b are multiples of 0.05 in [−1, 1] (so also every multiple of 0.1), x and y have at most two
decimals, η ∈ {0.1, 0.25, 0.5, 1}. A draw is kept only when every unit has 0.05 ≤ |z| ≤ 2.5: far
from saturation (σ′(2.5) ≈ 0.07, tanh′(2.5) ≈ 0.03) and from a kink at z = 0 (relu, abs), for
every activation alike, so no activation is special-cased here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradtrace.core.activations import ACTIVATIONS
from gradtrace.core.losses import LOSSES
from gradtrace.errors import GradtraceError, SpecError, unknown_name
from gradtrace.spec import parse_spec

LEARNING_RATES = (0.1, 0.25, 0.5, 1.0)
WEIGHT_STEP = 0.05  # weights and biases: k·0.05, |k| ≤ 20
Z_MIN, Z_MAX = 0.05, 2.5  # |z| of every unit: off a kink, off saturation
MAX_DRAWS = 2_000  # draws per seed before giving up: small nets pass in a few
MAX_UNITS = 8  # per layer: a sheet worked by hand


def generate(seed: int, sizes: Sequence[int] = (2, 2, 1), activations: str | Sequence[str] =
             "sigmoid", loss: str = "half_sse") -> dict[str, Any]:
    """A spec mapping (validated by ``spec.parse_spec``) of a hand-friendly network for ``seed``.

    The same seed, sizes, activations and loss always give the same mapping.
    """
    names = _activations(sizes, activations)
    if loss not in LOSSES:
        raise SpecError(unknown_name("loss", loss, LOSSES), field="--loss")
    rng = np.random.default_rng(seed)
    for _ in range(MAX_DRAWS):
        data = _draw(rng, sizes, names, loss, seed)
        if _in_range(data):
            parse_spec(data, source=f"exercise seed {seed}")  # a draw the spec refuses is a bug here
            return data
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
