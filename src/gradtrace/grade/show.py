"""A GradeReport as a terminal table (rich) or Markdown: step order, the first error highlighted.

Both say the same things: one row per entry (quantity, yours, expected, status), then the first
error's diagnosis and formula, then the summary. JSON is ``GradeReport.to_dict()``.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from gradtrace.grade.batch import ClassReport, Student
from gradtrace.grade.report import STATUSES, Entry, GradeReport, Nested

STYLES = {"correct": "green", "carried": "yellow", "wrong": "red", "missing": "dim",
          "invalid": "magenta"}
MARKS = {"correct": "✓ correct", "carried": "→ carried", "wrong": "✗ wrong", "missing": "· missing",
         "invalid": "? invalid"}


def shown(value: Any, digits: int = 6) -> str:
    """Numbers as written (strings) or computed (floats, to ``digits`` significant digits)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "[" + ", ".join(shown(item, digits) for item in value) + "]"
    if isinstance(value, float):
        return f"{value:.{digits}g}".replace("-", "−")
    return str(value).replace("-", "−")


def _expected(entry: Entry) -> Nested | None:
    return entry.expected


def status_text(entry: Entry, first: Entry | None) -> str:
    """'✓ correct', '→ carried from delta1', '✗ wrong  ← first error', ..."""
    text = MARKS[entry.status]
    if entry.status == "carried":
        text += " from " + ", ".join(entry.carried_from)
    return text + ("  ← first error" if entry is first else "")


def details(entry: Entry) -> list[str]:
    """The lines that explain one entry: carried from what, the mistakes, the correct formula."""
    lines = []
    if entry.status == "carried":
        lines.append(f"{entry.label} is right from your earlier {', '.join(entry.carried_from)}: "
                     f"the method is right and the error was carried forward (expected "
                     f"{shown(entry.expected)}).")
    if entry.status == "invalid" and entry.problem:
        lines.append(entry.problem)
    if entry.status == "wrong":
        for mistake in entry.mistakes:
            lines.append(f"{mistake.id}: {mistake.explanation}")
        if entry.problem:
            lines.append(entry.problem)
        if entry.formula:
            lines.append(f"correct: {entry.formula}")
    return lines


def summary_line(report: GradeReport) -> str:
    counts = report.summary
    parts = [f"{counts[status]} {status}" for status in STATUSES if counts[status]]
    first = report.first_error
    ending = f"; first error: {first.label}" if first is not None else (
        "; every answer given is right" if not report.invalid else "")
    return ", ".join(parts) + ending


def render_text(report: GradeReport, console: Console) -> None:
    """The table, the first error's diagnosis, the summary; colour only where rich allows."""
    table = Table(title=f"Grading against {report.spec_name or 'the spec'}", title_justify="left")
    for column in ("quantity", "yours", "expected", "status"):
        table.add_column(column, overflow="fold")
    first = report.first_error
    for entry in report.entries:
        style = "bold" if entry is first else ""
        table.add_row(entry.label, shown(entry.given), shown(_expected(entry)),
                      Text(status_text(entry, first), style=STYLES[entry.status]), style=style)
    parts: list[Any] = [table]
    for entry in report.entries:
        if entry is first or entry.status == "invalid":
            for line in details(entry):
                parts.append(Text(line))
    parts.append(Text(summary_line(report), style="bold"))
    console.print(Group(*parts))


def render_markdown(report: GradeReport) -> str:
    first = report.first_error
    lines = [f"# Grading against {report.spec_name or 'the spec'}", "",
             "| quantity | yours | expected | status |", "|---|---|---|---|"]
    for entry in report.entries:
        status = status_text(entry, first).replace("← first error", "**← first error**")
        label = f"**{entry.label}**" if entry is first else entry.label
        lines.append(f"| {label} | {shown(entry.given)} | {shown(_expected(entry))} | {status} |")
    explained = [e for e in report.entries if e is first or e.status == "invalid"]
    for entry in explained:
        lines += ["", f"## {entry.label}", ""] + [f"- {line}" for line in details(entry)]
    lines += ["", f"**Summary:** {summary_line(report)}", ""]
    return "\n".join(lines)


def _class_rows(report: ClassReport) -> list[tuple[str, str, str, str, str]]:
    return [(s.file, s.status, s.score, s.first_error or "—", s.diagnosis or "—")
            for s in report.students]


def render_class_text(report: ClassReport, console: Console) -> None:
    """One row per student (file, score, first error, diagnosis), then the common mistakes."""
    table = Table(title=f"Grading {report.folder}", title_justify="left")
    for column in ("student file", "status", "score", "first error", "diagnosis"):
        table.add_column(column, overflow="fold")
    for row in _class_rows(report):
        # Text cells: a problem may quote "[answers]", which rich would read as markup
        table.add_row(*map(Text, row), style="magenta" if row[1] == "invalid" else "")
    parts: list[Any] = [table]
    common = report.common
    if common:
        mistakes = Table(title="Most common mistakes", title_justify="left")
        for column in ("quantity", "mistake", "students"):
            mistakes.add_column(column)
        for item in common:
            mistakes.add_row(Text(item.quantity), Text(item.mistake), str(item.count))
        parts.append(mistakes)
    parts.append(Text(class_summary_line(report), style="bold"))
    console.print(Group(*parts))


def class_summary_line(report: ClassReport) -> str:
    total = len(report.students)
    invalid = sum(s.status == "invalid" for s in report.students)
    right = sum(s.status == "graded" and not s.first_error for s in report.students)
    return (f"{total} files: {right} all correct, {total - right - invalid} with an error, "
            f"{invalid} could not be graded")


def render_class_markdown(report: ClassReport) -> str:
    lines = [f"# Grading {report.folder}", "",
             "| student file | status | score | first error | diagnosis |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
              for row in _class_rows(report)]
    if report.common:
        lines += ["", "## Most common mistakes", "", "| quantity | mistake | students |",
                  "|---|---|---|"]
        lines += [f"| {c.quantity} | {c.mistake} | {c.count} |" for c in report.common]
    lines += ["", f"**Summary:** {class_summary_line(report)}", ""]
    return "\n".join(lines)


def feedback_markdown(student: Student) -> str:
    """A student's feedback file: their graded table and diagnosis, or why it was not graded."""
    if student.report is None:
        return (f"# {student.file}\n\nThis answers file could not be graded: {student.problem}\n")
    return render_markdown(student.report)
