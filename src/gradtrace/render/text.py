"""The terminal renderer: the worked example as formula -> numbers -> result, with rich.

``write`` prints to a rich Console (colour when the terminal has it; NO_COLOR respected by rich);
``render`` returns plain text at a fixed width, for files, pipes and golden tests.
Its words come from gradtrace.render.wording, as every format's do.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from rich.cells import cell_len
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


def _items(trace: Trace, options: RenderOptions) -> Iterator[Text | Rule | None]:
    """What the trace prints, in order: lines of text, rules, and None for a blank line."""
    options = options.for_trace(trace)
    title = options.title or trace.name or "gradtrace"
    yield Text(f"{title}: {network_line(trace.network)}", style="bold")
    for step in trace.steps:
        yield Rule(step_line(step), style="magenta")
        quantities = step.quantities()
        for phase in PHASES:
            yield None
            heading = phase_title(phase, caveat=True, network=trace.network)
            yield Text(f"── {heading}", style="bold magenta")
            for quantity in (q for q in quantities if q.phase == phase):
                yield from quantity_lines(quantity, options)
        yield None
        cost = number(step.cost, options.precision, decimals=options.decimals)
        yield Text.assemble("Cost before this step: ", (cost, "bold green"))
    drift = drift_lines(trace)
    if drift:
        yield None
        yield Text(f"── {DRIFT_TITLE}", style="bold magenta")
        for sentence in drift:
            yield Text(sentence)


def write(trace: Trace, console: Console, options: RenderOptions) -> None:
    """Print the whole trace to a rich console."""
    for item in _items(trace, options):
        if item is None:
            console.print()
        else:
            console.print(item, overflow="fold")


def render(trace: Trace, options: RenderOptions) -> str:
    """The worked example as plain text at ``options.width`` columns.

    The same characters rich prints (``write`` to a console without colour), but lines are
    wrapped by ``fold``: rich measures every word of a 40-column matrix cell by cell, most of
    the time of a trace at the size cap.
    """
    buffer = io.StringIO()
    console = Console(file=buffer, width=options.width, color_system=None, force_terminal=False,
                      highlight=False, emoji=False, legacy_windows=False, soft_wrap=False)
    for item in _items(trace, options):
        if item is None:
            buffer.write("\n")
            continue
        lines = fold(item.plain, options.width) if isinstance(item, Text) else None
        if lines is None:  # a rule, or a character of other than one cell: rich lays it out
            console.print(item, overflow="fold")
        else:
            buffer.write("".join(line + "\n" for line in lines))
    return buffer.getvalue()


WORD = re.compile(r"\s*\S+\s*")  # a word and the spaces round it, as rich's wrap splits them
TRAILING_SPACE = re.compile(r"\s+$")
_cells: dict[str, bool] = {}  # character -> whether rich gives it exactly one cell


def _one_cell(character: str) -> bool:
    single = _cells.get(character)
    if single is None:
        single = _cells[character] = character == " " or (
            character.isprintable() and not character.isspace() and cell_len(character) == 1)
    return single


def fold(text: str, width: int) -> list[str] | None:
    """The lines rich prints for ``text`` at ``width`` with overflow="fold" (rich.text.Text.wrap:
    words move to the next line whole, a word wider than a line is cut into width pieces,
    whitespace past the width dropped); None if a character is not exactly one cell wide."""
    if not all(_one_cell(character) for character in set(text) - {"\n"}):
        return None
    lines: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            lines.append(line)
            continue
        ends = [*_breaks(line, width), len(line)]
        for start, end in zip([0, *ends], ends, strict=False):
            piece = line[start:end]
            excess = len(piece) - width
            space = TRAILING_SPACE.search(piece) if excess > 0 else None
            if space is not None:
                piece = piece[:len(piece) - min(len(space.group()), excess)]
            lines.append(piece[:width])
    return lines


def _breaks(line: str, width: int) -> Iterator[int]:
    """Where rich's ``divide_line`` breaks a line of one-cell characters."""
    offset = 0  # cells used on the current line
    for match in WORD.finditer(line):
        start, word = match.start(), match.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:  # longer than a line: cut into pieces of the width
            pieces = [word[k:k + width] for k in range(0, len(word), width)]
            for k, piece in enumerate(pieces):
                if start:
                    yield start
                if k == len(pieces) - 1:
                    offset = len(piece)
                else:
                    start += len(piece)
        elif offset and start:
            yield start
            offset = len(word)
