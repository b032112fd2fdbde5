"""A small expression tree for formulas, so one formula prints symbolically and with numbers.

A ``Sym`` is a named quantity (``z1``, or one entry ``z1[2]``) that also carries its value; ``Num``
is a constant; ``Op`` applies an operator. Renderers turn the same tree into text, LaTeX or MathML,
printing each ``Sym`` either by name ("formula") or by value ("numbers plugged in").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Value = float | tuple[tuple[float, ...], ...]

# Operators: "add", "sub", "mul" (scalar product), "hadamard" (⊙), "matmul", "div", "neg",
# "square", "transpose", "sum" (Σ of its args), "mean" ((1/m) Σ of its args), "call" (fn(arg)).
OPERATORS = (
    "add", "sub", "mul", "hadamard", "matmul", "div", "neg", "square", "transpose", "call",
)


# Sym and Op are made by the tens of thousands at the trace cap: their __init__ writes the fields
# straight into the instance dict, half the time of a frozen dataclass's object.__setattr__ calls.
# Still frozen (assignment raises), compared, hashed and printed as dataclasses.


@dataclass(frozen=True, init=False)
class Sym:
    """A named quantity or one entry of it; ``index`` is 1-based (row,) or (row, col)."""

    kind: str  # a notation key: "a", "z", "W", "b", "delta", "grad_W", "y", "eta", ...
    layer: int | None
    value: Value
    index: tuple[int, ...] | None = None

    def __init__(self, kind: str, layer: int | None, value: Value,
                 index: tuple[int, ...] | None = None) -> None:
        fields = self.__dict__
        fields["kind"] = kind
        fields["layer"] = layer
        fields["value"] = value
        fields["index"] = index


@dataclass(frozen=True)
class Num:
    """A constant such as 1, ½ or 1/m."""

    value: float
    text: str | None = None  # how to write it, e.g. "1/4"


@dataclass(frozen=True, init=False)
class Op:
    """An operator applied to arguments; ``fn`` names the function for "call" ("σ", "tanh", ...)."""

    op: str
    args: tuple[Expr, ...]
    fn: str | None = None

    def __init__(self, op: str, args: tuple[Expr, ...], fn: str | None = None) -> None:
        fields = self.__dict__
        fields["op"] = op
        fields["args"] = args
        fields["fn"] = fn


Expr = Sym | Num | Op


def freeze(value: NDArray[np.floating] | float) -> Value:
    """A matrix as nested tuples (immutable, JSON-ready); a 0-d value as a float."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return float(array)
    if array.ndim == 1:
        array = array[:, None]
    return tuple(map(tuple, array.tolist()))  # tolist: Python floats, made in C


def sym(kind: str, layer: int | None, value: NDArray[np.floating] | float,
        index: tuple[int, ...] | None = None) -> Sym:
    return Sym(kind, layer, freeze(value), index)


def add(*args: Expr) -> Op:
    return Op("add", args)


def sub(left: Expr, right: Expr) -> Op:
    return Op("sub", (left, right))


def mul(*args: Expr) -> Op:
    return Op("mul", args)


def hadamard(*args: Expr) -> Op:
    return Op("hadamard", args)


def matmul(left: Expr, right: Expr) -> Op:
    return Op("matmul", (left, right))


def div(left: Expr, right: Expr) -> Op:
    return Op("div", (left, right))


def neg(arg: Expr) -> Op:
    return Op("neg", (arg,))


def square(arg: Expr) -> Op:
    return Op("square", (arg,))


def transpose(arg: Expr) -> Op:
    return Op("transpose", (arg,))


def call(fn: str, *args: Expr) -> Op:
    return Op("call", args, fn)


def fraction(numerator: int, denominator: int) -> Num:
    """A constant written as a fraction, e.g. 1/4; a whole number (2/1) is written as one (2)."""
    if numerator % denominator == 0:
        return Num(float(numerator // denominator))
    text = "½" if (numerator, denominator) == (1, 2) else f"{numerator}/{denominator}"
    return Num(numerator / denominator, text)


ONE = Num(1.0)


def to_json(expr: Expr) -> dict[str, Any]:
    """The tree as plain JSON objects (schema gradtrace.trace/1, "expr")."""
    if isinstance(expr, Sym):
        node: dict[str, Any] = {"sym": expr.kind, "layer": expr.layer, "value": _value_json(expr.value)}
        if expr.index is not None:
            node["index"] = list(expr.index)
        return node
    if isinstance(expr, Num):
        return {"num": expr.value, **({"text": expr.text} if expr.text else {})}
    node = {"op": expr.op, "args": [to_json(arg) for arg in expr.args]}
    if expr.fn is not None:
        node["fn"] = expr.fn
    return node


def from_json(node: dict[str, Any]) -> Expr:
    """Inverse of ``to_json``."""
    if "sym" in node:
        index = tuple(node["index"]) if "index" in node else None
        return Sym(node["sym"], node["layer"], _value_from_json(node["value"]), index)
    if "num" in node:
        return Num(float(node["num"]), node.get("text"))
    return Op(node["op"], tuple(from_json(arg) for arg in node["args"]), node.get("fn"))


def _value_json(value: Value) -> float | list[list[float]]:
    return value if isinstance(value, float) else [list(row) for row in value]


def _value_from_json(value: float | list[list[float]]) -> Value:
    if isinstance(value, int | float):
        return float(value)
    return tuple(tuple(float(v) for v in row) for row in value)
