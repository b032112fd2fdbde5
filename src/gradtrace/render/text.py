"""The terminal renderer: the worked example as formula -> numbers -> result.

``lines`` lays the trace out once, as styled spans; ``render`` joins them into plain text at a
fixed width (files, pipes, golden tests) and ``write`` prints them to a rich Console (colour on a
terminal; NO_COLOR respected by rich). Plain text needs rich only for a line it must fold, or one
holding characters whose width only rich knows: rich lays out that line, so the two never differ
(start-up: ``gradtrace step | less`` does not import rich). Words come from gradtrace.render.wording.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from rich.console import Console

Span = tuple[str, str | None]  # text and its rich style (None: unstyled)
Line = tuple[Span, ...]  # one printed line; () is a blank line


@dataclass(frozen=True)
class Rule:
    """A horizontal rule with a centred title, as rich's ``Rule`` draws it."""

    title: str
    style: str


INDENT = "    "


def equation_lines(equation: Equation, options: RenderOptions, one_line: bool) -> list[Line]:
    """``lhs = formula = numbers = result`` on one line, or formula, numbers, result on three."""
    symbols = MathStyle("text", False, options.precision, options.notation, options.decimals,
                        options.shown_layout)
    numbers = MathStyle("text", True, options.precision, options.notation, options.decimals,
                        options.shown_layout)
    lhs: Span = (render_expr(equation.lhs, symbols), "bold cyan")
    result: Span = (matrix(equation.value, numbers), "bold green")
    note: Line = (f"   ({equation.note})", "dim"),
    if equation.rhs is None:
        return [(lhs, (" = ", None), result) + (note if equation.note else ())]
    formula = render_expr(equation.rhs, symbols)
    plugged = render_expr(equation.rhs, numbers)
    steps: list[Span] = [(formula, None)]
    if plugged not in (formula, result[0]):  # "∂C/∂b2 = δ2 = 0.0367703" needs no third copy
        steps.append((plugged, "yellow"))
    if one_line:
        joined = [span for part in steps + [result] for span in (part, (" = ", None))][:-1]
        return [(lhs, (" = ", None), *joined) + (note if equation.note else ())]
    pad = " " * len(lhs[0])
    lines: list[Line] = [(lhs, (" = ", None), steps[0])]
    lines += [((pad, None), (" = ", None), part) for part in steps[1:] + [result]]
    if equation.note:
        lines.append(((f"{pad}   {equation.note}", "dim italic"),))
    return lines


def quantity_lines(quantity: Quantity, options: RenderOptions) -> list[Line]:
    lines: list[Line] = []
    if options.view in ("matrix", "both"):
        lines += equation_lines(quantity.matrix, options, one_line=False)
    if options.view in ("neuron", "both"):
        indent = INDENT if options.view == "both" else ""
        for equation in quantity.neuron[:NEURON_FOLD]:
            for line in equation_lines(equation, options, one_line=True):
                lines.append(((indent, None), *line))
        if len(quantity.neuron) > NEURON_FOLD:
            lines.append(((indent + folded(len(quantity.neuron) - NEURON_FOLD), "dim"),))
    return lines


def lines(trace: Trace, options: RenderOptions) -> Iterator[Line | Rule]:
    """The whole trace, line by line, in the order it is printed."""
    options = options.for_trace(trace)
    title = options.title or trace.name or "gradtrace"
    yield (f"{title}: {network_line(trace.network)}", "bold"),
    for step in trace.steps:
        yield Rule(step_line(step), style="magenta")
        quantities = step.quantities()
        for phase in PHASES:
            yield ()
            heading = phase_title(phase, caveat=True, network=trace.network)
            yield (f"── {heading}", "bold magenta"),
            for quantity in (q for q in quantities if q.phase == phase):
                yield from quantity_lines(quantity, options)
        yield ()
        cost = number(step.cost, options.precision, decimals=options.decimals)
        yield ("Cost before this step: ", None), (cost, "bold green")
    drift = drift_lines(trace)
    if drift:
        yield ()
        yield (f"── {DRIFT_TITLE}", "bold magenta"),
        for sentence in drift:
            yield (sentence, None),


