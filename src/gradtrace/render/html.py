"""One self-contained HTML page: MathML maths, the network as inline SVG, print-friendly CSS.

No script, font or stylesheet is fetched: the file works offline and prints as a handout.
(The interactive step-through page is the web package's: ``gradtrace.web.standalone``.)
"""

from __future__ import annotations

import html
from collections.abc import Iterator

from gradtrace.render import diagram
from gradtrace.render.markdown import describe
from gradtrace.render.mathml import aligned_ml
from gradtrace.render.options import RenderOptions
from gradtrace.render.wording import (
    DRIFT_TITLE,
    GIVEN_INTRO,
    GIVEN_TITLE,
    NETWORK_CAPTION,
    PHASE_TITLES,
    UPDATES_CAPTION,
    blocks,
    drift_lines,
    given,
    heading,
    math_style,
    note,
    phase_intro,
    sections,
    title,
)
from gradtrace.trace.model import Quantity, Step, Trace

# A drawn network in any of our HTML pages (handouts, exercise sheets): full width on a screen; on
# a phone a legible diagram to scroll, not one shrunk to unreadable labels.
DIAGRAM_CSS = """
figure.diagram { margin: 1rem 0; text-align: center; }
figure.diagram svg { max-width: 100%; height: auto; }
@media screen and (max-width: 40rem) {
  figure.diagram { overflow-x: auto; }
  figure.diagram svg { max-width: none; width: 36rem; }
}
"""

CSS = DIAGRAM_CSS + """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5;
       color: #1d1d1f; background: #fff; margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
h1 { font-size: 1.7rem; margin-bottom: .25rem; }
h2 { font-size: 1.35rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .3rem; }
.summary, .intro { color: #444; }
.quantity { margin-bottom: 1rem; }
.eq { overflow-x: auto; padding: .15rem 0; }
.eq-label { font-style: italic; color: #555; margin: .4rem 0 0; }
math { font-size: 1.1rem; }
math[display="block"] { margin: .4rem 0; }
mtd[columnalign="right"] { text-align: right; }
mtd[columnalign="left"] { text-align: left; }
.note { border-left: 3px solid #c9d6e8; padding-left: .6rem; color: #444; margin: .3rem 0; }
.fold { color: #555; font-style: italic; margin: .2rem 0; }
figcaption { color: #555; font-size: .9rem; }
pre.latex { white-space: pre-wrap; font-size: .85rem; }
@media print {
  main { max-width: none; padding: 0; }
  .eq { overflow: visible; }
  math { font-size: 10pt; }
  .quantity, figure.diagram { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
}
"""


def render(trace: Trace, options: RenderOptions) -> str:
    """The whole trace as one HTML document."""
    options = options.for_trace(trace)
    heading_text = html.escape(title(trace, options))
    body = "\n".join(_steps(trace, options, 2))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="gradtrace">\n'
        f"<title>{heading_text}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{heading_text}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def fragment(trace: Trace, options: RenderOptions) -> str:
    """The derivation as an HTML fragment with scoped styles (for a notebook's output area)."""
    options = options.for_trace(trace)
    scoped = " ".join(f".gradtrace-trace {rule}" for rule in FRAGMENT_RULES)
    body = "\n".join(_steps(trace, options, 3))
    return f'<div class="gradtrace-trace">\n<style>{scoped}</style>\n{body}\n</div>'


FRAGMENT_RULES = (
    ".eq { overflow-x: auto; }",
    'mtd[columnalign="right"] { text-align: right; }',
    'mtd[columnalign="left"] { text-align: left; }',
    ".note { border-left: 3px solid #c9d6e8; padding-left: .6rem; }",
    "figure.diagram svg { max-width: 100%; height: auto; }",
)


def _figure(trace: Trace, step: Step, show: diagram.Show, caption: str, precision: int) -> str:
    index = trace.steps.index(step)
    svg = diagram.inline_svg(trace, show, index, min(precision, 4))
    return (f'<figure class="diagram" data-show="{show}">\n{svg}\n'
            f"<figcaption>{html.escape(caption)}</figcaption>\n</figure>")


def _steps(trace: Trace, options: RenderOptions, level: int) -> Iterator[str]:
    """The body; ``level`` is the heading level of a phase (h2 in a page, h3 in a fragment)."""
    several = len(trace.steps) > 1
    h_phase, h_quantity = f"h{level}", f"h{level + 1}"
    for step in trace.steps:
        if several:
            yield f'<{h_phase} class="step">Step {step.index + 1}</{h_phase}>'
        yield f'<p class="summary">{html.escape(describe(step))}</p>'
        yield _figure(trace, step, "values", NETWORK_CAPTION, options.precision)
        yield f'<section class="phase">\n<{h_phase}>{GIVEN_TITLE}</{h_phase}>'
        yield f"<p>{html.escape(GIVEN_INTRO)}</p>"
        yield ('<div class="eq">' + aligned_ml(given(step), math_style(options), compact=True)
               + "</div>\n</section>")
        for phase, quantities in sections(step):
            yield (f'<section class="phase" id="{phase}-{step.index + 1}">\n'
                   f"<{h_phase}>{PHASE_TITLES[phase]}</{h_phase}>\n"
                   f'<p class="intro">{html.escape(phase_intro(phase, step.network))}</p>')
            for quantity in quantities:
                yield _quantity_html(quantity, options, h_quantity)
            if phase == "update":
                yield _figure(trace, step, "updates", UPDATES_CAPTION, options.precision)
            yield "</section>"
    drift = drift_lines(trace)
    if drift:  # hand arithmetic: how far rounding as it went drifted from exact arithmetic
        items = "".join(f"<li>{html.escape(line)}</li>" for line in drift)
        yield (f'<section class="phase" id="drift">\n<{h_phase}>{DRIFT_TITLE}</{h_phase}>\n'
               f"<ul>{items}</ul>\n</section>")


def _quantity_html(quantity: Quantity, options: RenderOptions, tag: str) -> str:
    parts = [f'<article class="quantity" data-key="{quantity.key}">',
             f"<{tag}>{html.escape(heading(quantity, options))}</{tag}>"]
    for block in blocks(quantity, options):
        if block.label:
            parts.append(f'<p class="eq-label">{html.escape(block.label)}:</p>')
        parts.append(f'<div class="eq">{aligned_ml(block.equations, block.style, compact=block.compact)}'
                     "</div>")
        if block.fold:
            parts.append(f'<p class="fold">{html.escape(block.fold)}</p>')
    remark = note(quantity)
    if remark:
        parts.append(f'<p class="note">{html.escape(remark)}</p>')
    parts.append("</article>")
    return "\n".join(parts)
