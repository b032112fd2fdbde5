"""The words every renderer shares, and the layout every document shares.

Text, Markdown, LaTeX, HTML, notebooks and the Jupyter reprs tell a derivation in the same order
with the same words: phase titles and intros, headings such as ``z1 — weighted input of layer 1``,
the network and step summaries, captions. Change a sentence here and every format follows.
Notation as gradtrace.notation gives it: a = activation, z = weighted input, δ = dC/dz, η = rate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from gradtrace import notation
from gradtrace.render.math import MathStyle, aligned, number, symbol
from gradtrace.render.options import RenderOptions
from gradtrace.trace.expr import sym
from gradtrace.trace.model import PHASES, Equation, NetworkInfo, Phase, Quantity, Step, Trace

PHASE_TITLES: dict[Phase, str] = {
    "forward": "Forward pass",
    "cost": "Cost",
    "backward": "Backpropagation",
    "update": "Update",
}
# What a reader must not miss in a phase; the terminal prints it beside the title.
PHASE_CAVEATS: dict[Phase, str] = {
    "backward": "every δ uses the weights from before the update",
}
PHASE_INTROS: dict[Phase, str] = {
    "forward": "Each layer takes the previous activations: z = W a + b, then a = σ(z).",
    "cost": "How far the output is from the target.",
    "backward": ("From the output back to the input, with the weights from before the update: "
                 "δ is how the cost changes with each z."),
    "update": "Each parameter moves against its gradient: θ' = θ − η ∂C/∂θ.",
}
# The intros in the row view (weights_layout = "in_out") and the error convention.
ROW_VIEW_INTRO = "Each layer takes the previous activations as a row: z = a W + b, then a = σ(z)."
ERROR_INTRO = ("From the output back to the input, with the weights from before the update: "
               "Err = −∂C/∂z is how the cost falls as each z grows.")
ERROR_UPDATE_INTRO = "Each parameter moves with its error term: θ' = θ + η Err O (θ − η ∂C/∂θ)."


def phase_intro(phase: Phase, network: NetworkInfo) -> str:
    """The phase's intro in the trace's conventions."""
    if phase == "forward" and network.weights_layout == "in_out":
        return ROW_VIEW_INTRO
    if network.delta_convention == "error" and phase in ("backward", "update"):
        return ERROR_INTRO if phase == "backward" else ERROR_UPDATE_INTRO
    return PHASE_INTROS[phase]


GIVEN_TITLE = "Given"
GIVEN_INTRO = "The parameters before the step, the target and the learning rate:"
NEURON_LABEL = "Per neuron"
NETWORK_CAPTION = "The network: activations in the neurons, weights on the edges, biases under each neuron."
UPDATES_CAPTION = "Each weight before → after the update."
INPUT_WORDS = "the input"


def phase_title(phase: Phase, caveat: bool = False, network: NetworkInfo | None = None) -> str:
    """``Backpropagation``, or with ``caveat`` ``Backpropagation (every δ uses ...)`` (Err in
    the error convention)."""
    reminder = PHASE_CAVEATS.get(phase) if caveat else None
    if reminder and network is not None and network.delta_convention == "error":
        reminder = reminder.replace("δ", "Err")
    return f"{PHASE_TITLES[phase]} ({reminder})" if reminder else PHASE_TITLES[phase]


def network_line(network: NetworkInfo) -> str:
    """``2-2-1 network (sigmoid, sigmoid), loss half_sse, biases fixed``: sizes, activations, loss."""
    sizes = "-".join(str(n) for n in network.sizes)
    activations = ", ".join(layer.activation for layer in network.layers)
    biases = "" if network.train_biases else ", biases fixed"
    return f"{sizes} network ({activations}), loss {network.loss}{biases}{conventions(network)}"


def conventions(network: NetworkInfo) -> str:
    """``, batch_reduction sum, weights_layout in_out``: the conventions that are not the default."""
    chosen = [(name, value) for name, value, default in (
        ("batch_reduction", network.batch_reduction, "mean"),
        ("weights_layout", network.weights_layout, "out_in"),
        ("delta_convention", network.delta_convention, "gradient"),
    ) if value != default]
    return "".join(f", {name} {value}" for name, value in chosen)


def step_line(step: Step) -> str:
    """``Step 1: η = 1, 1 sample`` (and the optimiser when it is not plain SGD)."""
    m = step.batch_size
    batch = "1 sample" if m == 1 else f"a batch of {m} samples"
    optimizer = "" if step.optimizer.name == "sgd" else f", optimiser {step.optimizer.name}"
    return f"Step {step.index + 1}: η = {step.learning_rate:g}, {batch}{optimizer}"


def title(trace: Trace, options: RenderOptions) -> str:
    """A document's title: the options' own, else ``Backpropagation, worked out: NAME``."""
    if options.title:
        return options.title
    name = f": {trace.name}" if trace.name else ""
    return f"Backpropagation, worked out{name}"


def quantity_words(quantity: Quantity) -> str:
    """``weighted input of layer 1``; ``the input`` for a0."""
    return INPUT_WORDS if quantity.key == "a0" else notation.words(quantity.kind, quantity.layer)


def heading(quantity: Quantity, options: RenderOptions) -> str:
    """``z1 — weighted input of layer 1`` (plain text, in the chosen notation)."""
    name = symbol(quantity.matrix.lhs, MathStyle("text", naming=options.notation,
                                                 layout=options.shown_layout))
    return f"{name} — {quantity_words(quantity)}"


def note(quantity: Quantity) -> str | None:
    """The quantity's note, unless the heading already says it."""
    text = quantity.matrix.note
    return None if quantity.key == "a0" and text == INPUT_WORDS else text


