"""``gradtrace exercise``: tested exercise sheets, their worked keys and blank answers files."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from gradtrace.cli.app import app
from gradtrace.cli.grade import template_text
from gradtrace.cli.step import NotationChoice, NotationOption, RoundOption, SpecArgument
from gradtrace.errors import GradtraceError, SpecError
from gradtrace.exercise import Variant, given_variant, make_variants, qti, sheet
from gradtrace.io import PDF, QTI, SVG, TEXT, atomic_write_bytes, atomic_write_text, check_output
from gradtrace.notation import Naming
from gradtrace.render import diagram
from gradtrace.render import html as html_renderer
from gradtrace.render import latex as latex_renderer
from gradtrace.render import markdown as markdown_renderer
from gradtrace.render.options import RenderOptions
from gradtrace.spec import load_spec
from gradtrace.workflow import trace_spec

MAX_COUNT = 100  # variants per run: a class
PDF_TIMEOUT_S = 180


class SheetFormat(StrEnum):
    markdown = "markdown"
    latex = "latex"
    pdf = "pdf"
    html = "html"
    qti = "qti"


FIGURE_FORMAT = {SheetFormat.markdown: "svg", SheetFormat.latex: "pdf"}  # files beside the sheet


class Layout(StrEnum):
    out_in = "out_in"
    in_out = "in_out"


class DeltaConvention(StrEnum):
    gradient = "gradient"
    error = "error"


class BatchReduction(StrEnum):
    mean = "mean"
    sum = "sum"


# The hand-work conventions as options; each sets the spec field of the same meaning.
LayoutOption = Annotated[Layout | None, typer.Option(
    "--layout", help="out_in: W is (units, inputs), z = W a + b; in_out: W is (inputs, units), "
    "z = a W + b. Sets the spec's weights_layout.", show_default=False)]
DeltaOption = Annotated[DeltaConvention | None, typer.Option(
    "--delta-convention", help="gradient: δ = ∂C/∂z; error: Err = −∂C/∂z and θ′ = θ + η Err a. "
    "Sets the spec's delta_convention.", show_default=False)]
BatchOption = Annotated[BatchReduction | None, typer.Option(
    "--batch-reduction", help="The batch cost is the mean or the sum of the per-sample costs. "
    "Sets the spec's batch_reduction.", show_default=False)]


class Ask(StrEnum):
    forward = "forward"
    backward = "backward"
    update = "update"
    all = "all"


@app.command()
def exercise(
    spec: SpecArgument = None,
    sizes: Annotated[str, typer.Option(help="Layer sizes of a generated network, input first.")]
    = "2,2,1",
    activations: Annotated[str, typer.Option(
        help="One activation for every layer, or one per layer (comma-separated).")] = "sigmoid",
    loss: Annotated[str, typer.Option(help="The loss of a generated network.")] = "half_sse",
    seed: Annotated[int, typer.Option(min=0, help="Makes the same sheets again.")] = 0,
    count: Annotated[int, typer.Option(min=1, max=MAX_COUNT, help="Numbered variants.")] = 1,
    decimals: Annotated[int, typer.Option(
        min=1, max=8, help="Decimals the answers are written to (and the key prints).")] = 4,
    ask: Annotated[Ask, typer.Option(help="Which quantities the sheet asks for.")] = Ask.all,
    fmt: Annotated[SheetFormat, typer.Option("--format", "-f", help="Sheet and key format; qti "
                                             "is a QTI 1.2 package (.zip): one Canvas quiz per variant.")]
    = SheetFormat.markdown,
    layout: LayoutOption = None,
    delta_convention: DeltaOption = None,
    batch_reduction: BatchOption = None,
    round_to: RoundOption = None,
    notation: NotationOption = NotationChoice.textbook,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="The sheet file (required).")] = None,
    key: Annotated[Path | None, typer.Option(help="Also write the worked key here.")] = None,
    answers: Annotated[Path | None, typer.Option(
        help="Also write one blank answers file per variant into this folder.")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing file of another kind.")] = False,
) -> None:
    """Make exercise sheets with worked keys, every variant tested for unambiguous grading.

    Without SPEC a hand-friendly network is generated from --seed. A variant is handed out only
    when its gradients check and every known mistake gives its own value at --decimals, so
    `gradtrace grade` can name the mistake; a mistake that gives the right value exactly (relu′
    = 1 for z > 0) is no mistake on that variant, and the key says so. The frozen seed is in the
    sheet, the key and the answers file.

    The sheet draws the network (a .svg beside a Markdown sheet, a .pdf beside a LaTeX one,
    inline in HTML and PDF). --layout, --delta-convention, --batch-reduction, --round and
    --notation set the conventions the sheet, the key and the answers files speak (--round N:
    the key rounds every quantity to N decimals before the next uses it, as a calculator
    does). --format qti writes a QTI 1.2 package (.zip) for Canvas: one quiz per variant.

    Examples:

      gradtrace exercise --seed 7 -o sheet.md --key key.md
      gradtrace exercise --count 30 -f pdf -o sheets.pdf --answers answers/
      gradtrace exercise --activations relu --layout in_out -f qti -o quiz.zip
    """
    if output is None:
        raise GradtraceError("give the sheet's file with -o, e.g. -o sheet.md")
    if key is not None and count > 1 and fmt in (SheetFormat.latex, SheetFormat.pdf):
        raise GradtraceError(f"--format {fmt.value} --key with --count {count}: a LaTeX or PDF key "
                             "holds one variant; use --format markdown or html for several")
    if key is not None and fmt is SheetFormat.qti:
        raise GradtraceError("--format qti --key: a quiz holds no worked key; write the key in a "
                             "second run with the same --seed and --format markdown, html, latex "
                             "or pdf")
    if count != 1 and spec is not None:
        raise GradtraceError(f"--count {count} with a SPEC: a given network has one variant; "
                             "leave out SPEC to generate variants")
    figures = _check_outputs(output, key, answers, fmt, count, [spec] if spec else [], force)
    conventions = {"weights_layout": layout and layout.value,
                   "delta_convention": delta_convention and delta_convention.value,
                   "batch_reduction": batch_reduction and batch_reduction.value,
                   "round": round_to}
    if spec is not None:
        variants = [given_variant(load_spec(spec), decimals, conventions)]
    else:
        names = [name.strip() for name in activations.split(",")]
        variants = make_variants(seed, count, decimals, _sizes(sizes),
                                 names[0] if len(names) == 1 else names, loss,
                                 conventions=conventions)
    for variant, path in zip(variants, figures, strict=False):  # none for HTML, PDF, QTI
        _write(path, sheet.figure_bytes(variant, path.suffix.lstrip(".")))
    _write(output, _sheet(variants, ask.value, decimals, fmt, output.name, notation.value))
    if key is not None:
        _write(key, _key(variants, decimals, fmt, notation.value))
    if answers is not None:
        answers.mkdir(parents=True, exist_ok=True)
        for variant in variants:
            path = answers / f"variant-{variant.number}.toml"
            check_output(path, kind=TEXT, force=force, option="--answers")
            _write(path, answers_text(variant))


def _check_outputs(output: Path, key: Path | None, answers: Path | None, fmt: SheetFormat,
                   count: int, inputs: list[str], force: bool) -> list[Path]:
    """Every file the run writes, checked before any work; returns the drawn networks' files."""
    kind = {SheetFormat.pdf: PDF, SheetFormat.qti: QTI}.get(fmt, TEXT)
    for path in (output, key):
        if path is not None:
            check_output(path, kind=kind, inputs=inputs, force=force)
    if answers is not None and answers.exists() and not answers.is_dir():
        raise GradtraceError(f"--answers {answers}: is a file; give a folder for the answers files")
    image = FIGURE_FORMAT.get(fmt)
    if image is None:
        return []  # HTML inlines the drawing, PDF compiles it in, QTI has none
    figures = [output.parent / sheet.figure_name(output.name, number, image)
               for number in range(1, count + 1)]
    for path in figures:
        check_output(path, kind=SVG if image == "svg" else PDF, inputs=inputs, force=force,
                     option="-o (its drawn network)")
    return figures


