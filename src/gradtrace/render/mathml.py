"""MathML written directly from the expression trees, as the page's web/static/mathml.js writes it.

Notation as gradtrace.notation gives it (z = weighted input, a = activation, δ = dC/dz, η = rate).
Browsers render MathML natively (MathML Core in Chromium, Firefox, Safari): no script, no network.
Writing the markup from the tree (not from LaTeX through a converter) costs microseconds per
matrix entry, so a 40 x 40 weight matrix prints in milliseconds; tests/test_printers.py checks that
this printer and the page's print every tree of real traces to the same visible maths.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from gradtrace import notation
from gradtrace.notation import Naming
from gradtrace.render.math import ATOM, PRECEDENCE, Layout, MathStyle, number, shown, shown_index
from gradtrace.trace.expr import Expr, Num, Op, Sym, Value
from gradtrace.trace.model import Equation

MINUS, TIMES, INVISIBLE_TIMES, PRIME, TOP = "\u2212", "\u00b7", "\u2062", "\u2032", "\u22a4"
# Markup that already carries a script or a fraction bar: squared or transposed, it gets
# parentheses, (a^(1))², as the LaTeX printer writes it, so the two superscripts cannot read as one.
SCRIPTED = ("<msup>", "<msubsup>", "<mfrac>")
_TAG = re.compile(r"<[^>]*>")


# Names, operators and layer numbers are a small set met tens of thousands of times at the
# trace cap: each is escaped once.
@lru_cache(maxsize=1024)
def _mi(text: str) -> str:
    return f"<mi>{html.escape(text, quote=False)}</mi>"


@lru_cache(maxsize=1024)
def _mo(text: str) -> str:
    return f"<mo>{html.escape(text, quote=False)}</mo>"


def _mn(text: object) -> str:
    return f"<mn>{text}</mn>" if isinstance(text, int) else \
        f"<mn>{html.escape(str(text), quote=False)}</mn>"


def _mrow(*parts: str) -> str:
    return f"<mrow>{''.join(parts)}</mrow>"


def _paren(markup: str) -> str:
    return _mrow(_mo("("), markup, _mo(")"))


# ---- numbers -------------------------------------------------------------------------------------

def number_ml(value: float, precision: int, decimals: int | None = None) -> str:
    """``value`` as render.math.number prints it (``precision`` significant digits, or
    ``decimals`` fixed places); 1.5e−7 as 1.5 × 10^−7, a negative number with a true minus sign."""
    text = number(value, precision, "text", decimals)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return _mrow(number_ml(float(mantissa.replace(MINUS, "-")), precision), _mo("\u00d7"),
                     f"<msup>{_mn(10)}{_mn(exponent)}</msup>")
    # digits, a point and a minus: nothing to escape (this runs once per matrix entry)
    return f"<mrow><mo>{MINUS}</mo><mn>{text[1:]}</mn></mrow>" if text.startswith(MINUS) \
        else f"<mn>{text}</mn>"


def value_ml(value: Value, ms: MathStyle) -> str:
    """A matrix as a bracketed table (as ``ms.layout`` shows it); a 1 x 1 matrix (or a scalar)
    as its number, at ``ms``'s precision or decimals."""
    precision, decimals = ms.precision, ms.decimals
    value = shown(value, ms.layout)
    if isinstance(value, float):
        return number_ml(value, precision, decimals)
    if len(value) == 1 and len(value[0]) == 1:
        return number_ml(value[0][0], precision, decimals)
    rows = "".join("<mtr>" + "".join(f"<mtd>{number_ml(v, precision, decimals)}</mtd>" for v in row)
                   + "</mtr>" for row in value)
    return _mrow('<mo stretchy="true">[</mo>', f"<mtable>{rows}</mtable>",
                 '<mo stretchy="true">]</mo>')


def _negative(value: Value) -> bool:
    scalar = value if isinstance(value, float) else (
        value[0][0] if len(value) == 1 and len(value[0]) == 1 else 0.0)
    return scalar < 0


# ---- symbols -------------------------------------------------------------------------------------

def _layered(name: str, layer: int | None, index: tuple[int, ...] | None) -> str:
    """``name`` with the layer as superscript (l) and the 1-based index as subscript, two
    indices always separated (W^(1)_{2,1})."""
    sup = "" if layer is None else _mrow(_mo("("), _mn(layer), _mo(")"))
    sub = _mn(",".join(map(str, index))) if index else ""
    if sup and sub:
        return f"<msubsup>{_mi(name)}{sub}{sup}</msubsup>"
    if sup:
        return f"<msup>{_mi(name)}{sup}</msup>"
    return f"<msub>{_mi(name)}{sub}</msub>" if sub else _mi(name)


def symbol_ml(node: Sym, ms: MathStyle) -> str:
    """z^(1), W^(1)_12, ∂C/∂W^(1) as a fraction, v_{W^(1)} for optimiser state."""
    return _symbol(node.kind, node.layer, node.index, ms.naming, ms.layout)


