"""Explanations with numbers by reference (schema ``gradtrace.trace/2``).

A step's explanation names the same numbers thousands of times: W1[3,7] appears in z1[3], in
δ's back-propagated sums and in W1'[3,7]. Here every matrix an explanation shows is written once in
the step's ``values`` table (its notation key, layer and value), and a symbol points into it:

    {"ref": k}                    the whole matrix (or scalar) values[k]
    {"ref": k, "index": [r, c]}   its entry (r, c), 1-based: values[k].value[r-1][c-1]
    {"ref": k, "index": [r]}      its entry (r, 1): a column (one sample, or a bias)

Scalars (η, μ, the cost) are table entries too. An entry that matches no table matrix keeps its
value inline, as in ``/1``: ``{"sym": kind, "layer": l, "value": v, "index": [...]}``. An
equation's ``value`` is left out when it equals its left-hand side's. Decoding gives back the same
trees.
"""

from __future__ import annotations

import math
from typing import Any

from gradtrace.trace import expr as ex
from gradtrace.trace import jsontext
from gradtrace.trace.expr import Expr, Num, Op, Sym, Value
from gradtrace.trace.quantity import Equation, Quantity

Matrix = tuple[tuple[float, ...], ...]


def _same(a: float, b: float) -> bool:
    """Equal and written the same in JSON (0.0 and -0.0 differ there)."""
    return a == b and (a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b))


def _same_value(a: Value, b: Value) -> bool:
    if isinstance(a, float) or isinstance(b, float):  # ~10,000 a step at the cap: _same inline
        return isinstance(a, float) and isinstance(b, float) and a == b and (
            a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b))
    return len(a) == len(b) and all(
        len(p) == len(q) and all(_same(x, y) for x, y in zip(p, q, strict=True))
        for p, q in zip(a, b, strict=True))


def _value(raw: float | list[list[float]]) -> Value:
    if isinstance(raw, int | float):
        return float(raw)
    return tuple(tuple(float(x) for x in row) for row in raw)


def _entry(index: tuple[int, ...]) -> tuple[int, int]:
    return index[0] - 1, (index[1] - 1 if len(index) > 1 else 0)


class ValueTable:
    """Collects the matrices of one step's explanation and encodes symbols as references."""

    def __init__(self) -> None:
        self.values: list[dict[str, Any]] = []
        self._refs: dict[tuple[str, int | None, Value], int] = {}
        # (kind, layer) -> the table's matrices of that name, as nested tuples (fast to index)
        self._by_name: dict[tuple[str, int | None], list[tuple[int, Matrix]]] = {}
        # The explainer shares one Sym among the equations that show the same entry (a_{l-1}[i]
        # is in every unit's sum): encoded once, by identity. The quantities outlive the table.
        self._written: dict[int, dict[str, Any]] = {}

    def _whole_ref(self, node: Sym) -> int:
        """The table entry of a whole matrix or scalar (η, μ, the cost), added on first sight."""
        key = (node.kind, node.layer, node.value)
        ref = self._refs.get(key)
        if ref is None:
            ref = self._refs[key] = len(self.values)
            value = node.value
            self.values.append({"sym": node.kind, "layer": node.layer, "value": value
                                if isinstance(value, float) else [list(row) for row in value]})
            if not isinstance(value, float):
                self._by_name.setdefault((node.kind, node.layer), []).append((ref, value))
        return ref

    def _entry_ref(self, node: Sym, index: tuple[int, ...]) -> int | None:
        """A table matrix of the same name whose entry at ``index`` is ``node.value``."""
        # ~50,000 entries at the trace cap: written out rather than through _entry and _same
        value = node.value
        row, col = index[0] - 1, (index[1] - 1 if len(index) > 1 else 0)
        for ref, matrix in self._by_name.get((node.kind, node.layer), ()):
            if row < len(matrix):
                entries = matrix[row]
                if col < len(entries) and entries[col] == value and (
                        value != 0.0 or _same(entries[col], value)):
                    return ref
        return None

    def sym(self, node: Sym) -> dict[str, Any]:
        written = self._written.get(id(node))
        if written is None:
            written = self._written[id(node)] = self._encode(node)
        return written

    def _encode(self, node: Sym) -> dict[str, Any]:
        index = node.index
        if index is None:
            return {"ref": self._whole_ref(node)}
        ref = self._entry_ref(node, index)
        if ref is not None:
            return {"ref": ref, "index": list(index)}
        return ex.to_json(node)  # an entry of no known matrix: its value inline

    def symbol_text(self, node: Sym) -> str:
        """``sym(node)`` as JSON text (trace/jsontext.py)."""
        index = node.index
        if index is None:
            return f'{{"ref":{self._whole_ref(node)}}}'
        ref = self._entry_ref(node, index)
        if ref is not None:
            return f'{{"ref":{ref},"index":[{jsontext.index_text(index)}]}}'
        return jsontext.inline_symbol(node)

    def expr(self, node: Expr) -> dict[str, Any]:
        if isinstance(node, Sym):
            return self.sym(node)
        if isinstance(node, Num):
            return ex.to_json(node)
        expr = self.expr
        item: dict[str, Any] = {"op": node.op, "args": [expr(arg) for arg in node.args]}
        if node.fn is not None:
            item["fn"] = node.fn
        return item

    def equation(self, equation: Equation) -> dict[str, Any]:
        item: dict[str, Any] = {"lhs": self.sym(equation.lhs),
                "rhs": None if equation.rhs is None else self.expr(equation.rhs)}
        value = equation.value
        if not _same_value(value, equation.lhs.value):
            item["value"] = value if isinstance(value, float) else [list(row) for row in value]
        if equation.note:
            item["note"] = equation.note
        return item

    def quantity(self, quantity: Quantity) -> dict[str, Any]:
        return {
            "key": quantity.key, "kind": quantity.kind, "layer": quantity.layer,
            "phase": quantity.phase, "matrix": self.equation(quantity.matrix),
            "neuron": [self.equation(eq) for eq in quantity.neuron],
        }


