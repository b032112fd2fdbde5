"""GitHub-flavoured Markdown: the worked step with ``$...$``/``$$...$$`` maths.

The words and the layout come from gradtrace.render.wording, which every format shares;
``describe`` (the step in a sentence) stays beside ``LOSS_WORDS`` (from the loss registry) here;
it could move to wording.py.
"""

from __future__ import annotations

import re

from gradtrace.core.losses import LOSSES
from gradtrace.render.math import MathStyle, aligned, matrix
from gradtrace.render.options import RenderOptions
from gradtrace.render.wording import (
    DRIFT_TITLE,
    GIVEN_INTRO,
    GIVEN_TITLE,
    PHASE_TITLES,
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

LOSS_WORDS = {name: entry.words for name, entry in LOSSES.items()}


def describe(step: Step) -> str:
    """The network, loss, batch and optimiser of a step in one plain sentence or two."""
    network = step.network
    sizes = "-".join(str(n) for n in network.sizes)
    layers = ", ".join(f"layer {l}: {layer.activation}"
                       for l, layer in enumerate(network.layers, start=1))
    samples = "one sample" if step.batch_size == 1 else f"a batch of {step.batch_size} samples"
    loss = LOSS_WORDS.get(network.loss, network.loss)
    optimizer = step.optimizer.name
    rate = matrix(step.learning_rate, MathStyle(precision=6))
    text = (f"A {sizes} network ({layers}); loss: {loss} ({network.loss}); {samples}; "
            f"optimiser: {optimizer}, learning rate η = {rate}.")
    extras = [f"{name} = {value:g}" for name, value in step.optimizer.hyperparameters
              if name != "learning_rate" and (value or name == "momentum")]
    if extras and optimizer != "sgd":
        text += f" Hyperparameters: {', '.join(extras)}."
    if not network.train_biases:
        text += " Biases stay fixed (train_biases = false)."
    frozen = [str(l) for l, layer in enumerate(network.layers, start=1) if not layer.trainable]
    if frozen:
        text += f" Frozen layers (not updated): {', '.join(frozen)}."
    return text


def escape(text: str) -> str:
    """Plain text made safe for Markdown (no accidental emphasis, code or links)."""
    return re.sub(r"([\\`*\[\]<$])", r"\\\1", text)


# ---- Markdown --------------------------------------------------------------------------------

def display(latex: str) -> str:
    return f"$$\n{latex}\n$$"


def render(trace: Trace, options: RenderOptions) -> str:
    """The whole trace as GitHub-flavoured Markdown."""
    options = options.for_trace(trace)
    lines = [f"# {escape(title(trace, options))}", ""]
    several = len(trace.steps) > 1
    for step in trace.steps:
        lines += _step(step, options, "###" if several else "##", several)
    lines += drift_section(trace)
    return "\n".join(lines).rstrip() + "\n"


def drift_section(trace: Trace) -> list[str]:
    """Hand arithmetic's drift against exact arithmetic as a closing section ([] without)."""
    drift = drift_lines(trace)
    if not drift:
        return []
    return [f"## {DRIFT_TITLE}", "", *(f"- {escape(line)}" for line in drift), ""]


def _step(step: Step, options: RenderOptions, level: str, several: bool) -> list[str]:
    lines = []
    if several:
        lines += [f"## Step {step.index + 1}", ""]
    lines += [escape(describe(step)), "", f"{level} {GIVEN_TITLE}", "", GIVEN_INTRO, "",
              display(aligned(given(step), math_style(options), compact=True)), ""]
    for phase, quantities in sections(step):
        lines += [f"{level} {PHASE_TITLES[phase]}", "", escape(phase_intro(phase, step.network)), ""]
        for quantity in quantities:
            lines += quantity_lines(quantity, options, f"{level}#")
    return lines


def quantity_lines(quantity: Quantity, options: RenderOptions, level: str) -> list[str]:
    """One quantity: its heading, its displays (matrix and/or neuron view), its note."""
    lines = [f"{level} {escape(heading(quantity, options))}", ""]
    for block in blocks(quantity, options):
        if block.label:
            lines += [f"*{block.label}:*", ""]
        lines += [display(block.latex), ""]
        if block.fold:
            lines += [escape(block.fold), ""]
    remark = note(quantity)
    if remark:
        lines += [f"> {escape(remark)}", ""]
    return lines