def _sizes(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise SpecError(f"--sizes {text!r}: give whole numbers separated by commas, e.g. 2,2,1") from None


def _sheet(variants: Sequence[Variant], ask: str, decimals: int, fmt: SheetFormat,
           sheet_name: str, notation: Naming) -> str | bytes:
    if fmt is SheetFormat.markdown:
        return sheet.markdown(variants, ask, decimals, sheet_name, notation)
    if fmt is SheetFormat.html:
        return sheet.html_page(variants, ask, decimals, notation)
    if fmt is SheetFormat.qti:
        return qti.package(variants, ask, decimals)
    source = sheet.latex(variants, ask, decimals, "sheet.tex" if fmt is SheetFormat.pdf
                         else sheet_name, notation)
    if fmt is SheetFormat.latex:
        return source
    return _compile(source, {sheet.figure_name("sheet.tex", v.number, "pdf"):
                             sheet.figure_bytes(v, "pdf") for v in variants})


def _key(variants: Sequence[Variant], decimals: int, fmt: SheetFormat,
         notation: Naming) -> str | bytes:
    """The worked solution of every variant (the step renderers, at --decimals), each with the
    line saying which catalogued mistakes apply to it."""
    traces = [trace_spec(v.spec, steps=1, name=f"Key: exercise {v.number} (seed {v.seed})")
              for v in variants]
    options = RenderOptions(decimals=decimals, notation=notation)
    notes = [sheet.excluded_note(v) for v in variants]
    if fmt is SheetFormat.markdown:
        return "\n---\n\n".join(f"{markdown_renderer.render(trace, options)}\n{note}\n"
                                  for trace, note in zip(traces, notes, strict=True))
    if fmt is SheetFormat.html:
        body = "\n".join(f"<h1>{html.escape(trace.name or '')}</h1>\n<p>{html.escape(note)}</p>\n"
                         + html_renderer.fragment(trace, options)
                         for trace, note in zip(traces, notes, strict=True))
        return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>'
                f"gradtrace key</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
    # LaTeX and PDF: one variant (several were refused before any work)
    (trace,) = traces
    source = latex_renderer.render(trace, options).replace(
        "\\maketitle", f"\\maketitle\n{latex_renderer.escape(notes[0])}\n", 1)
    if fmt is SheetFormat.latex:
        return source
    return _compile(source, {name: diagram.render_bytes(trace, "pdf", show, index,  # type: ignore[arg-type]
                                                        min(options.precision, 4))
                             for index, show, name in latex_renderer.figure_files(trace)})


def _compile(source: str, files: Mapping[str, bytes]) -> bytes:
    """pdflatex on ``source`` in a temporary folder holding ``files`` (the drawn networks)."""
    engine = shutil.which("pdflatex")
    if engine is None:
        raise GradtraceError("--format pdf needs pdflatex, which was not found; write the .tex "
                             "with --format latex and compile it elsewhere")
    with tempfile.TemporaryDirectory(prefix="gradtrace-exercise-") as folder:
        work = Path(folder)
        for name, data in files.items():
            (work / name).write_bytes(data)
        (work / "sheet.tex").write_text(source, encoding="utf-8")
        try:
            subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "sheet.tex"],
                           cwd=work, capture_output=True, timeout=PDF_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise GradtraceError(f"pdflatex took over {PDF_TIMEOUT_S} s and was stopped") from None
        pdf = work / "sheet.pdf"
        if not pdf.exists():
            raise GradtraceError("pdflatex failed on the sheet; write it with --format latex to "
                                 "inspect it")
        return pdf.read_bytes()


