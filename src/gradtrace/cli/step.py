"""``gradtrace step``, ``gradtrace check`` and ``gradtrace examples``.

No ``from __future__ import annotations`` here: typer reads each command's signature twice per
run, and evaluating string annotations each time cost ~6 ms of ``gradtrace step``'s start-up.
"""

import os
import sys
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gradtrace.cli.app import app
from gradtrace.core.gradcheck import (
    CHECK_DTYPE,
    DEFAULT_ABSOLUTE_TOLERANCE,
    DEFAULT_STEP,
    DEFAULT_TOLERANCE,
)
from gradtrace.errors import GradientCheckError, GradtraceError, SpecError
from gradtrace.io import PDF, TEXT, atomic_write_bytes, atomic_write_text, check_output
from gradtrace.render import text as text_renderer
from gradtrace.render.options import RenderOptions, renderer
from gradtrace.spec import MAX_ROUND_DECIMALS, Spec, example_names, load_spec, unread_fields
from gradtrace.trace.model import Trace
from gradtrace.workflow import check_spec, parameter_count, trace_spec

if TYPE_CHECKING:
    from rich.console import Console


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    latex = "latex"
    pdf = "pdf"
    html = "html"
    ipynb = "ipynb"


class View(StrEnum):
    matrix = "matrix"
    neuron = "neuron"
    both = "both"


class NotationChoice(StrEnum):
    textbook = "textbook"
    net_out = "net-out"


# shared with `gradtrace exercise`, whose key speaks the same notation
NotationOption = Annotated[NotationChoice, typer.Option(
    help="textbook: z and a; net-out: the net/out names many tutorials use.")]
RoundOption = Annotated[int | None, typer.Option(
    "--round", min=0, max=MAX_ROUND_DECIMALS, help="Hand arithmetic: round every quantity "
    "(z, a, C, ∂C/∂a, δ, each gradient, each new weight) to N decimals, half away from zero, "
    "before the next one uses it; the output ends with the drift against exact arithmetic. "
    "Sets the spec's `round`.", show_default=False)]


SpecArgument = Annotated[
    str | None,
    typer.Argument(
        help="A spec file (.toml, .json, .yaml) or a built-in example name "
        "(see `gradtrace examples`). Default: the seed notebook's example.",
        show_default=False,
    ),
]


PROGRESS_FROM = 2_000  # parameters: smaller checks finish before a bar would be seen
PIPE_WIDTH = 120  # columns when standard output is not a terminal
RICH_TABLE_ROWS = 500  # larger gradient checks print plain aligned columns, fast
MAX_WIDTH = 1_000  # columns: wider text is unreadable, and rich allocates lines of that width
DEFAULT_PRECISION = 6  # significant digits
MAX_DECIMALS = 17  # fixed decimal places: a float64 has no more worth printing


def with_options(spec: Spec, command: str, options: Mapping[str, tuple[str, object]]) -> Spec:
    """The spec with the command's options merged in, checked by the spec's own validation.

    ``options``: field path -> (option name, value or None). A refused option is a usage error
    naming the option, the field it sets and where to read about it.
    """
    try:
        return spec.with_options(options)
    except SpecError as error:
        if error.field is None or not error.field.startswith("--"):
            raise
        raise SpecError(f"{error} (see `gradtrace {command} --help`)") from None


def warn_unread(spec: Spec, command: str) -> None:
    """One line on stderr naming the fields the spec sets that this command does not read
    (after a successful run, so that bad input still gets exactly one line: its error)."""
    line = unread_fields(spec, command)
    if line is not None:
        print(line, file=sys.stderr)


def stdout_console(width: int | None = None) -> "Console":
    """Colour on a terminal; plain text in pipes and when NO_COLOR is set (rich reads it)."""
    from rich.console import Console  # late: plain text to a pipe or file needs no rich

    console = Console(highlight=False, soft_wrap=False, width=width)
    if width is None and not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def stdout_is_plain() -> bool:
    """Whether rich would treat standard output as no terminal (so print no colour): decided as
    rich's ``Console.is_terminal`` decides it (TTY_COMPATIBLE, then FORCE_COLOR, then isatty), but
    without importing rich; tests/test_startup.py holds the two to the same answers."""
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "0"
    force_color = os.environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color == ""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return isatty is None or not isatty()
    except ValueError:  # a closed file, as rich reads it
        return True