# ---- The layout every document shares ----------------------------------------------------------

# The neuron view prints at most this many scalar equations per quantity (the built-in examples
# have at most 12); the rest are folded into one line that says how many and where they are.
# A 40 x 40 layer has 1,600 weight equations: printed, they are megabytes nobody reads.
NEURON_FOLD = 16


def folded(hidden: int) -> str:
    """The line standing for equations past the fold: ``… 1,584 more (all in the JSON trace)``."""
    return f"… {hidden:,} more equations like these (all in the JSON trace: --format json)"


@dataclass(frozen=True)
class Block:
    """One displayed equation block of a quantity: a label ("Per neuron"), its equations, and how
    many more past the fold (``hidden``) it leaves out. ``latex`` is the LaTeX ``aligned`` of them."""

    label: str | None
    equations: tuple[Equation, ...]
    style: MathStyle
    compact: bool = False
    hidden: int = 0

    @property
    def latex(self) -> str:
        return aligned(self.equations, self.style, compact=self.compact)

    @property
    def fold(self) -> str | None:
        """The fold line, or None when every equation is shown."""
        return folded(self.hidden) if self.hidden else None


def math_style(options: RenderOptions) -> MathStyle:
    """LaTeX symbols (not numbers) at the options' precision (or decimals), notation and layout."""
    return MathStyle("latex", False, options.precision, options.notation, options.decimals,
                     options.shown_layout)


def given(step: Step) -> tuple[Equation, ...]:
    """What the step starts from: every W and b before the update, the target y, and η."""
    equations = []
    for record in step.update:
        W, b = sym("W", record.layer, record.W_old), sym("b", record.layer, record.b_old)
        equations += [Equation(W, None, W.value), Equation(b, None, b.value)]
    y = sym("y", None, step.target)
    eta = sym("eta", None, step.learning_rate)
    return (*equations, Equation(y, None, y.value), Equation(eta, None, eta.value))


def blocks(quantity: Quantity, options: RenderOptions) -> list[Block]:
    """The equation blocks ``options.view`` asks for: matrix, per neuron, or both."""
    ms = math_style(options)
    result = []
    if options.view in ("matrix", "both"):
        result.append(Block(None, (quantity.matrix,), ms))
    if options.view in ("neuron", "both") and quantity.neuron:
        label = NEURON_LABEL if options.view == "both" else None
        shown = quantity.neuron[:NEURON_FOLD]
        result.append(Block(label, tuple(shown), ms, compact=True,
                            hidden=len(quantity.neuron) - len(shown)))
    return result


def sections(step: Step) -> Iterator[tuple[Phase, list[Quantity]]]:
    """The step's quantities grouped by phase, in the order a learner meets them."""
    quantities = step.quantities()
    for phase in PHASES:
        in_phase = [q for q in quantities if q.phase == phase]
        if in_phase:
            yield phase, in_phase


# ---- Hand arithmetic: how far rounding as you go drifted from exact arithmetic -----------------

DRIFT_TITLE = "Drift against exact arithmetic"
EXACT_DIGITS = 6  # significant digits of the exact values, whatever the display's
DRIFT_DIGITS = 3


def drift_lines(trace: Trace) -> list[str]:
    """Plain sentences on how the hand-rounded run drifted from the exact one; [] without rounding.

    Per step: the cost C (rounded, exact, drift = rounded − exact) and the largest |drift| of a
    new weight or bias θ' (each run from its own previous weights), naming the entry.
    """
    if trace.rounding is None:
        return []
    lines = [f"Every quantity was rounded to {trace.rounding} decimals (half away from zero) "
             "before the next one used it; the exact run takes the same steps in float64."]
    for step in trace.steps:
        if step.exact is None:
            continue
        cost = step.cost - step.exact.cost
        name, worst = _largest_weight_drift(step, step.exact)
        lines.append(
            f"Step {step.index + 1}: cost C = {number(step.cost, EXACT_DIGITS)}, exact "
            f"{number(step.exact.cost, EXACT_DIGITS)}, drift {number(cost, DRIFT_DIGITS)}; "
            f"new weights: largest drift {number(worst, DRIFT_DIGITS)}"
            + (f" ({name})" if name else ""))
    return lines


def _largest_weight_drift(step: Step, exact: Step) -> tuple[str | None, float]:
    """(entry, rounded − exact) of the new parameter that drifted most: ("W1'[2,3]", −0.00088)."""
    name, worst = None, 0.0
    for rounded, true in zip(step.update, exact.update, strict=True):
        for parameter, mine, theirs in (("W", rounded.W_new, true.W_new),
                                        ("b", rounded.b_new, true.b_new)):
            difference = mine - theirs
            if not difference.size:
                continue
            j, i = np.unravel_index(int(np.argmax(np.abs(difference))), difference.shape)
            if abs(difference[j, i]) > abs(worst):
                index = f"{j + 1},{i + 1}" if parameter == "W" else f"{j + 1}"
                name, worst = f"{parameter}{rounded.layer}'[{index}]", float(difference[j, i])
    return name, worst
