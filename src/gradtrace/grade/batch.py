"""Grade a class: every answers file in a folder, one row each, and which mistakes were common where.

``grade_folder(folder) -> ClassReport``. A row's score is correct / quantities (missing ones count
against it, carried ones are not correct); its first error and diagnosis come from the student's
own ``GradeReport``. A file that cannot be graded is a row with ``status = "invalid"`` and the
one-line reason; the rest of the class is graded regardless. ``ClassReport.to_dict()`` is the
``gradtrace.grade-class/1`` JSON (schema: grade-class-1.schema.json beside this module);
``to_csv()`` is a gradebook with one column per quantity holding its answer note
(``delta1:updated_weights``, ``z1:correct``).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gradtrace.errors import GradtraceError, SpecError
from gradtrace.grade.answers import read_answers
from gradtrace.grade.judge import grade
from gradtrace.grade.report import Entry, GradeReport
from gradtrace.spec import FORMATS

SCHEMA = "gradtrace.grade-class/1"
MAX_FILES = 10_000  # a class, not a file system: more is a wrong folder

Row = Literal["graded", "invalid"]


def diagnosis(entry: Entry | None) -> str:
    """'updated_weights', 'carried from delta1', 'unknown' (an arithmetic slip), or ''."""
    if entry is None:
        return ""
    if entry.status == "carried":
        return "carried from " + ", ".join(entry.carried_from)
    return "+".join(dict.fromkeys(m.id for m in entry.mistakes)) or "unknown"


@dataclass(frozen=True)
class Student:
    """One answers file: its report, or why it could not be graded (``problem``)."""

    file: str  # the file's name inside the folder
    report: GradeReport | None
    problem: str | None = None

    @property
    def status(self) -> Row:
        return "invalid" if self.report is None or self.report.invalid else "graded"

    @property
    def correct(self) -> int:
        return 0 if self.report is None else self.report.summary["correct"]

    @property
    def total(self) -> int:
        return 0 if self.report is None else len(self.report.entries)

    @property
    def score(self) -> str:
        return "" if self.report is None else f"{self.correct}/{self.total}"

    @property
    def first_error(self) -> str:
        first = None if self.report is None else self.report.first_error
        return "" if first is None else first.label

    @property
    def reason(self) -> str:
        """Why the row is invalid: the file's problem, or its first unreadable answer's; or ''."""
        if self.report is None:
            return self.problem or "cannot be graded"
        invalid = self.report.invalid
        return f"{invalid[0].label}: {invalid[0].problem}" if invalid else ""

    @property
    def diagnosis(self) -> str:
        """The first error's diagnosis; for an invalid row without one, why it is invalid."""
        if self.status == "invalid" and not self.first_error:
            return f"invalid: {self.reason}"
        return diagnosis(None if self.report is None else self.report.first_error)

    @property
    def notes(self) -> dict[str, str]:
        """Each entry's answer note, by its label (the gradebook's columns)."""
        return {} if self.report is None else {e.label: e.note for e in self.report.entries}

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status, "score": self.score,
                "correct": self.correct, "total": self.total,
                "first_error": self.first_error or None, "diagnosis": self.diagnosis or None,
                "problem": self.reason or None, "notes": self.notes,
                "report": None if self.report is None else self.report.to_dict()}


@dataclass(frozen=True)
class Common:
    """How many students made ``mistake`` at ``quantity`` (a wrong answer it explains)."""

    quantity: str
    mistake: str
    count: int


@dataclass(frozen=True)
class ClassReport:
    """Every student in file-name order, and the class's mistakes counted per quantity."""

    folder: str
    students: tuple[Student, ...]

    @property
    def columns(self) -> list[str]:
        """Every quantity label any student has, in step order (first seen)."""
        return list(dict.fromkeys(label for s in self.students for label in s.notes))

    @property
    def common(self) -> list[Common]:
        """Mistakes by how many wrong answers they explain, most common first; ties in step order.

        A wrong answer no catalogued mistake reproduces counts as ``unknown``.
        """
        order = {label: i for i, label in enumerate(self.columns)}
        counts: Counter[tuple[str, str]] = Counter()
        for student in self.students:
            for entry in () if student.report is None else student.report.entries:
                if entry.status == "wrong":
                    for mistake in dict.fromkeys(m.id for m in entry.mistakes) or ["unknown"]:
                        counts[entry.label, mistake] += 1
        ranked = sorted(counts.items(), key=lambda item: (-item[1], order[item[0][0]], item[0][1]))
        return [Common(label, mistake, count) for (label, mistake), count in ranked]

    @property
    def exit_code(self) -> int:
        """2 when a file could not be graded, else 1 when any answer is wrong or carried, else 0."""
        if any(s.status == "invalid" for s in self.students):
            return 2
        return 1 if any(s.first_error for s in self.students) else 0

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "folder": self.folder,
                "summary": {"students": len(self.students),
                            "invalid": sum(s.status == "invalid" for s in self.students),
                            "all_correct": sum(s.status == "graded" and not s.first_error
                                               for s in self.students)},
                "common_mistakes": [{"quantity": c.quantity, "mistake": c.mistake,
                                     "count": c.count} for c in self.common],
                "students": [s.to_dict() for s in self.students]}

    def to_csv(self) -> str:
        """The gradebook: file, status, score, first error, diagnosis, then one note per quantity."""
        columns = self.columns
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["file", "status", "score", "correct", "total", "first_error",
                         "diagnosis", *columns])
        for s in self.students:
            notes = s.notes
            writer.writerow([s.file, s.status, s.score, s.correct, s.total, s.first_error,
                             s.diagnosis, *(notes.get(label, "") for label in columns)])
        return out.getvalue()


def answers_files(folder: Path, skip: Iterable[Path] = ()) -> list[Path]:
    """The answers files directly in ``folder`` (.toml, .json, .yaml, .yml), by name; not hidden
    ones and not ``skip`` (this run's own outputs)."""
    skipped = {path.resolve() for path in skip}
    try:
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in FORMATS
                       and not p.name.startswith(".") and p.is_file()
                       and p.resolve() not in skipped)
    except OSError as error:
        raise SpecError(f"cannot list the folder: {error.strerror}", source=str(folder)) from None
    if not found:
        raise SpecError("no answers files (.toml, .json, .yaml, .yml) in this folder; "
                        "`gradtrace grade --template SPEC -o answers.toml` writes one",
                        source=str(folder))
    if len(found) > MAX_FILES:
        raise SpecError(f"{len(found):,} answers files; grade at most {MAX_FILES:,} at once",
                        source=str(folder))
    return found


def grade_files(files: Sequence[Path], folder: Path, *, forgive_last_digit: bool = False,
                tolerance: float | None = None) -> ClassReport:
    """Grade each file on its own spec; a file that cannot be graded becomes an invalid row."""
    students = []
    for path in files:
        try:
            sheet = read_answers(path)
            report = grade(sheet.load_spec(), sheet, forgive_last_digit=forgive_last_digit,
                           tolerance=tolerance)
        except GradtraceError as error:
            problem = str(error).removeprefix(f"{path}: ")
            students.append(Student(path.name, None, " ".join(problem.split())))
            continue
        students.append(Student(path.name, report))
    return ClassReport(str(folder), tuple(students))


def grade_folder(folder: str | Path, *, forgive_last_digit: bool = False,
                 tolerance: float | None = None, skip: Iterable[Path] = ()) -> ClassReport:
    """Every answers file directly in ``folder``, graded."""
    folder = Path(folder)
    return grade_files(answers_files(folder, skip), folder, forgive_last_digit=forgive_last_digit,
                       tolerance=tolerance)