def explanation_to_json(quantities: tuple[Quantity, ...]) -> tuple[list[dict[str, Any]],
                                                                     list[dict[str, Any]]]:
    """(explanation, values) of one step."""
    table = ValueTable()
    explanation = [table.quantity(q) for q in quantities]
    return explanation, table.values


def explanation_text(quantities: tuple[Quantity, ...]) -> tuple[str, list[dict[str, Any]]]:
    """``explanation_to_json`` with the explanation as its compact JSON text."""
    table = ValueTable()
    writer = jsontext.ExplanationWriter(table.symbol_text, _same_value)
    return jsontext.explanation(quantities, writer), table.values


class _Reader:
    def __init__(self, values: list[dict[str, Any]]) -> None:
        self.table = [(v["sym"], v["layer"], _value(v["value"])) for v in values]

    def sym(self, node: dict[str, Any]) -> Sym:
        if "ref" not in node:
            result = ex.from_json(node)
            assert isinstance(result, Sym)
            return result
        kind, layer, value = self.table[node["ref"]]
        if "index" not in node:
            return Sym(kind, layer, value)
        index = tuple(node["index"])
        row, col = _entry(index)
        assert not isinstance(value, float)
        return Sym(kind, layer, value[row][col], index)

    def expr(self, node: dict[str, Any]) -> Expr:
        if "ref" in node or "sym" in node:
            return self.sym(node)
        if "num" in node:
            return ex.from_json(node)
        return Op(node["op"], tuple(self.expr(arg) for arg in node["args"]), node.get("fn"))

    def equation(self, node: dict[str, Any]) -> Equation:
        lhs = self.sym(node["lhs"])
        rhs = None if node["rhs"] is None else self.expr(node["rhs"])
        raw = node.get("value")
        value = lhs.value if raw is None else _value(raw)
        return Equation(lhs, rhs, value, node.get("note"))


def explanation_from_json(explanation: list[dict[str, Any]],
                          values: list[dict[str, Any]]) -> tuple[Quantity, ...]:
    """Inverse of ``explanation_to_json``: the quantities with every number in place."""
    reader = _Reader(values)
    return tuple(
        Quantity(q["key"], q["kind"], q["layer"], q["phase"], reader.equation(q["matrix"]),
                 tuple(reader.equation(eq) for eq in q["neuron"]))
        for q in explanation
    )