@app.command()
def step(
    spec: SpecArgument = None,
    steps: Annotated[int | None, typer.Option(
        "--steps", "-n", help="How many training steps to work out (default: the spec's).",
    )] = None,
    fmt: Annotated[Format, typer.Option(
        "--format", "-f", help="text for the terminal; json is the gradtrace.trace/2 trace "
        "(--schema 1 for /1); markdown, latex, pdf, html, ipynb are hand-outs.",
    )] = Format.text,
    schema: Annotated[int, typer.Option(
        "--schema", min=1, max=2, help="With --format json: 2 writes each matrix once and refers "
        "to it; 1 repeats every value in every equation (about 7x larger).",
    )] = 2,
    view: Annotated[View, typer.Option(
        help="matrix: z1 = W1 a0 + b1 with whole matrices; neuron: one scalar equation per unit "
        "and weight, as in hand-worked examples; both.",
    )] = View.matrix,
    precision: Annotated[int | None, typer.Option(
        min=1, max=17, help="Significant digits of printed numbers (JSON is always exact). "
        "Default 6.", show_default=False,
    )] = None,
    decimals: Annotated[int | None, typer.Option(
        min=0, max=MAX_DECIMALS, help="Fixed decimal places instead, trailing zeros kept (0.1900), "
        "as hand work writes numbers; not with --precision. Default with --round N: N.",
    )] = None,
    round_to: RoundOption = None,
    notation: NotationOption = NotationChoice.textbook,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file (atomically) instead of standard output.",
    )] = None,
    interactive: Annotated[bool, typer.Option(
        help="With --format html: the step-through page, trace embedded, works offline.",
    )] = False,
    width: Annotated[int | None, typer.Option(
        min=40, max=MAX_WIDTH, help="Text width in columns (default: the terminal's).",
    )] = None,
    force: Annotated[bool, typer.Option(
        help="Replace an existing -o file of another kind (e.g. a model or an image).",
    )] = False,
) -> None:
    """Work out training steps: every z, a, cost, delta, gradient and new weight.

    Each quantity is shown as its formula, then with the numbers plugged in, then the result.

    Examples:

      gradtrace step                      the seed notebook's 2-2-1 example

      gradtrace step xor --view neuron    one scalar equation per neuron and weight

      gradtrace step my_net.toml -n 3 --format json -o trace.json
    """
    if interactive and fmt is not Format.html:
        raise GradtraceError("--interactive needs --format html")
    if precision is not None and decimals is not None:
        raise GradtraceError(
            f"--precision {precision} and --decimals {decimals}: give one of the two "
            "(significant digits or fixed decimal places)")
    if output is not None and str(output) == "-":
        output = None  # -o - is standard output
    if output is not None:
        check_output(output, kind=PDF if fmt is Format.pdf else TEXT,
                     inputs=[spec] if spec else [], force=force)
    loaded = with_options(load_spec(spec), "step", {"steps": ("--steps", steps),
                                                     "round": ("--round", round_to)})
    trace = trace_spec(loaded, name=loaded.name or (Path(spec).stem if spec else "seed"))
    if precision is None and decimals is None and trace.rounding is not None:
        decimals = min(trace.rounding, MAX_DECIMALS)  # show the digits the hand work kept
    # plain text to a pipe: laid out without rich, as rich would (``gradtrace step | less``)
    plain = fmt is Format.text and output is None and stdout_is_plain() and _utf8_stdout()
    if width is None:
        width = 100 if output else PIPE_WIDTH if plain else stdout_console().width
    options = RenderOptions(
        precision=precision or DEFAULT_PRECISION, view=view.value, notation=notation.value,
        width=width, schema=schema, decimals=decimals,
    )
    if plain:
        sys.stdout.write(text_renderer.render(trace, options, emoji=True))
    elif fmt is Format.text and output is None:
        text_renderer.write(trace, stdout_console(options.width), options)
    else:
        result = interactive_page(trace) if interactive else renderer(fmt.value)(trace, options)
        if output is not None:
            if isinstance(result, bytes):
                atomic_write_bytes(output, result)
            else:
                atomic_write_text(output, result)
            print(f"wrote {output}", file=sys.stderr)
        elif isinstance(result, bytes):
            sys.stdout.buffer.write(result)
        else:
            sys.stdout.write(result)
    # after the work: a run that fails says one thing, its error
    warn_unread(loaded, "step")


