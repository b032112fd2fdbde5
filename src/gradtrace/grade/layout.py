"""Answers written in the row view (``weights_layout = "in_out"``, z = a W + b), read and reported.

The grader works in the trace's column view: W_l is (n_l, n_{l−1}), a batch of z or a is
(n_l, m), entry [r, c] is row r, column c. In the row view every matrix is the transpose of that:
W_l is (n_{l−1}, n_l) (rows are inputs), a batch is (m, n_l) (rows are samples), and the learner's
entry [r, c] is the column view's [c, r]. A single sample's vector is a list in both views.

So an answer is read into the column view once, on the way in (``column_view``), and every entry
of the report is turned back into the learner's view on the way out (``row_view``): the numbers
are judged by the same code in both layouts.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from gradtrace.grade.answers import Answer
from gradtrace.grade.report import Entry


def _transposed(value: Any) -> Any:
    """Rows of numbers transposed; a bare number or a flat list (a vector) as it is."""
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        widths = {len(row) for row in value}
        if len(widths) == 1:  # ragged rows stay as written: the reader says what is wrong
            return [list(column) for column in zip(*value, strict=True)]
    return value


def _swapped(index: tuple[int, ...] | None) -> tuple[int, ...] | None:
    return index[::-1] if index is not None and len(index) == 2 else index


def column_view(answer: Answer) -> Answer:
    """A row-view answer as the column view names it: matrices transposed, [r, c] -> [c, r]."""
    return replace(answer, index=_swapped(answer.index), given=_transposed(answer.given))


def label_as_written(answer: Answer, rows: bool) -> str:
    """How the learner's file names a column-view answer ('W1_new[2,1]' for the column's [1,2])."""
    return replace(answer, index=_swapped(answer.index)).label if rows else answer.label


def row_view(entry: Entry) -> Entry:
    """A graded entry back in the learner's row view: their numbers as written, ours transposed."""
    return replace(entry, index=_swapped(entry.index), given=_transposed(entry.given),
                   formula=indices_as_written(entry.formula), expected=_transposed(entry.expected),
                   expected_from_yours=_transposed(entry.expected_from_yours))


_PAIR = re.compile(r"\[([^\[\],]+),([^\[\],]+)\]")


def indices_as_written(text: str | None) -> str | None:
    """A column-view formula line with every two-part index turned: W1[2,i] -> W1[i,2].

    Every [r,c] in grade/formula.py's lines is a column-view position (a weight, or a unit and a
    sample), so swapping each one is the row view; one-part indices [j] are the same in both.
    """
    return None if text is None else _PAIR.sub(r"[\2,\1]", text)


def shape_as_written(shape: tuple[int, ...], rows: bool) -> tuple[int, ...]:
    """A column-view shape as the learner writes it."""
    return shape[::-1] if rows and len(shape) == 2 else shape