@lru_cache(maxsize=65536)  # a name does not depend on the value: W^(1)_{3,7} is met many times
def _symbol(kind: str, layer: int | None, index: tuple[int, ...] | None, naming: Naming,
            layout: Layout) -> str:
    index = None if index is None else shown_index(index, layout)
    if naming == "net-out" and kind in notation.NET_OUT:
        return _layered(notation.NET_OUT[kind], layer, index)
    name = notation.SYMBOLS[kind].text.replace("{l}", "").replace("'", PRIME)
    if name.startswith("∂C/∂"):
        target = _layered(name[4:], layer, index)
        return f"<mfrac>{_mrow(_mo('∂'), _mi('C'))}{_mrow(_mo('∂'), target)}</mfrac>"
    if "_" in name:  # optimiser state of a parameter: v_W -> v with subscript W^(l)
        state, parameter = name.split("_", 1)
        inner = _layered(parameter, layer, None)
        sub = f"<msub>{_mi(state)}{inner}</msub>"
        return _mrow(sub, _mo("["), _mn(",".join(map(str, index))), _mo("]")) if index else sub
    return _layered(name, layer, index)


# ---- expressions ---------------------------------------------------------------------------------

def expression_ml(expr: Expr, ms: MathStyle) -> str:
    """The tree's MathML content (no ``<math>``): by name, or by value when ``ms.numbers``."""
    return _render(expr, ms)[0]


def _render(expr: Expr, ms: MathStyle) -> tuple[str, int]:
    """(markup, precedence) of an expression; precedence as render.math's."""
    if isinstance(expr, Sym):
        if not ms.numbers:
            return symbol_ml(expr, ms), ATOM
        return value_ml(expr.value, ms), (PRECEDENCE["neg"] if _negative(expr.value) else ATOM)
    if isinstance(expr, Num):
        return _constant(expr, ms), ATOM
    return _operator(expr, ms)


def _constant(num: Num, ms: MathStyle) -> str:
    if num.text is None:  # a constant (the 1 of 1 − a): as written, never 1.0000
        return number_ml(num.value, ms.precision)
    if num.text == "½":
        return f"<mfrac>{_mn(1)}{_mn(2)}</mfrac>"
    if "/" in num.text:
        top, bottom = num.text.split("/")
        return f"<mfrac>{_mn(top)}{_mn(bottom)}</mfrac>"
    return _mi(num.text)


def _wrap(part: tuple[str, int], strength: int, strict: bool = False) -> str:
    markup, precedence = part
    weaker = precedence < strength or (strict and precedence == strength)
    return _paren(markup) if weaker else markup


def _script_base(part: tuple[str, int]) -> str:
    """The base of a square or transpose: parenthesised when weaker or already scripted."""
    markup = _wrap(part, ATOM)
    return _paren(markup) if markup.startswith(SCRIPTED) else markup


def _function_name(fn: str) -> str:
    if fn == "Σ_s":
        return f"<msub>{_mo('∑')}{_mi('s')}</msub>"
    if fn == "Σ":
        return _mo("∑")
    return _mi(fn.replace("'", PRIME))


def _operator(op: Op, ms: MathStyle) -> tuple[str, int]:
    strength = PRECEDENCE[op.op]
    # the row view reverses matrix products: (W a)ᵀ = aᵀ Wᵀ, as render.math prints them
    operands = op.args[::-1] if op.op == "matmul" and ms.layout == "in_out" else op.args
    args = [_render(arg, ms) for arg in operands]
    if op.op == "add":
        parts = [_wrap(args[0], strength)] + [_wrap(arg, PRECEDENCE["neg"], strict=True)
                                              for arg in args[1:]]
        return _mrow(_mo("+").join(parts)), strength
    if op.op == "sub":
        return _mrow(_wrap(args[0], strength), _mo(MINUS), _wrap(args[1], strength, strict=True)), \
            strength
    if op.op in ("mul", "hadamard", "matmul"):
        joiner = {"mul": TIMES, "hadamard": "⊙",
                  "matmul": TIMES if ms.numbers else INVISIBLE_TIMES}[op.op]
        if op.op == "mul" and not ms.numbers and all(isinstance(a, Sym) for a in op.args):
            joiner = INVISIBLE_TIMES  # symbols side by side: W_11 a_1
        return _mrow(_mo(joiner).join(_wrap(arg, strength) for arg in args)), strength
    if op.op == "div":
        return f"<mfrac>{args[0][0]}{args[1][0]}</mfrac>", ATOM
    if op.op == "neg":
        return _mrow(_mo(MINUS), _wrap(args[0], strength + 1)), strength
    if op.op == "square":
        return f"<msup>{_script_base(args[0])}{_mn(2)}</msup>", strength
    if op.op == "transpose":
        return _transpose(op.args[0], args[0], ms), strength
    assert op.op == "call" and op.fn is not None
    if op.fn == "pow":  # Adam's bias correction: β1^t
        return f"<msup>{_wrap(args[0], ATOM)}{_wrap(args[1], ATOM)}</msup>", PRECEDENCE["square"]
    if op.fn == "√":
        return f"<msqrt>{args[0][0]}</msqrt>", ATOM
    if op.fn == "abs":  # |y − a|
        return _mrow(_mo("|"), args[0][0], _mo("|")), ATOM
    inner = _mo(",").join(markup for markup, _ in args)
    return _mrow(_function_name(op.fn), _paren(inner)), PRECEDENCE["call"]