def _utf8_stdout() -> bool:
    """rich draws rules with ``-`` instead of ``─`` on a standard output that is not UTF-8."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    return encoding.lower().startswith("utf")


def interactive_page(trace: Trace) -> str:
    """The web page's step-through as one offline file, the trace embedded (the CLI composes
    web and trace here: renderers never import the web package)."""
    from gradtrace.trace import json as trace_json
    from gradtrace.web.standalone import render_interactive

    return render_interactive(trace_json.to_dict(trace))


@app.command()
def check(
    spec: SpecArgument = None,
    tolerance: Annotated[float, typer.Option(
        min=0.0, help="Largest relative error |g - ĝ| / (|g| + |ĝ|) accepted.",
    )] = DEFAULT_TOLERANCE,
    absolute_tolerance: Annotated[float, typer.Option(
        "--atol", min=0.0, help="An entry also passes when |g - ĝ| is within this: the central "
        "difference's own round-off is about 1e-10.",
    )] = DEFAULT_ABSOLUTE_TOLERANCE,
    step_size: Annotated[float, typer.Option(
        "--step-size", min=1e-12, help="h in the central difference (C(θ+h) - C(θ-h)) / 2h.",
    )] = DEFAULT_STEP,
) -> None:
    """Check every gradient against central differences; exit 1 if any disagrees.

    Prints each parameter's analytic gradient dC/dθ from backpropagation beside the numerical
    estimate (C(θ + h) - C(θ - h)) / 2h and their relative error. An entry fails when both its
    relative error exceeds --tolerance and its absolute error exceeds --atol; a real mismatch
    happens e.g. at a kink of relu, where the derivative is not defined.
    """
    from rich.progress import Progress  # late: `gradtrace step` need not load them
    from rich.table import Table

    loaded = load_spec(spec)  # no unread-field warning: a check reads the network, loss and data
    console = stdout_console()
    total = parameter_count(loaded.build_mlp())
    from rich.console import Console

    with Progress(*Progress.get_default_columns(), console=Console(stderr=True),
                  transient=True, disable=total < PROGRESS_FROM) as bar:
        task = bar.add_task("central differences", total=total)
        comparisons = check_spec(loaded, step_size, lambda n: bar.advance(task, n))
    title = (f"Gradient check: backpropagation vs central differences, both in {CHECK_DTYPE} "
             "whatever the spec's dtype")
    columns = ("parameter", "analytic dC/dθ", "numerical", "relative error", "absolute error", "")
    rows = []
    for c in comparisons:
        ok = c.passes(tolerance, absolute_tolerance)
        index = ",".join(str(i + 1) for i in c.index)
        rows.append((f"{c.parameter}[{index}]", f"{c.analytic:.10g}", f"{c.numerical:.10g}",
                     f"{c.relative_error:.2e}", f"{c.absolute_error:.2e}", "ok" if ok else "MISMATCH"))
    failures = sum(row[-1] != "ok" for row in rows)
    if len(rows) > RICH_TABLE_ROWS:  # rich lays a table out cell by cell: seconds for 5,000 rows
        widths = [max(len(column), *(len(row[k]) for row in rows)) for k, column in enumerate(columns)]
        lines = [title, "  ".join(c.ljust(w) if k == 0 else c.rjust(w)
                                  for k, (c, w) in enumerate(zip(columns, widths, strict=True)))]
        lines += ["  ".join(c.ljust(w) if k == 0 else c.rjust(w)
                            for k, (c, w) in enumerate(zip(row, widths, strict=True))) for row in rows]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        table = Table(title=title)
        for column in columns:
            table.add_column(column, justify="left" if column == "parameter" else "right")
        for row in rows:
            table.add_row(*row[:-1], "ok" if row[-1] == "ok" else "[bold red]MISMATCH[/]")
        console.print(table)
    worst = max(c.relative_error for c in comparisons)
    bounds = f"largest relative error {worst:.2e}; tolerance {tolerance:g}, atol {absolute_tolerance:g}"
    if failures:
        raise GradientCheckError(
            f"{failures} of {len(comparisons)} gradients disagree with central differences "
            f"({bounds}); at a kink such as relu's z = 0 the derivative is not defined"
        )
    console.print(f"all {len(comparisons)} gradients agree with central differences ({bounds})")


@app.command()
def examples() -> None:
    """List the built-in examples (use a name wherever a SPEC is asked for)."""
    from rich.table import Table  # late: `gradtrace step` need not load it

    table = Table(title="Built-in examples")
    table.add_column("name")
    table.add_column("description")
    for name in example_names():
        table.add_row(name, load_spec(name).description or "")
    stdout_console().print(table)
    print("Run one with: gradtrace step NAME    (e.g. gradtrace step seed --view neuron)")
