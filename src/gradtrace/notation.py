"""One symbol table: every quantity's name in plain text, in LaTeX and in words.

Code, terminal output, LaTeX, HTML and the web page all take their symbols from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The naming scheme a reader picks (`--notation`): textbook z/a, or the net/out of many tutorials.
# One type for RenderOptions.notation and MathStyle.naming.
Naming = Literal["textbook", "net-out"]


@dataclass(frozen=True)
class Notation:
    """How one kind of quantity is written. ``{l}`` stands for the layer number."""

    text: str
    latex: str
    words: str


SYMBOLS: dict[str, Notation] = {
    "a": Notation("a{l}", "a^{{({l})}}", "activation of layer {l}"),
    "z": Notation("z{l}", "z^{{({l})}}", "weighted input of layer {l}"),
    "W": Notation("W{l}", "W^{{({l})}}", "weights of layer {l}"),
    "b": Notation("b{l}", "b^{{({l})}}", "biases of layer {l}"),
    "W_new": Notation("W{l}'", "W'^{{({l})}}", "updated weights of layer {l}"),
    "b_new": Notation("b{l}'", "b'^{{({l})}}", "updated biases of layer {l}"),
    "delta": Notation("δ{l}", "\\delta^{{({l})}}", "error dC/dz of layer {l}"),
    "grad_W": Notation("∂C/∂W{l}", "\\frac{{\\partial C}}{{\\partial W^{{({l})}}}}",
                       "gradient of the cost with respect to W{l}"),
    "grad_b": Notation("∂C/∂b{l}", "\\frac{{\\partial C}}{{\\partial b^{{({l})}}}}",
                       "gradient of the cost with respect to b{l}"),
    "grad_a": Notation("∂C/∂a{l}", "\\frac{{\\partial C}}{{\\partial a^{{({l})}}}}",
                       "gradient of the cost with respect to the activation a{l}"),
    # delta_convention = "error" (Mitchell, Han & Kamber): the error term and what reaches a_l
    "err": Notation("Err{l}", "\\mathrm{{Err}}^{{({l})}}", "error term Err = −∂C/∂z of layer {l}"),
    "err_a": Notation("−∂C/∂a{l}", "-\\frac{{\\partial C}}{{\\partial a^{{({l})}}}}",
                      "error reaching the activation a{l}, −∂C/∂a{l}"),
    "y": Notation("y", "y", "target"),
    "C": Notation("C", "C", "cost"),
    "eta": Notation("η", "\\eta", "learning rate"),
    "m": Notation("m", "m", "batch size"),
}

# Optimiser state, per parameter p in (W, b): momentum's velocity v, Adam's moments m, v and their
# bias-corrected forms m̂, v̂. Templates: "{l}" is the layer, doubled braces are literal.
for _p in ("W", "b"):
    _sub = "_{{" + _p + "^{{({l})}}}}"
    SYMBOLS["velocity_" + _p] = Notation("v_" + _p + "{l}", "v" + _sub, "momentum velocity of " + _p + "{l}")
    SYMBOLS["m_" + _p] = Notation("m_" + _p + "{l}", "m" + _sub, "Adam's first moment of " + _p + "{l}")
    SYMBOLS["v_" + _p] = Notation("v_" + _p + "{l}", "v" + _sub, "Adam's second moment of " + _p + "{l}")
    SYMBOLS["mhat_" + _p] = Notation("m̂_" + _p + "{l}", "\\hat{{m}}" + _sub,
                                     "bias-corrected first moment of " + _p + "{l}")
    SYMBOLS["vhat_" + _p] = Notation("v̂_" + _p + "{l}", "\\hat{{v}}" + _sub,
                                     "bias-corrected second moment of " + _p + "{l}")
for _name, _text, _latex in (("mu", "μ", "\\mu"), ("beta1", "β1", "\\beta_1"),
                             ("beta2", "β2", "\\beta_2"), ("epsilon", "ε", "\\epsilon"),
                             ("lambda", "λ", "\\lambda"), ("t", "t", "t")):
    SYMBOLS[_name] = Notation(_text, _latex, _name)

# The "net/out" naming many blog tutorials use (net_h1, out_h1) instead of z/a.
NET_OUT = {"z": "net", "a": "out"}


def text(kind: str, layer: int | None = None) -> str:
    """Plain-text symbol, e.g. ``text("delta", 2) == "δ2"``."""
    return SYMBOLS[kind].text.format(l="" if layer is None else layer)


def latex(kind: str, layer: int | None = None) -> str:
    """LaTeX symbol, e.g. ``latex("z", 1) == "z^{(1)}"``."""
    template = SYMBOLS[kind].latex
    if layer is None:
        return template.replace("^{({l})}", "").format(l="")
    return template.format(l=layer)


def words(kind: str, layer: int | None = None) -> str:
    """A short description in words."""
    return SYMBOLS[kind].words.format(l="" if layer is None else layer)
