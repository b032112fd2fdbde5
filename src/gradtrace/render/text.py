"""The terminal renderer: the worked example as formula -> numbers -> result, with rich.

``write`` prints to a rich Console (colour when the terminal has it; NO_COLOR respected by rich);
``render`` returns plain text at a fixed width, for files, pipes and golden tests.
Its words come from gradtrace.render.wording, as every format's do.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from gradtrace.render.math import MathStyle, matrix, number
from gradtrace.render.math import render as render_expr
from gradtrace.render.options import RenderOptions
from gradtrace.render.wording import (
    DRIFT_TITLE,
    NEURON_FOLD,
    drift_lines,
    folded,
    network_line,
    phase_title,
    step_line,
)
from gradtrace.trace.model import PHASES, Equation, Quantity, Trace

INDENT = "    "


def equation_lines(equation: Equation, options: RenderOptions, one_line: bool) -> list[Text]:
    """``lhs = formula = numbers = result`` on one line, or formula, numbers, result on three."""
    symbols = MathStyle("text", False, options.precision, options.notation, options.decimals,
                        options.shown_layout)
    numbers = MathStyle("text", True, options.precision, options.notation, options.decimals,
                        options.shown_layout)
    lhs = Text(render_expr(equation.lhs, symbols), style="bold cyan")
    result = Text(matrix(equation.value, numbers), style="bold green")
    if equation.rhs is None:
        line = Text.assemble(lhs, " = ", result)
        if equation.note:
            line.append(f"   ({equation.note})", style="dim")
        return [line]
    formula = render_expr(equation.rhs, symbols)
    plugged = render_expr(equation.rhs, numbers)
    steps = [Text(formula)]
    if plugged not in (formula, result.plain):  # "∂C/∂b2 = δ2 = 0.0367703" needs no third copy
        steps.append(Text(plugged, style="yellow"))
    if one_line:
        line = Text.assemble(lhs, " = ", *_join(steps + [result], " = "))
        if equation.note:
            line.append(f"   ({equation.note})", style="dim")
        return [line]
    pad = " " * len(lhs.plain)
    lines = [Text.assemble(lhs, " = ", steps[0])]
    lines += [Text.assemble(pad, " = ", part) for part in steps[1:] + [result]]
    if equation.note:
        lines.append(Text(f"{pad}   {equation.note}", style="dim italic"))
    return lines


def _join(parts: list[Text], separator: str) -> list[Text | str]:
    joined: list[Text | str] = []
    for i, part in enumerate(parts):
        if i:
            joined.append(separator)
        joined.append(part)
    return joined


def quantity_lines(quantity: Quantity, options: RenderOptions) -> list[Text]:
    lines: list[Text] = []
    if options.view in ("matrix", "both"):
        lines += equation_lines(quantity.matrix, options, one_line=False)
    if options.view in ("neuron", "both"):
        indent = INDENT if options.view == "both" else ""
        for equation in quantity.neuron[:NEURON_FOLD]:
            for line in equation_lines(equation, options, one_line=True):
                lines.append(Text.assemble(indent, line))
        if len(quantity.neuron) > NEURON_FOLD:
            lines.append(Text(indent + folded(len(quantity.neuron) - NEURON_FOLD), style="dim"))
    return lines


def write(trace: Trace, console: Console, options: RenderOptions) -> None:
    """Print the whole trace to a rich console."""
    options = options.for_trace(trace)
    title = options.title or trace.name or "gradtrace"
    console.print(Text(f"{title}: {network_line(trace.network)}", style="bold"))
    for step in trace.steps:
        console.print(Rule(step_line(step), style="magenta"))
        quantities = step.quantities()
        for phase in PHASES:
            console.print()
            heading = phase_title(phase, caveat=True, network=trace.network)
            console.print(Text(f"── {heading}", style="bold magenta"))
            for quantity in (q for q in quantities if q.phase == phase):
                for line in quantity_lines(quantity, options):
                    console.print(line, overflow="fold")
        console.print()
        cost = number(step.cost, options.precision, decimals=options.decimals)
        console.print(Text.assemble("Cost before this step: ", (cost, "bold green")))
    drift = drift_lines(trace)
    if drift:
        console.print()
        console.print(Text(f"── {DRIFT_TITLE}", style="bold magenta"))
        for sentence in drift:
            console.print(Text(sentence), overflow="fold")


def render(trace: Trace, options: RenderOptions) -> str:
    """The worked example as plain text at ``options.width`` columns."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=options.width, color_system=None, force_terminal=False,
                      highlight=False, emoji=False, legacy_windows=False, soft_wrap=False)
    write(trace, console, options)
    return buffer.getvalue()
