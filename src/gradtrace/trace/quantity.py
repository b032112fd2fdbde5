"""What an explanation is made of: equations (formula -> numbers -> result) grouped into quantities.

Apart from the step records (trace/model.py) so that the explainer, which reads a Step, and the
Step, which explains itself on first use, import in one direction: model -> explain -> quantity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
from numpy.typing import NDArray

from gradtrace.trace.expr import Expr, Sym, Value

Array = NDArray[np.float64]
Phase = Literal["forward", "cost", "backward", "update"]
PHASES: tuple[Phase, ...] = ("forward", "cost", "backward", "update")


@dataclass(frozen=True, init=False)
class Equation:
    """``lhs = rhs`` printed as formula, then numbers, then ``value``; rhs None means given."""

    lhs: Sym
    rhs: Expr | None
    value: Value
    note: str | None = None

    def __init__(self, lhs: Sym, rhs: Expr | None, value: Value, note: str | None = None) -> None:
        fields = self.__dict__  # ~10,000 a step at the cap: as fast as Sym's (core/expr.py)
        fields["lhs"] = lhs
        fields["rhs"] = rhs
        fields["value"] = value
        fields["note"] = note


class Equations(Sequence[Equation]):
    """A quantity's neuron-view equations, each built on first use and then kept.

    At the trace cap a step has ~15,000 of them; a printed format shows 16 a quantity and the matrix
    view none, so only the JSON trace builds them all. ``build(k)`` makes equation k; the sequence
    is read-only and equal to any sequence (a tuple, say) of the same equations.
    """

    __slots__ = ("_build", "_built")

    def __init__(self, count: int, build: Callable[[int], Equation]) -> None:
        self._build = build
        self._built: list[Equation | None] = [None] * count

    def __len__(self) -> int:
        return len(self._built)

    @property
    def built(self) -> int:
        """How many have been built so far (what a renderer's reading cost)."""
        return sum(equation is not None for equation in self._built)

    @overload
    def __getitem__(self, index: int) -> Equation: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Equation, ...]: ...

    def __getitem__(self, index: int | slice) -> Equation | tuple[Equation, ...]:
        if isinstance(index, slice):
            return tuple(self._at(k) for k in range(*index.indices(len(self._built))))
        k = index + len(self._built) if index < 0 else index
        if not 0 <= k < len(self._built):
            raise IndexError(f"equation {index} of {len(self._built)}")
        return self._at(k)

    def _at(self, k: int) -> Equation:
        equation = self._built[k]
        if equation is None:  # two threads may both build it: the same equation, either kept
            equation = self._built[k] = self._build(k)
        return equation

    def __iter__(self) -> Iterator[Equation]:
        return (self._at(k) for k in range(len(self._built)))

    def unkept(self) -> Iterator[Equation]:
        """Each equation, those not built yet built for this pass only (the JSON writer reads
        each once: at the cap, ~40,000 expression nodes it need not hold)."""
        build = self._build
        return (build(k) if equation is None else equation
                for k, equation in enumerate(self._built))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Equations({len(self)} equations)"


@dataclass(frozen=True)
class Quantity:
    """One named quantity of a step, explained in the matrix view and the neuron view."""

    key: str  # "z1", "delta2", "grad_W1", "W1_new", "cost", ...
    kind: str  # notation key
    layer: int | None
    phase: Phase
    matrix: Equation
    neuron: Sequence[Equation]  # a tuple, or Equations built on first use


class EntrySymbols:
    """Each entry's symbol built once a step and shared by every equation that shows it.

    W1[3,7] is in z1[3]'s sum, in δ's back-propagated sums and in W1'[3,7]: one Sym, which the JSON
    writers also encode once. Keyed by the array itself (momentum's v before and after share a
    name), so an entry is always its own array's value.
    """

    __slots__ = ("_arrays", "_symbols")

    def __init__(self) -> None:
        self._symbols: dict[tuple[str, int | None, int, int, int, int], Sym] = {}
        self._arrays: dict[int, Array] = {}  # held, so that no id is reused while keyed

    def get(self, kind: str, layer: int | None, array: Array, row: int, col: int,
            index: tuple[int, ...]) -> Sym:
        """``Sym(kind, layer, array[row, col], index)``, the same object on every call."""
        key = (kind, layer, id(array), row, col, len(index))
        symbol = self._symbols.get(key)
        if symbol is None:
            symbol = self._symbols[key] = Sym(kind, layer, array.item(row, col), index)
            self._arrays[id(array)] = array
        return symbol
