"""The question sheet: the network drawn (render/diagram.py, show="givens") and as a table, the
question in the variant's conventions, a blank per asked quantity in step order. Markdown, HTML
and LaTeX; HTML inlines the SVG, Markdown and LaTeX name a file beside the sheet (``figure_name``)
that the caller writes with ``figure_bytes``. The key is the existing renderers' worked solution
(cli), with the mistakes each variant leaves out (``excluded_note``)."""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gradtrace.exercise.variants import Variant
from gradtrace.grade import engine
from gradtrace.grade.keys import exact_value, order_of
from gradtrace.notation import Naming
from gradtrace.render import diagram
from gradtrace.render.html import DIAGRAM_CSS
from gradtrace.render.latex import escape
from gradtrace.render.math import MathStyle, render
from gradtrace.render.wording import conventions, phase_intro
from gradtrace.trace.model import Trace
from gradtrace.trace.quantity import Phase
from gradtrace.workflow import trace_spec

# --ask -> the phases asked; each quantity kind belongs to one phase
ASK: dict[str, tuple[str, ...]] = {"forward": ("forward",), "backward": ("backward",),
                                   "update": ("update",), "all": ("forward", "backward", "update")}
PHASE_OF = {"z": "forward", "a": "forward", "cost": "forward", "grad_a": "backward",
            "delta": "backward", "grad_W": "backward", "grad_b": "backward", "W_new": "update",
            "b_new": "update"}
QUESTION = {
    "forward": "the forward pass: z and a of every layer, and the cost C",
    "backward": "the backward pass: ∂C/∂a, δ, ∂C/∂W and ∂C/∂b of every layer",
    "update": "one step of gradient descent: the new weights W′ and biases b′",
}


# characters the sheet's words use, for pdflatex's default fonts
UNICODE_TEX = {"η": "$\\eta$", "∂": "$\\partial$", "δ": "$\\delta$", "′": "$'$", "×": "$\\times$"}


@dataclass(frozen=True)
class Blank:
    key: str  # the quantity key the answers file uses
    shape: tuple[int, ...]
    symbol: str = ""  # as the key prints it (net1 in the net-out notation, Err1 for δ1 as error)

    @property
    def aside(self) -> str:
        """`` = Err1`` when the printed symbol names the key differently, else ''."""
        plain = self.symbol.replace("δ", "delta").replace("∂C/∂", "grad_").replace("'", "_new")
        return "" if plain == self.key or not self.symbol else f" = {self.symbol}"


FIGURE_PRECISION = 6  # significant digits: every given number (two decimals, 0.05 steps) in full


def trace_of(variant: Variant) -> Trace:
    """The variant's one-step trace (computed once, however many parts of the sheet read it)."""
    return _trace_of(json.dumps(variant.data, sort_keys=True), variant.number, variant.seed)


@functools.lru_cache(maxsize=4)
def _trace_of(data: str, number: int, seed: int) -> Trace:
    """One trace per variant however many parts of the sheet read it (keyed by its mapping)."""
    return trace_spec(Variant(number, seed, json.loads(data)).spec, steps=1)


def figure_name(sheet_name: str, number: int, fmt: str) -> str:
    """Variant ``number``'s drawn network beside a sheet named ``sheet_name``: s-network-2.svg."""
    stem = sheet_name.rsplit(".", 1)[0] if "." in sheet_name else sheet_name
    return f"{stem}-network-{number}.{fmt}"


def figure_bytes(variant: Variant, fmt: str) -> bytes:
    """The network as the sheet gives it: inputs, weights, biases, target; '?' to compute."""
    return diagram.render_bytes(trace_of(variant), fmt, show="givens", precision=FIGURE_PRECISION)


def excluded_note(variant: Variant) -> str:
    """The key's line on which catalogued mistakes apply (those giving the right value do not)."""
    if not variant.excluded:
        return f"Exercise {variant.number}: every catalogued mistake applies."
    left_out = "; ".join(f"{key}: {', '.join(ids)}" for key, ids in variant.excluded.items())
    return (f"Exercise {variant.number}: every catalogued mistake applies except these, which give "
            f"the right value exactly on this variant and so are no mistake here: {left_out}.")


