"""A step's explanation written straight to compact JSON text, the bytes ``json.dumps`` would write.

At the trace cap an explanation is ~10,000 equations and ~65,000 expression nodes: building a dict
per node and encoding them cost more than the explanation itself. Here each node becomes its text
directly, and a symbol shared by many equations (a_{l-1}[i] is in every unit's sum) is written
once. ``symbol`` says how a symbol is written: ``/1`` puts its value inline (``expr.to_json``),
``/2`` points into the step's ``values`` table (trace/refs.py). Key order, separators, escapes
(``ensure_ascii``) and the refusal of NaN and ∞ are ``json.dumps``'s with ``separators=(",", ":")``,
``allow_nan=False``; tests/test_trace_json.py compares the two.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Any

from gradtrace.trace.expr import Expr, Num, Sym, Value, to_json
from gradtrace.trace.quantity import Equation, Equations, Quantity

Symbol = Callable[[Sym], str]
SameValue = Callable[[Value, Value], bool]


# json.dumps with options makes an encoder per call: ~50,000 symbols share this one
dumps: Callable[[Any], str] = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
"""Compact JSON, NaN and ∞ refused: the form every piece of the trace is written in."""


@functools.lru_cache(maxsize=1024)
def string(text: str | None) -> str:
    """A name or note as JSON (a few dozen distinct ones, each written thousands of times)."""
    return dumps(text)


def value_text(value: Value) -> str:
    """A scalar or matrix as JSON (a matrix as a list of rows)."""
    return dumps(value if isinstance(value, float) else [list(row) for row in value])


def with_raw(head: dict[str, Any], raw: dict[str, str]) -> str:
    """``head`` as JSON with the keys of ``raw`` after its own, their values JSON text already."""
    text = dumps(head)
    assert text.endswith("}")
    tail = ",".join(f"{dumps(key)}:{value}" for key, value in raw.items())
    return f"{text[:-1]}{',' if head and raw else ''}{tail}}}"


def number(value: float) -> str:
    """A float as json writes it (float.__repr__); NaN and ∞ raise json's own ValueError."""
    return float.__repr__(value) if math.isfinite(value) else dumps(value)


def index_text(index: tuple[int, ...]) -> str:
    """An entry's index as the inside of a JSON list: ``3,7``."""
    return f"{index[0]},{index[1]}" if len(index) == 2 else ",".join(map(str, index))


def inline_symbol(node: Sym) -> str:
    """``/1``'s symbol, its value inline: ``dumps(to_json(node))``, without the dict."""
    value = node.value
    if not isinstance(value, float):
        return dumps(to_json(node))
    written = number(value)
    layer = "null" if node.layer is None else node.layer
    index = node.index
    if index is None:
        return f'{{"sym":{string(node.kind)},"layer":{layer},"value":{written}}}'
    return (f'{{"sym":{string(node.kind)},"layer":{layer},"value":{written},'
            f'"index":[{index_text(index)}]}}')


class ExplanationWriter:
    """Writes quantities as JSON text; ``symbol`` writes one symbol, each node object once."""

    def __init__(self, symbol: Symbol, same_value: SameValue | None = None) -> None:
        self._symbol = symbol
        # /2 leaves out an equation's value where same_value(it, its lhs's); /1 writes every one
        self._same_value = same_value
        # id(Sym) -> its text. Equations read unkept are freed as written: each node written
        # is held here, so that no id is reused while this writer lives.
        self._written: dict[int, str] = {}
        self._held: list[Expr] = []

    def sym(self, node: Sym) -> str:
        written = self._written.get(id(node))
        if written is None:
            written = self._written[id(node)] = self._symbol(node)
            self._held.append(node)
        return written

    def expr(self, node: Expr) -> str:
        if isinstance(node, Sym):
            written = self._written.get(id(node))
            return self.sym(node) if written is None else written
        if isinstance(node, Num):  # a few constants (1, ½, 1/m), most shared
            written = self._written.get(id(node))
            if written is None:
                written = self._written[id(node)] = dumps(to_json(node))
                self._held.append(node)
            return written
        expr, written_before = self.expr, self._written.get
        # most arguments are shared symbols written before: their text without a call
        args = ",".join([written_before(id(arg)) or expr(arg) for arg in node.args])
        fn = "" if node.fn is None else f',"fn":{string(node.fn)}'
        return f'{{"op":{string(node.op)},"args":[{args}]{fn}}}'

    def equation(self, equation: Equation) -> str:
        lhs = self.sym(equation.lhs)  # first: /2's table numbers matrices as it meets them
        rhs = "null" if equation.rhs is None else self.expr(equation.rhs)
        text = f'{{"lhs":{lhs},"rhs":{rhs}'
        value = equation.value
        if self._same_value is None or not self._same_value(value, equation.lhs.value):
            text += f',"value":{number(value) if isinstance(value, float) else value_text(value)}'
        if equation.note:
            text += f',"note":{string(equation.note)}'
        return text + "}"

    def quantity(self, quantity: Quantity) -> str:
        equation = self.equation
        matrix = equation(quantity.matrix)  # first: /2's table meets each whole matrix here
        equations = quantity.neuron
        each = equations.unkept() if isinstance(equations, Equations) else equations
        neuron = ",".join([equation(e) for e in each])
        layer = "null" if quantity.layer is None else str(quantity.layer)
        return (f'{{"key":{string(quantity.key)},"kind":{string(quantity.kind)},'
                f'"layer":{layer},"phase":{string(quantity.phase)},'
                f'"matrix":{matrix},"neuron":[{neuron}]}}')


def explanation(quantities: tuple[Quantity, ...], writer: ExplanationWriter) -> str:
    """The quantities as a JSON list."""
    return f"[{','.join([writer.quantity(q) for q in quantities])}]"
