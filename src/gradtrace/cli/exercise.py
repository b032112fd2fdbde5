"""``gradtrace exercise``: tested exercise sheets, their worked keys and blank answers files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from gradtrace.cli.app import app
from gradtrace.cli.grade import template_text
from gradtrace.cli.step import SpecArgument
from gradtrace.errors import GradtraceError, SpecError
from gradtrace.exercise import Variant, ambiguity, make_variants, sheet
from gradtrace.io import PDF, TEXT, atomic_write_bytes, atomic_write_text, check_output
from gradtrace.render import html as html_renderer
from gradtrace.render.options import RenderOptions, renderer
from gradtrace.spec import Spec, load_spec
from gradtrace.workflow import trace_spec

MAX_COUNT = 100  # variants per run: a class
PDF_TIMEOUT_S = 180


class SheetFormat(StrEnum):
    markdown = "markdown"
    latex = "latex"
    pdf = "pdf"
    html = "html"


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
    fmt: Annotated[SheetFormat, typer.Option("--format", "-f", help="Sheet and key format.")]
    = SheetFormat.markdown,
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
    `gradtrace grade` can name the mistake; its frozen seed is in the sheet, key and answers file.

    Examples:

      gradtrace exercise --seed 7 -o sheet.md --key key.md

      gradtrace exercise --count 30 --format pdf -o sheets.pdf --key key.pdf --answers answers/
    """
    if output is None:
        raise GradtraceError("give the sheet's file with -o, e.g. -o sheet.md")
    if key is not None and count > 1 and fmt in (SheetFormat.latex, SheetFormat.pdf):
        raise GradtraceError(f"--format {fmt.value} --key with --count {count}: a LaTeX or PDF key "
                             "holds one variant; use --format markdown or html for several")
    kind = PDF if fmt is SheetFormat.pdf else TEXT
    for path in (output, key):
        if path is not None:
            check_output(path, kind=kind, inputs=[spec] if spec else [], force=force)
    if answers is not None and answers.exists() and not answers.is_dir():
        raise GradtraceError(f"--answers {answers}: is a file; give a folder for the answers files")
    if spec is not None:
        if count != 1:
            raise GradtraceError(f"--count {count} with a SPEC: a given network has one variant; "
                                 "leave out SPEC to generate variants")
        variants = [_given_variant(load_spec(spec), decimals)]
    else:
        names = [name.strip() for name in activations.split(",")]
        variants = make_variants(seed, count, decimals, _sizes(sizes),
                                 names[0] if len(names) == 1 else names, loss)
    _write(output, _sheet(variants, ask.value, decimals, fmt))
    if key is not None:
        _write(key, _key(variants, decimals, fmt))
    if answers is not None:
        answers.mkdir(parents=True, exist_ok=True)
        for variant in variants:
            path = answers / f"variant-{variant.number}.toml"
            check_output(path, kind=TEXT, force=force, option="--answers")
            _write(path, answers_text(variant))


def _sizes(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise SpecError(f"--sizes {text!r}: give whole numbers separated by commas, e.g. 2,2,1") from None


def _given_variant(spec: Spec, decimals: int) -> Variant:
    """The spec as the one variant, when it is a fair exercise (else one line saying why)."""
    reason = ambiguity(spec, decimals)
    if reason is not None:
        raise SpecError(f"not an unambiguous exercise at {decimals} decimals: {reason}; try more "
                        "--decimals or other numbers", source=spec.source)
    data: dict[str, Any] = spec.model_dump(mode="json", exclude_unset=True)
    mlp = spec.build_mlp()
    data["layers"] = [{"weights": layer.W.tolist(), "bias": layer.b.tolist(),
                       "activation": layer.activation.name,
                       **({} if layer.trainable else {"trainable": False})}
                      for layer in mlp.layers]
    data.pop("sizes", None)
    data.pop("activations", None)
    data.pop("weights_layout", None)  # the weights above are the engine's (n_out, n_in)
    return Variant(1, spec.seed or 0, data)


def _sheet(variants: Sequence[Variant], ask: str, decimals: int, fmt: SheetFormat) -> str | bytes:
    if fmt is SheetFormat.markdown:
        return sheet.markdown(variants, ask, decimals)
    if fmt is SheetFormat.html:
        return sheet.html_page(variants, ask, decimals)
    source = sheet.latex(variants, ask, decimals)
    return source if fmt is SheetFormat.latex else _compile(source)


def _key(variants: Sequence[Variant], decimals: int, fmt: SheetFormat) -> str | bytes:
    """The worked solution of every variant (the step renderers, at --decimals)."""
    traces = [trace_spec(v.spec, steps=1, name=f"Key: exercise {v.number} (seed {v.seed})")
              for v in variants]
    options = RenderOptions(decimals=decimals)
    if len(traces) == 1:
        return renderer(fmt.value)(traces[0], options)
    if fmt is SheetFormat.markdown:
        return "\n---\n\n".join(str(renderer("markdown")(trace, options)) for trace in traces)
    if fmt is SheetFormat.html:
        body = "\n".join(f"<h1>{trace.name}</h1>\n" + html_renderer.fragment(trace, options)
                         for trace in traces)
        return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>'
                f"gradtrace key</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
    raise AssertionError("refused before any work: a LaTeX or PDF key of several variants")


def _compile(source: str) -> bytes:
    engine = shutil.which("pdflatex")
    if engine is None:
        raise GradtraceError("--format pdf needs pdflatex, which was not found; write the .tex "
                             "with --format latex and compile it elsewhere")
    with tempfile.TemporaryDirectory(prefix="gradtrace-exercise-") as folder:
        work = Path(folder)
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
    lines[spec_line] = (f"# variant {variant.number}, frozen seed {variant.seed}\n"
                        f"spec = {_inline(variant.data)}")
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
