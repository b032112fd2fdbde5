"""``gradtrace grade``: check a learner's answers file, to the first wrong step and why."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gradtrace.cli.app import app
from gradtrace.cli.step import stdout_console
from gradtrace.errors import GradtraceError, SpecError
from gradtrace.grade import grade as grade_answers
from gradtrace.grade import read_answers
from gradtrace.grade.batch import answers_files, grade_files
from gradtrace.grade.keys import exact_value, order_of
from gradtrace.grade.layout import shape_as_written
from gradtrace.grade.show import (
    feedback_markdown,
    render_class_markdown,
    render_class_text,
    render_markdown,
    render_text,
)
from gradtrace.io import TEXT, atomic_write_text, check_output, write_stdout
from gradtrace.render.math import MathStyle, render
from gradtrace.spec import Spec, load_spec
from gradtrace.workflow import trace_spec


class GradeFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    csv = "csv"


@app.command()
def grade(
    answers: Annotated[Path | None, typer.Argument(
        help="The answers file (.toml, .json, .yaml): spec = ..., then \\[answers] key = value; "
        "or a folder of them (a class: one row per file).",
        show_default=False,
    )] = None,
    fmt: Annotated[GradeFormat, typer.Option(
        "--format", "-f", help="text: a table; json: gradtrace.grade/1 (a folder: "
        "gradtrace.grade-class/1); markdown; csv: a folder's gradebook.",
    )] = GradeFormat.text,
    feedback: Annotated[Path | None, typer.Option(
        "--feedback", help="With a folder: write each student's Markdown feedback into this "
        "folder (FILE.md per answers file).", show_default=False,
    )] = None,
    forgive_last_digit: Annotated[bool, typer.Option(
        "--forgive-last-digit", help="Accept one unit of the last written decimal, not half.",
    )] = False,
    tolerance: Annotated[float | None, typer.Option(
        min=0.0, help="A fixed absolute tolerance for every number, instead of its written "
        "precision.",
    )] = None,
    template: Annotated[str | None, typer.Option(
        "--template", help="Write a blank answers file for this SPEC (an example name or a spec "
        "file): every key, its shape and formula as comments. Needs -o.",
    )] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file (atomically) instead of standard output.",
    )] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing -o file of another kind.")] = False,
) -> None:
    """Grade hand-worked answers: first wrong step, and which mistake explains it.

    Each number is judged at its own written precision (0.5781 to within 0.00005); an answer
    right only from your own earlier wrong answers is "carried". Exit 0 when every given answer
    is right, 1 when any is wrong or carried, 2 for a file that cannot be graded.

    Examples:

      gradtrace grade --template seed -o answers.toml

      gradtrace grade answers.toml --format markdown

      gradtrace grade answers/ --format csv -o gradebook.csv --feedback feedback/

    A folder grades every answers file in it: exit 0 when every answer of every file is right,
    1 when any is wrong or carried, 2 when a file cannot be graded (its row says why; the others
    are still graded and written).
    """
    if answers is not None and answers.is_dir():
        _grade_class(answers, fmt, output, feedback, force, forgive_last_digit, tolerance)
        return
    if feedback is not None:
        raise GradtraceError("--feedback is for a folder of answers files; give the folder")
    if fmt is GradeFormat.csv:
        raise GradtraceError("--format csv is a gradebook for a folder of answers files; give "
                             "the folder, or use --format json for one file")
    if output is not None and str(output) != "-":
        inputs = [p for p in (answers, template) if p is not None and Path(p).is_file()]
        check_output(output, kind=TEXT, inputs=inputs, force=force)
    if template is not None:
        if answers is not None:
            raise GradtraceError("give either an answers file or --template SPEC, not both")
        _write(template_text(load_spec(template), _reference(template, output)), output)
        return
    if answers is None:
        raise GradtraceError("give an answers file to grade (or --template SPEC -o answers.toml to "
                             "start one)")
    sheet = read_answers(answers)
    report = grade_answers(sheet.load_spec(), sheet, forgive_last_digit=forgive_last_digit,
                           tolerance=tolerance)
    if fmt is GradeFormat.text:
        _write_rich(lambda console: render_text(report, console), output, width=100)
    else:
        text = (json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
                if fmt is GradeFormat.json else render_markdown(report))
        _write(text, output)
    if report.invalid:
        raise SpecError(report.invalid[0].problem or "an answer cannot be read", source=str(answers))
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _grade_class(folder: Path, fmt: GradeFormat, output: Path | None, feedback: Path | None,
                 force: bool, forgive_last_digit: bool, tolerance: float | None) -> None:
    """Grade every answers file in ``folder``; every output is checked before any grading."""
    skip = [] if output is None or str(output) == "-" else [output]
    files = answers_files(folder, skip)
    if output is not None and str(output) != "-":
        check_output(output, kind=TEXT, inputs=files, force=force)
    targets = _feedback_targets(feedback, files, force) if feedback is not None else {}
    report = grade_files(files, folder, forgive_last_digit=forgive_last_digit, tolerance=tolerance)
    if fmt is GradeFormat.text:
        _write_rich(lambda console: render_class_text(report, console), output, width=120)
    else:
        if fmt is GradeFormat.json:
            text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
        else:
            text = report.to_csv() if fmt is GradeFormat.csv else render_class_markdown(report)
        _write(text, output)
    for student in report.students:
        if student.file in targets:
            atomic_write_text(targets[student.file], feedback_markdown(student))
    if targets:
        print(f"wrote {len(targets)} feedback files in {feedback}", file=sys.stderr)
    invalid = [s for s in report.students if s.status == "invalid"]
    if invalid:
        first = invalid[0]
        raise SpecError(f"{len(invalid)} of {len(report.students)} answers files could not be "
                        f"graded; first: {first.file}: {first.reason}",
                        source=str(folder))
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _feedback_targets(folder: Path, files: list[Path], force: bool) -> dict[str, Path]:
    """FILE.md in ``folder`` for each answers file, each checked as an output (created if new)."""
    if folder.exists() and not folder.is_dir():
        raise GradtraceError(f"--feedback {folder}: is a file; give a folder for the feedback "
                             "files")
    if not folder.parent.is_dir():
        raise GradtraceError(f"--feedback {folder}: the folder {folder.parent} does not exist; "
                             f"create it first (mkdir -p {folder.parent})")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as error:
        raise GradtraceError(f"--feedback {folder}: cannot create the folder: "
                             f"{error.strerror}") from None
    targets = {path.name: folder / (path.name + ".md") for path in files}
    for target in targets.values():
        check_output(target, kind=TEXT, inputs=files, force=force, option="--feedback")
    return targets


def _write_rich(render: Callable[[Console], None], output: Path | None, width: int) -> None:
    """Rich text to the terminal (its width, colour where allowed), or plain into ``output``."""
    if output is None:
        render(stdout_console())
        return
    console = stdout_console(width)
    with console.capture() as captured:
        render(console)
    _write(captured.get(), output)


def _write(text: str, output: Path | None) -> None:
    if output is None or str(output) == "-":
        write_stdout(text)
        return
    atomic_write_text(output, text)
    print(f"wrote {output}", file=sys.stderr)


def _reference(spec: str, output: Path | None) -> str:
    """The spec as the answers file names it: a path relative to the file's own folder."""
    if not Path(spec).is_file():
        return spec  # a built-in example name
    folder = Path.cwd() if output is None or str(output) == "-" else output.resolve().parent
    return Path(os.path.relpath(Path(spec).resolve(), folder)).as_posix()