def blanks(variant: Variant, ask: str, notation: Naming = "textbook") -> list[Blank]:
    """Every asked quantity of the variant's step, in step order, with its shape and symbol."""
    step = trace_of(variant).steps[0]
    style = MathStyle(naming=notation)
    symbols = {q.key: render(q.matrix.lhs, style) for q in step.quantities()}
    row_view = step.network.weights_layout == "in_out"  # shapes as the key prints them
    return [Blank(key, exact_value(step, key).shape[::-1 if row_view else 1], symbols.get(key, ""))
            for key in order_of(step)
            if engine.recomputable(key) and PHASE_OF[engine.parse_key(key)[0]] in ASK[ask]]


def _question(variant: Variant, ask: str, decimals: int) -> str:
    """What to work out, in the variant's conventions (the intros every renderer prints)."""
    asked = "; ".join(QUESTION[phase] for phase in ASK[ask])
    network = trace_of(variant).network
    phases: tuple[Phase, ...] = ("forward", *(("backward", "update") if ask != "forward" else ()))
    how = " ".join(phase_intro(phase, network) for phase in phases)
    rounding = variant.spec.round
    as_you_go = ("" if rounding is None else f" Round every number to {rounding} decimals before "
                 "you use it in the next one, as with a calculator.")
    return (f"Work out, for one training step on the given input, {asked}. Write every number "
            f"to {decimals} decimals.{as_you_go} {how}")


def _weights_header(variant: Variant) -> str:
    if variant.data.get("weights_layout") == "in_out":
        return "W (rows: inputs, z = a W + b)"
    return "W (rows: units, z = W a + b)"


def _rows(variant: Variant) -> list[tuple[str, str, str, str]]:
    """(layer, activation, W, b) per layer, and the givens x, y, η, loss."""
    data = variant.data
    rows = [(f"layer {l}", layer["activation"], _numbers(layer["weights"]), _numbers(layer["bias"]))
            for l, layer in enumerate(data["layers"], start=1)]
    return rows


def _numbers(value: object) -> str:
    array = np.atleast_2d(np.asarray(value, dtype=np.float64))
    return "; ".join(", ".join(f"{x:g}" for x in row) for row in array)


def _givens(variant: Variant) -> list[str]:
    data = variant.data
    return [f"input x = ({_numbers(data['data']['input'])})",
            f"target y = ({_numbers(data['data']['target'])})",
            f"learning rate η = {data['learning_rate']:g}", f"loss: {data['loss']}",
            *([f"conventions: {chosen.removeprefix(', ')}"] if (chosen := conventions(
                trace_of(variant).network)) else []),
            f"variant {variant.number}, seed {variant.seed}"]


def _shape(shape: tuple[int, ...]) -> str:
    return "one number" if not shape or shape == (1, 1) else f"{shape[0]}×{shape[1]}"


def markdown(variants: Sequence[Variant], ask: str, decimals: int, sheet_name: str,
             notation: Naming = "textbook") -> str:
    """The sheet in Markdown; each network drawn in ``figure_name(sheet_name, variant.number, "svg")``."""
    parts = []
    for variant in variants:
        figure = figure_name(sheet_name, variant.number, "svg")
        lines = [f"# Exercise {variant.number}", "", _question(variant, ask, decimals), "",
                 f"![The network of exercise {variant.number}: ? marks what you compute]"
                 f"({figure})", "",
                 f"| layer | activation | {_weights_header(variant)} | b |", "|---|---|---|---|"]
        lines += [f"| {' | '.join(row)} |" for row in _rows(variant)]
        lines += ["", *(f"- {given}" for given in _givens(variant)), "", "## Answers", ""]
        lines += [f"- `{b.key}`{b.aside} ({_shape(b.shape)}): ________"
                  for b in blanks(variant, ask, notation)]
        parts.append("\n".join(lines) + "\n")
    return "\n---\n\n".join(parts)