def write(trace: Trace, console: Console, options: RenderOptions) -> None:
    """Print the whole trace to a rich console."""
    for line in lines(trace, options):
        _print(console, line)


def render(trace: Trace, options: RenderOptions, emoji: bool = False) -> str:
    """The worked example as plain text at ``options.width`` columns, exactly as a rich Console
    without colour prints it (``emoji``: as one that replaces :emoji: codes in rule titles)."""
    width = options.width
    printed: list[str] = []
    for line in lines(trace, options):
        plain = _plain_rule(line, width, emoji) if isinstance(line, Rule) else _plain_line(line, width)
        printed.append(plain if plain is not None else _rich_plain(line, width, emoji))
    return "".join(printed)


def _print(console: Console, line: Line | Rule) -> None:
    from rich.rule import Rule as RichRule
    from rich.text import Text

    if isinstance(line, Rule):
        console.print(RichRule(line.title, style=line.style))
    elif line:
        console.print(Text.assemble(*(text if style is None else (text, style)
                                      for text, style in line)), overflow="fold")
    else:
        console.print()


def _rich_plain(line: Line | Rule, width: int, emoji: bool) -> str:
    """One line as rich lays it out without colour: folded to ``width``, cells as rich counts them."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False,
                      highlight=False, emoji=emoji, legacy_windows=False, soft_wrap=False)
    _print(console, line)
    return buffer.getvalue()


def _plain_line(line: Line, width: int) -> str | None:
    """The line as it prints, folded to ``width`` as rich folds it, when every character takes
    one cell; None when only rich can lay it out."""
    folds = fold("".join(text for text, _ in line), width)
    return None if folds is None else "".join(piece + "\n" for piece in folds)


WORD = re.compile(r"\s*\S+\s*")  # a word and the spaces round it, as rich's wrap splits them
TRAILING_SPACE = re.compile(r"\s+$")


def fold(text: str, width: int) -> list[str] | None:
    """The lines rich prints for ``text`` at ``width`` with overflow="fold" (rich.text.Text.wrap:
    words move to the next line whole, a word wider than a line is cut into width pieces,
    whitespace past the width dropped); None if a character is not exactly one cell wide.

    Folding here matters at the trace cap: rich measures every word of a 40-column matrix cell
    by cell, most of the time of a large trace (tests/test_render_text.py checks it against rich).
    """
    if not _one_cell_each(text.replace("\n", "")):
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


RULE = "─"
# What rich's markup and emoji parsing could change in a rule's title (it parses titles, not Text)
_MARKUP = re.compile(r"\[|:\S*?:")


def _plain_rule(rule: Rule, width: int, emoji: bool) -> str | None:
    """rich's centred rule: ``─── title ───`` filling ``width``; None where rich would truncate
    the title or parse it (markup, :emoji:)."""
    title = rule.title
    parsed = "[" in title if not emoji else _MARKUP.search(title) is not None
    if parsed or len(title) > width - 4 or not _one_cell_each(title):
        return None
    side = (width - len(title)) // 2
    return (RULE * (side - 1) + f" {title} " + RULE * (side + 1))[:width] + "\n"


def _one_cell_each(text: str) -> bool:
    """Whether every character is printable and one terminal cell wide as rich counts it: ASCII,
    and the Latin, Greek, phonetic (ᵀ), punctuation and mathematical blocks a trace uses, when
    none is wide or combining (tests/test_startup.py checks this against rich's own table)."""
    if text.isascii():
        return text.isprintable()
    # each distinct character once: a 40-column matrix line repeats a few dozen characters
    return all(_one_cell(character) for character in set(text))


def _one_cell(character: str) -> bool:
    code = ord(character)
    # Latin, Greek, Cyrillic; phonetic (ᵀ 0x1D40); punctuation to technical; mathematical and arrows
    in_blocks = (code < 0x0530 or 0x1D00 <= code < 0x1DC0 or 0x2000 <= code < 0x2600
                 or 0x27C0 <= code < 0x2B00)
    return (in_blocks and character.isprintable() and unicodedata.category(character)[0] != "M"
            and unicodedata.east_asian_width(character) not in ("W", "F"))
