"""What an explanation is made of: equations (formula -> numbers -> result) grouped into quantities.

Apart from the step records (trace/model.py) so that the explainer, which reads a Step, and the
Step, which explains itself on first use, import in one direction: model -> explain -> quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gradtrace.trace.expr import Expr, Sym, Value

Array = NDArray[np.float64]
Phase = Literal["forward", "cost", "backward", "update"]
PHASES: tuple[Phase, ...] = ("forward", "cost", "backward", "update")


@dataclass(frozen=True)
class Equation:
    """``lhs = rhs`` printed as formula, then numbers, then ``value``; rhs None means given."""

    lhs: Sym
    rhs: Expr | None
    value: Value
    note: str | None = None


@dataclass(frozen=True)
class Quantity:
    """One named quantity of a step, explained in the matrix view and the neuron view."""

    key: str  # "z1", "delta2", "grad_W1", "W1_new", "cost", ...
    kind: str  # notation key
    layer: int | None
    phase: Phase
    matrix: Equation
    neuron: tuple[Equation, ...]