def givens_html(variant: Variant) -> str:
    """The network as an HTML table and the other givens as a list (the sheet and each quiz item)."""
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                   for row in _rows(variant))
    givens = "".join(f"<li>{html.escape(given)}</li>" for given in _givens(variant))
    return (f"<table><tr><th>layer</th><th>activation</th>"
            f"<th>{html.escape(_weights_header(variant))}</th><th>b</th></tr>{rows}</table>"
            f"<ul>{givens}</ul>")


def html_page(variants: Sequence[Variant], ask: str, decimals: int,
              notation: Naming = "textbook") -> str:
    sections = []
    for variant in variants:
        answers = "".join(f"<li><code>{b.key}</code>{html.escape(b.aside)} ({_shape(b.shape)}): "
                          "________</li>" for b in blanks(variant, ask, notation))
        svg = diagram.inline_svg(trace_of(variant), show="givens", precision=FIGURE_PRECISION)
        sections.append(
            f'<section class="exercise"><h1>Exercise {variant.number}</h1>'
            f"<p>{html.escape(_question(variant, ask, decimals))}</p>"
            f'<figure class="diagram network">{svg}</figure>{givens_html(variant)}'
            f"<h2>Answers</h2><ol>{answers}</ol></section>")
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            "<title>gradtrace exercise</title>\n<style>section.exercise { break-after: page; } "
            "td, th { border: 1px solid #999; padding: .2rem .5rem; }" + DIAGRAM_CSS
            + "</style>\n</head>\n<body>\n"
            + "\n".join(sections) + "\n</body>\n</html>\n")


def _tex(text: str) -> str:
    """Sheet text for pdflatex: render/latex's escape, with × and ′ (which it has no maths for)."""
    return "$\\times$".join(escape(part.replace("′", "'")) for part in text.split("×"))


def latex(variants: Sequence[Variant], ask: str, decimals: int, sheet_name: str,
          notation: Naming = "textbook") -> str:
    """The sheet in LaTeX; each network included from ``figure_name(sheet_name, variant.number, "pdf")``."""
    lines = ["\\documentclass{article}", "\\usepackage[utf8]{inputenc}",
             "\\usepackage[margin=2cm]{geometry}", "\\usepackage{graphicx}", "\\usepackage{multicol}",
             *(f"\\DeclareUnicodeCharacter{{{ord(char):04X}}}{{{tex}}}"
               for char, tex in UNICODE_TEX.items()),
             "\\begin{document}"]
    for k, variant in enumerate(variants):
        if k:
            lines.append("\\newpage")
        lines += [f"\\section*{{Exercise {variant.number}}}",
                  _tex(_question(variant, ask, decimals)), "",
                  "\\begin{center}\\includegraphics[width=0.8\\linewidth]"
                  f"{{{figure_name(sheet_name, variant.number, 'pdf')}}}\\end{{center}}", "",
                  "\\begin{tabular}{llll}",
                  f"layer & activation & {_tex(_weights_header(variant))} & $b$ \\\\",
                  "\\hline"]
        lines += [" & ".join(_tex(cell) for cell in row) + " \\\\" for row in _rows(variant)]
        lines += ["\\end{tabular}", "", "\\begin{itemize}"]
        lines += [f"\\item {_tex(given)}" for given in _givens(variant)]
        lines += ["\\end{itemize}", "\\subsection*{Answers}", "\\begin{multicols}{2}",
                  "\\begin{enumerate}"]
        lines += [f"\\item \\verb|{b.key}|{_tex(b.aside)} ({_tex(_shape(b.shape))}): "
                  "\\rule{3.5cm}{0.4pt}" for b in blanks(variant, ask, notation)]
        lines += ["\\end{enumerate}", "\\end{multicols}"]
    lines += ["\\end{document}", ""]
    return "\n".join(lines)
