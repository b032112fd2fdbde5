"""The question sheet: the network as a table, the question, a blank per asked quantity in step
order. Markdown, HTML and LaTeX; the key is the existing renderers' worked solution (cli)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gradtrace.exercise.variants import Variant
from gradtrace.grade import engine
from gradtrace.grade.keys import exact_value, order_of
from gradtrace.render.latex import escape
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


def blanks(variant: Variant, ask: str) -> list[Blank]:
    """Every asked quantity of the variant's step, in step order, with its shape."""
    step = trace_spec(variant.spec, steps=1).steps[0]
    return [Blank(key, exact_value(step, key).shape) for key in order_of(step)
            if engine.recomputable(key) and PHASE_OF[engine.parse_key(key)[0]] in ASK[ask]]


def _question(ask: str, decimals: int) -> str:
    asked = "; ".join(QUESTION[phase] for phase in ASK[ask])
    return (f"Work out, for one training step on the given input, {asked}. Write every number "
            f"to {decimals} decimals.")


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
            f"variant {variant.number}, seed {variant.seed}"]


def _shape(shape: tuple[int, ...]) -> str:
    return "one number" if not shape or shape == (1, 1) else f"{shape[0]}×{shape[1]}"


def markdown(variants: Sequence[Variant], ask: str, decimals: int) -> str:
    parts = []
    for variant in variants:
        lines = [f"# Exercise {variant.number}", "", _question(ask, decimals), "",
                 "| layer | activation | W (rows: units) | b |", "|---|---|---|---|"]
        lines += [f"| {' | '.join(row)} |" for row in _rows(variant)]
        lines += ["", *(f"- {given}" for given in _givens(variant)), "", "## Answers", ""]
        lines += [f"- `{b.key}` ({_shape(b.shape)}): ________" for b in blanks(variant, ask)]
        parts.append("\n".join(lines) + "\n")
    return "\n---\n\n".join(parts)


def html_page(variants: Sequence[Variant], ask: str, decimals: int) -> str:
    sections = []
    for variant in variants:
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                       for row in _rows(variant))
        givens = "".join(f"<li>{html.escape(given)}</li>" for given in _givens(variant))
        answers = "".join(f"<li><code>{b.key}</code> ({_shape(b.shape)}): ________</li>"
                          for b in blanks(variant, ask))
        sections.append(
            f'<section class="exercise"><h1>Exercise {variant.number}</h1>'
            f"<p>{html.escape(_question(ask, decimals))}</p><table><tr><th>layer</th>"
            f"<th>activation</th><th>W (rows: units)</th><th>b</th></tr>{rows}</table>"
            f"<ul>{givens}</ul><h2>Answers</h2><ol>{answers}</ol></section>")
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            "<title>gradtrace exercise</title>\n<style>section.exercise { break-after: page; } "
            "td, th { border: 1px solid #999; padding: .2rem .5rem; }</style>\n</head>\n<body>\n"
            + "\n".join(sections) + "\n</body>\n</html>\n")


def latex(variants: Sequence[Variant], ask: str, decimals: int) -> str:
    lines = ["\\documentclass{article}", "\\usepackage[utf8]{inputenc}",
             *(f"\\DeclareUnicodeCharacter{{{ord(char):04X}}}{{{tex}}}"
               for char, tex in UNICODE_TEX.items()),
             "\\begin{document}"]
    for k, variant in enumerate(variants):
        if k:
            lines.append("\\newpage")
        lines += [f"\\section*{{Exercise {variant.number}}}", escape(_question(ask, decimals)), "",
                  "\\begin{tabular}{llll}", "layer & activation & $W$ (rows: units) & $b$ \\\\",
                  "\\hline"]
        lines += [" & ".join(escape(cell) for cell in row) + " \\\\" for row in _rows(variant)]
        lines += ["\\end{tabular}", "", "\\begin{itemize}"]
        lines += [f"\\item {escape(given)}" for given in _givens(variant)]
        lines += ["\\end{itemize}", "\\subsection*{Answers}", "\\begin{enumerate}"]
        lines += [f"\\item \\verb|{b.key}| ({escape(_shape(b.shape))}): \\rule{{5cm}}{{0.4pt}}"
                  for b in blanks(variant, ask)]
        lines += ["\\end{enumerate}"]
    lines += ["\\end{document}", ""]
    return "\n".join(lines)