def _transpose(arg: Expr, part: tuple[str, int], ms: MathStyle) -> str:
    """a^(1)⊤ in one superscript for a layered symbol (as the LaTeX a^{(1)\\top}); else (x)^⊤."""
    markup = part[0]
    layered = isinstance(arg, Sym) and not ms.numbers and markup.startswith("<msup><mi>") \
        and markup.endswith("</mo></mrow></msup>")
    if layered:  # <msup><mi>a</mi><mrow>(1)</mrow></msup>: the ⊤ joins the layer's superscript
        return markup[: -len("</mrow></msup>")] + _mi(TOP) + "</mrow></msup>"
    return f"<msup>{_script_base(part)}{_mi(TOP)}</msup>"


# ---- whole equations -----------------------------------------------------------------------------

def _width(markup: str) -> int:
    """About how many characters wide the markup prints: its text without the tags."""
    return len(_TAG.sub("", markup))


def _pieces(expr: Expr, ms: MathStyle, width: int) -> list[str]:
    """The part as one piece, or a long sum broken before a top-level ``+`` into pieces of about
    ``width`` characters (each later piece starts with its ``+``), as render.math.break_latex."""
    if not (isinstance(expr, Op) and expr.op == "add" and len(expr.args) > 1):
        return [expression_ml(expr, ms)]
    # the terms as _operator writes a sum, each rendered and measured once
    terms = [_wrap(_render(term, ms), PRECEDENCE["add"]) if k == 0
             else _wrap(_render(term, ms), PRECEDENCE["neg"], strict=True)
             for k, term in enumerate(expr.args)]
    widths = [_width(term) for term in terms]
    if sum(widths) + len(terms) - 1 <= width:  # each + is one character
        return [_mrow(_mo("+").join(terms))]
    pieces: list[str] = []
    current: list[str] = []
    current_width = 0
    for markup, term_width in zip(terms, widths, strict=True):
        if current and current_width >= width:
            pieces.append(_mrow(*current))
            current, current_width = [_mo("+")], 0
        elif current:
            current.append(_mo("+"))
        current.append(markup)
        current_width += term_width + 3
    pieces.append(_mrow(*current))
    return pieces


def _chain(equation: Equation, ms: MathStyle) -> list[tuple[Expr | Value, bool]]:
    """lhs, formula, numbers, result as (what, printed with numbers), dropping repeats."""
    parts: list[tuple[Expr | Value, bool]] = [(equation.lhs, False)]
    if equation.rhs is not None:
        parts += [(equation.rhs, False), (equation.rhs, True)]
    parts.append((equation.value, True))
    return parts


def _markup(part: tuple[Expr | Value, bool], styles: tuple[MathStyle, MathStyle],
            width: int) -> list[str]:
    """The part's pieces, in ``styles[numbers]`` (by name, or by value)."""
    what, numbers = part
    style = styles[numbers]
    if isinstance(what, Sym | Num | Op):
        return _pieces(what, style, width)
    return [value_ml(what, style)]


def aligned_ml(equations: Sequence[Equation], ms: MathStyle, width: int = 80,
               compact: bool = False) -> str:
    """Equations as one display ``<math>``: a table of ``lhs = formula = numbers = result`` rows.

    As render.math.aligned lays out the LaTeX: ``compact`` keeps an equation on one row when it
    fits in ``width`` characters; otherwise each part starts a row and a long sum is broken.
    """
    rows: list[str] = []
    styles = (replace(ms, numbers=False), replace(ms, numbers=True))
    for equation in equations:
        kept: list[list[str]] = []
        for part in _chain(equation, ms):
            pieces = _markup(part, styles, width)
            if kept and pieces == kept[-1]:
                continue  # "∂C/∂b2 = δ2 = 0.0367703" needs no third copy
            kept.append(pieces)
        lhs = kept[0][0]
        if compact and all(len(p) == 1 for p in kept) and _fits(kept, width):
            right = _mo("=").join(p[0] for p in kept[1:])
            rows.append(_row(lhs, _mo("=") + right))
            continue
        for pieces in kept[1:]:
            for k, piece in enumerate(pieces):
                rows.append(_row(lhs, (_mo("=") if k == 0 else '<mspace width="2em"/>') + piece))
                lhs = ""
    return f'<math display="block"><mtable>{"".join(rows)}</mtable></math>'


def _fits(kept: list[list[str]], width: int) -> bool:
    """Whether the parts, joined by " = ", print within ``width`` characters."""
    room = width - 3 * (len(kept) - 1)
    for pieces in kept:  # the markup is longer than its text: most wide parts end the sum early
        room -= sum(_width(piece) for piece in pieces)
        if room < 0:
            return False
    return True


def _row(left: str, right: str) -> str:
    return (f'<mtr><mtd columnalign="right">{left}</mtd>'
            f'<mtd columnalign="left">{right}</mtd></mtr>')