def answers_text(variant: Variant) -> str:
    """A blank answers file (``grade --template``'s) with the variant's spec inline, so grading
    needs no variant name."""
    reference = f"exercise variant {variant.number}"
    lines = template_text(variant.spec, reference).splitlines()
    spec_line = next(k for k, line in enumerate(lines) if line.startswith("spec = "))
    conventions = [f"{name} = {json.dumps(variant.spec.model_dump()[name])}"
                   for name in ("weights_layout", "delta_convention", "batch_reduction", "round")
                   if name != "round" or variant.spec.round is not None]
    excluded = [f"# {sheet.excluded_note(variant)}"] if variant.excluded else []
    lines[spec_line] = "\n".join([f"# variant {variant.number}, frozen seed {variant.seed}",
                                  *excluded, "# the conventions this sheet speaks (grade uses them)",
                                  *conventions, f"spec = {_inline(variant.data)}"])
    return "\n".join(lines) + "\n"


def _inline(value: Any) -> str:
    """A TOML inline value (one line) for a spec mapping of strings, numbers, bools and lists."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return json.dumps(str(value))


def _write(path: Path, result: str | bytes) -> None:
    if isinstance(result, bytes):
        atomic_write_bytes(path, result)
    else:
        atomic_write_text(path, result)
    print(f"wrote {path}", file=sys.stderr)