def template_text(spec: Spec, reference: str) -> str:
    """A blank answers file: every quantity key of step 1 with its shape and formula as comments.

    The answer lines are commented out: a learner uncomments what they answer, so an untouched
    line is "missing", never a wrong zero.
    """
    step = trace_spec(spec, steps=1).steps[0]
    formulas = {q.key: q for q in step.quantities()}
    rows = spec.weights_layout == "in_out"  # shapes and formulas as the learner's course writes them
    style = MathStyle(layout=spec.weights_layout)
    lines = [
        f"# Answers for {reference} (written by gradtrace grade --template {reference}).",
        "# Write each number with the decimals you kept: it is judged to half a unit of its last",
        "# decimal. Remove the '# ' before a line to answer it; W1_new[1,2] = ... answers one entry.",
        f"spec = {json.dumps(reference)}",
        "",
        "[answers]",
    ]
    for key in order_of(step):
        shape = shape_as_written(exact_value(step, key).shape, rows)
        equation = formulas[key].matrix
        rhs = "" if equation.rhs is None else " = " + render(equation.rhs, style)
        lines.append(f"# {key}: {_shape_text(shape)}; {render(equation.lhs, style)}{rhs}")
        lines.append(f"# {key} = {_blank(shape)}")
    return "\n".join(lines) + "\n"


def _shape_text(shape: tuple[int, ...]) -> str:
    if not shape or shape == (1, 1):
        return "one number"
    if 1 in shape:
        return f"a list of {max(shape)} numbers"
    return f"{shape[0]} rows of {shape[1]}"


def _blank(shape: tuple[int, ...]) -> str:
    if not shape or shape == (1, 1):
        return "0.0"
    if 1 in shape:
        return "[" + ", ".join(["0.0"] * max(shape)) + "]"
    row = "[" + ", ".join(["0.0"] * shape[1]) + "]"
    return "[" + ", ".join([row] * shape[0]) + "]"
