"""An answer read as numbers, each with the tolerance its written digits give, and matching.

An answer written with d decimals is judged within ½·10⁻ᵈ (one unit when forgiving the last
digit; a fixed ``tolerance`` overrides), but never looser than half a unit of the exact value's
MIN_SIGNIFICANT-th significant figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from gradtrace.errors import shorten
from gradtrace.grade.answers import Answer, as_decimal
from gradtrace.grade.engine import Array
from gradtrace.grade.layout import shape_as_written
from gradtrace.grade.report import Nested

# Headroom on a tolerance: 0.5780 is within ½·10⁻⁴ of 0.57805 although binary floats disagree.
SLACK = 1e-9
# An answer must carry at least this many significant figures of the exact value: else "0" would
# be right (to ±0.5) for every small quantity, and a learner could answer everything with 0.
MIN_SIGNIFICANT = 2


@dataclass(frozen=True)
class Settings:
    """How strictly to judge: the written precision, widened or replaced."""

    forgive_last_digit: bool = False
    tolerance: float | None = None
    rows: bool = False  # the learner writes the row view: shapes are named transposed

    def of(self, written: Decimal, exact: float) -> float:
        """½ unit of the last written decimal (1 unit when forgiving), or the fixed tolerance.

        At most ½ unit of the exact value's MIN_SIGNIFICANT-th significant figure.
        """
        if self.tolerance is not None:
            return self.tolerance
        exponent = written.as_tuple().exponent
        assert isinstance(exponent, int)  # finite numbers only reach here
        unit = (1.0 if self.forgive_last_digit else 0.5) * 10.0 ** max(exponent, -300)
        if exact == 0 or not np.isfinite(exact):
            return unit
        leading = int(np.floor(np.log10(abs(exact))))
        return min(unit, 0.5 * 10.0 ** (leading - MIN_SIGNIFICANT + 1))

@dataclass(frozen=True)
class Given:
    """An answer read as numbers: values, per-entry tolerance and the text as written."""

    answer: Answer
    values: Array  # the expected shape (or its transpose, then ``transposed``); () for the cost
    tolerance: Array
    written: Any
    transposed: bool = False

def position(index: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """A 1-based index as written -> 1-based (row, col): one index of a vector names its entry."""
    if len(index) == 2:
        return index
    return (index[0], 1) if shape[1] == 1 else (1, index[0])

def read_given(answer: Answer, exact: Array, settings: Settings) -> Given | str:
    """The answer as numbers of ``exact``'s shape (or its transpose), or why it cannot be read."""
    exact = slice_of(exact, answer)
    shape: tuple[int, ...] = exact.shape
    value = answer.given
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        widths = {len(row) for row in value}
        if len(widths) != 1:
            return (f"its rows have different lengths {sorted(widths)}; expected "
                    f"{_shape_words(shape, settings.rows)}")
        rows: list[list[Any]] = value
    elif isinstance(value, list):
        if not value or any(isinstance(item, list) for item in value):
            return f"is not a list of numbers; expected {_shape_words(shape, settings.rows)}"
        rows = [[item] for item in value] if len(shape) == 2 and shape[1] == 1 else [value]
    else:
        rows = [[value]]
    numbers = [[as_decimal(item) for item in row] for row in rows]
    for r, row in enumerate(numbers):
        for c, number in enumerate(row):
            if number is None or not np.isfinite(float(number)):
                return (f"{_cell(r, c, rows)}{_echo(rows[r][c])} cannot be read as a number; "
                        "write a plain decimal like 0.5523")
    values = np.array([[float(n) for n in row if n is not None] for row in numbers])
    as_written = written(value)
    target = shape if shape else (1, 1)
    transposed = len(shape) == 2 and values.shape != target and values.shape == shape[::-1]
    if values.shape == target or transposed:
        scale = (exact.T if transposed else exact).reshape(values.shape)
        tolerance = np.array([[settings.of(n, float(scale[r, c])) for c, n in enumerate(row)
                               if n is not None] for r, row in enumerate(numbers)])
        if transposed:
            return Given(answer, values, tolerance, as_written, transposed=True)
        return Given(answer, values.reshape(shape), tolerance.reshape(shape), as_written)
    found = (f"has {values.size} numbers" if isinstance(value, list) and rows is not value
             else f"has shape {shape_as_written(values.shape, settings.rows)}" if values.size > 1
             else "is a single number")
    return f"{found}; expected {_shape_words(shape, settings.rows)}"

def _shape_words(shape: tuple[int, ...], rows: bool = False) -> str:
    shape = shape_as_written(shape, rows)
    if not shape or shape == (1, 1):
        return "a single number"
    if shape[1] == 1 or shape[0] == 1:
        return f"a list of {max(shape)} numbers"
    return f"shape {shape}: {shape[0]} rows of {shape[1]} numbers"

def _cell(r: int, c: int, rows: list[list[Any]]) -> str:
    if len(rows) == 1 and len(rows[0]) == 1:
        return ""
    return f"entry [{r + 1},{c + 1}] " if len(rows) > 1 and len(rows[0]) > 1 else (
        f"entry [{max(r, c) + 1}] ")

def _echo(value: Any) -> str:
    return shorten(str(value) if isinstance(value, Decimal) else value, 40)

def written(value: Any) -> Any:
    """The answer with each number as the text the learner wrote."""
    if isinstance(value, list):
        return [written(item) for item in value]
    if isinstance(value, bool | float | str) or value is None:
        return value
    if isinstance(value, Decimal | int):
        return str(value)
    return _echo(value)  # a table where a number belongs: its text, shortened

def slice_of(value: Array, answer: Answer) -> Array:
    if answer.index is None:
        return value
    row, col = position(answer.index, value.shape)
    return np.asarray(value[row - 1, col - 1])

def matches(given: Given, target: Array | None) -> bool:
    if target is None:
        return False
    target = slice_of(target, given.answer)
    values = given.values.T if given.transposed else given.values
    if target.shape != values.shape:
        return False
    return bool(np.all(np.abs(values - target) <= given.tolerance.reshape(values.shape)
                       * (1 + SLACK) + 1e-300))

def matches_transposed(given: Given, value: Array) -> bool:
    target = slice_of(value, given.answer)
    return target.shape == given.values.shape and bool(
        np.all(np.abs(given.values - target) <= given.tolerance * (1 + SLACK)))

def nested(value: Array | None) -> Nested | None:
    """As a learner writes it: one number, a list for a vector, rows for a matrix or batch."""
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.size == 1:
        return float(array.reshape(()))
    if array.ndim == 2 and 1 in array.shape:
        flat: list[float] = array.ravel().tolist()
        return flat
    rows: list[list[float]] = array.tolist()
    return rows
