"""GitHub-flavoured Markdown: the worked step with ``$...$``/``$$...$$`` maths.

Also the layout every document format shares (sections, headings, which equations a view shows),
so Markdown, LaTeX, HTML and notebooks tell the derivation in the same order with the same words.
Notation as gradtrace.notation gives it: a = activation, z = weighted input, δ = dC/dz, η = rate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from gradtrace import notation
from gradtrace.core.losses import LOSSES
from gradtrace.render.math import MathStyle, aligned, matrix, symbol
from gradtrace.render.options import RenderOptions
from gradtrace.trace.expr import sym
from gradtrace.trace.model import PHASES, Equation, Phase, Quantity, Step, Trace

PHASE_TITLES: dict[Phase, str] = {
    "forward": "Forward pass",
    "cost": "Cost",
    "backward": "Backpropagation",
    "update": "Update",
}
PHASE_INTROS: dict[Phase, str] = {
    "forward": "Each layer takes the previous activations: z = W a + b, then a = σ(z).",
    "cost": "How far the output is from the target.",
    "backward": ("From the output back to the input, with the weights from before the update: "
                 "δ is how the cost changes with each z."),
    "update": "Each parameter moves against its gradient: θ' = θ − η ∂C/∂θ.",
}
LOSS_WORDS = {name: entry.words for name, entry in LOSSES.items()}


@dataclass(frozen=True)
class Block:
    """One displayed equation block of a quantity: a label ("Per neuron") and LaTeX ``aligned``."""

    label: str | None
    latex: str


def math_style(options: RenderOptions) -> MathStyle:
    return MathStyle("latex", False, options.precision, options.notation)


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


def given(step: Step) -> tuple[Equation, ...]:
    """What the step starts from: every W and b before the update, the target y, and η."""
    equations = []
    for record in step.update:
        W, b = sym("W", record.layer, record.W_old), sym("b", record.layer, record.b_old)
        equations += [Equation(W, None, W.value), Equation(b, None, b.value)]
    y = sym("y", None, step.target)
    eta = sym("eta", None, step.learning_rate)
    return (*equations, Equation(y, None, y.value), Equation(eta, None, eta.value))


def heading(quantity: Quantity, options: RenderOptions) -> str:
    """``z1 — weighted input of layer 1`` (plain text, in the chosen naming)."""
    name = symbol(quantity.matrix.lhs, MathStyle("text", naming=options.notation))
    if quantity.key == "a0":
        return f"{name} — the input"
    return f"{name} — {notation.words(quantity.kind, quantity.layer)}"


def note(quantity: Quantity) -> str | None:
    """The quantity's note, unless the heading already says it."""
    text = quantity.matrix.note
    return None if quantity.key == "a0" and text == "the input" else text


def blocks(quantity: Quantity, options: RenderOptions) -> list[Block]:
    """The equation blocks ``options.view`` asks for: matrix, per neuron, or both."""
    ms = math_style(options)
    result = []
    if options.view in ("matrix", "both"):
        result.append(Block(None, aligned([quantity.matrix], ms)))
    if options.view in ("neuron", "both") and quantity.neuron:
        label = "Per neuron" if options.view == "both" else None
        result.append(Block(label, aligned(quantity.neuron, ms, compact=True)))
    return result


def sections(step: Step) -> Iterator[tuple[Phase, list[Quantity]]]:
    """The step's quantities grouped by phase, in the order a learner meets them."""
    quantities = step.quantities()
    for phase in PHASES:
        in_phase = [q for q in quantities if q.phase == phase]
        if in_phase:
            yield phase, in_phase


def title(trace: Trace, options: RenderOptions) -> str:
    if options.title:
        return options.title
    name = f": {trace.name}" if trace.name else ""
    return f"Backpropagation, worked out{name}"


def escape(text: str) -> str:
    """Plain text made safe for Markdown (no accidental emphasis, code or links)."""
    return re.sub(r"([\\`*\[\]<$])", r"\\\1", text)


# ---- Markdown --------------------------------------------------------------------------------

def display(latex: str) -> str:
    return f"$$\n{latex}\n$$"


def render(trace: Trace, options: RenderOptions) -> str:
    """The whole trace as GitHub-flavoured Markdown."""
    lines = [f"# {escape(title(trace, options))}", ""]
    several = len(trace.steps) > 1
    for step in trace.steps:
        lines += _step(step, options, "###" if several else "##", several)
    return "\n".join(lines).rstrip() + "\n"


def _step(step: Step, options: RenderOptions, level: str, several: bool) -> list[str]:
    lines = []
    if several:
        lines += [f"## Step {step.index + 1}", ""]
    lines += [escape(describe(step)), "", f"{level} Given", "",
              "The parameters before the step, the target and the learning rate:", "",
              display(aligned(given(step), math_style(options), compact=True)), ""]
    for phase, quantities in sections(step):
        lines += [f"{level} {PHASE_TITLES[phase]}", "", escape(PHASE_INTROS[phase]), ""]
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
    remark = note(quantity)
    if remark:
        lines += [f"> {escape(remark)}", ""]
    return lines
