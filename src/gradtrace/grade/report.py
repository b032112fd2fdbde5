"""The result of grading: one Entry per answer (and per quantity left out), in step order.

``GradeReport.to_dict()`` is the ``gradtrace.grade/1`` JSON (grade-1.schema.json beside this file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA = "gradtrace.grade/1"
Status = Literal["correct", "carried", "wrong", "missing", "invalid"]
STATUSES: tuple[Status, ...] = ("correct", "carried", "wrong", "missing", "invalid")
Nested = float | list[float] | list[list[float]]


@dataclass(frozen=True)
class Mistake:
    """A known mistake whose result matches the learner's answer; ``source``: whose inputs."""

    id: str
    explanation: str
    source: Literal["true", "yours", "none"] = "true"


@dataclass(frozen=True)
class Entry:
    """One graded answer. ``given`` as written (text of each number), values as floats."""

    key: str
    step: int
    index: tuple[int, ...] | None
    status: Status
    given: Any = None  # the numbers as written (str), nested like the answer; None when missing
    expected: Nested | None = None
    expected_from_yours: Nested | None = None
    mistakes: tuple[Mistake, ...] = ()
    carried_from: tuple[str, ...] = ()
    problem: str | None = None  # why invalid, or why a carry was refused
    formula: str | None = None  # the correct formula with the learner's numbers plugged in
    tolerance: float | None = None  # the widest tolerance an entry was judged at

    @property
    def label(self) -> str:
        entry = "" if self.index is None else "[" + ",".join(map(str, self.index)) + "]"
        return ("" if self.step == 1 else f"step{self.step}.") + self.key + entry

    @property
    def note(self) -> str:
        """A stable answer note for analytics: 'delta1:updated_weights', 'z1:correct'."""
        if self.status == "wrong":
            return f"{self.key}:" + "+".join(dict.fromkeys(m.id for m in self.mistakes) or ["unknown"])
        return f"{self.key}:{self.status}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "step": self.step,
            "index": None if self.index is None else list(self.index),
            "status": self.status, "given": self.given, "expected": self.expected,
            "expected_from_yours": self.expected_from_yours, "note": self.note,
            "mistakes": [{"id": m.id, "explanation": m.explanation, "from": m.source}
                         for m in self.mistakes],
            "carried_from": list(self.carried_from), "problem": self.problem,
            "formula": self.formula, "tolerance": self.tolerance,
        }


@dataclass(frozen=True)
class GradeReport:
    """Every entry in step order, with counts and the first wrong or carried entry."""

    spec_name: str | None
    entries: tuple[Entry, ...]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        return {status: sum(e.status == status for e in self.entries) for status in STATUSES}

    @property
    def first_error(self) -> Entry | None:
        return next((e for e in self.entries if e.status in ("wrong", "carried")), None)

    @property
    def invalid(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.status == "invalid")

    @property
    def exit_code(self) -> int:
        """0 when every given entry is correct, 1 when any is wrong or carried, 2 when invalid."""
        if self.invalid:
            return 2
        return 1 if self.first_error is not None else 0

    def to_dict(self) -> dict[str, Any]:
        first = self.first_error
        return {
            "schema": SCHEMA, "spec": {"name": self.spec_name}, "settings": self.settings,
            "summary": self.summary, "first_error": None if first is None else first.label,
            "entries": [entry.to_dict() for entry in self.entries],
        }
