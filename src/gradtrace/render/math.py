"""Print an expression tree as plain text or LaTeX, by name (formula) or by value (numbers).

Notation as the symbol table (gradtrace.notation) gives it; indices 1-based. The trace is stored in
the column view (z = W a + b, W (n_out, n_in)); ``MathStyle.layout = "in_out"`` shows it in the row
view of X·W courses instead, here and nowhere else: every matrix transposed, every matrix product
reversed, (W a)ᵀ = aᵀ Wᵀ, so z1 = W1 a0 + b1 prints as z1 = a0 W1 + b1 with W1 (n_in, n_out).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from gradtrace import notation
from gradtrace.core import activations, losses
from gradtrace.notation import Naming
from gradtrace.trace.expr import Expr, Num, Op, Sym, Value
from gradtrace.trace.model import Equation

Style = Literal["text", "latex"]
Layout = Literal["out_in", "in_out"]  # column view (the trace's own) or the row view of X·W

# Binding strength: higher binds tighter; an argument weaker than its operator gets parentheses.
# ⊙ binds tighter than a matrix product on paper, so (W2ᵀ δ2) ⊙ σ'(z1) keeps its parentheses.
PRECEDENCE = {"add": 1, "sub": 1, "neg": 2, "mul": 3, "hadamard": 4, "matmul": 3, "div": 3,
              "square": 5, "transpose": 5, "call": 6}
ATOM = 7

TEXT_FUNCTIONS = {"Σ_s": "Σₛ", "softmax_backward": "softmax_backward"}
# Functions that are no activation's or loss's (each of those brings its own LaTeX from its entry).
LATEX_FUNCTIONS = {
    "Σ": "\\sum", "Σ_s": "\\sum_{s}", "log": "\\log", "exp": "\\exp",
    "softmax_backward": "\\operatorname{softmax\\_backward}",
    **activations.latex_names(), **losses.latex_names(),
}


@dataclass(frozen=True)
class MathStyle:
    """How to print: text or LaTeX, symbols or numbers, significant digits (or, when
    ``decimals`` is set, that many fixed decimal places), naming scheme, and the layout (column
    view z = W a + b, or the row view z = a W + b)."""

    style: Style = "text"
    numbers: bool = False
    precision: int = 6
    naming: Naming = "textbook"
    decimals: int | None = None
    layout: Layout = "out_in"


def shown(value: Value, layout: Layout) -> Value:
    """A stored value as the layout shows it: a matrix transposed in the row view."""
    if layout == "out_in" or isinstance(value, float):
        return value
    return tuple(zip(*value, strict=True))


def shown_index(index: tuple[int, ...], layout: Layout) -> tuple[int, ...]:
    """(row, column) of a stored entry as the layout shows it: swapped in the row view."""
    return index[::-1] if layout == "in_out" and len(index) == 2 else index


FIXED_UP_TO = 1e15


def number(value: float, precision: int, style: Style = "text", decimals: int | None = None) -> str:
    """A float to ``precision`` significant digits, or to ``decimals`` fixed places with trailing
    zeros kept (0.1900, as hand work writes it); a true minus sign in text, never −0.
    From FIXED_UP_TO on, fixed decimals would be a screenful of digits: significant digits then."""
    if decimals is not None and abs(value) < FIXED_UP_TO:
        text = f"{value:.{decimals}f}"
        if text.startswith("-") and not text.strip("-0."):  # −0.0000: the value rounds to zero
            text = text[1:]
        return text.replace("-", "−") if style == "text" else text
    text = f"{value:.{precision}g}"
    if text in ("-0", "-0.0"):
        text = "0"
    if "e" in text:
        mantissa, exponent = text.split("e")
        power = int(exponent)
        text = (f"{mantissa} \\times 10^{{{power}}}" if style == "latex"
                else f"{mantissa}e{power}")
    return text.replace("-", "−") if style == "text" else text


def matrix(value: Value, ms: MathStyle) -> str:
    """A matrix: [1 2; 3 4] in text, a bmatrix in LaTeX; a 1x1 matrix as its number."""
    value = shown(value, ms.layout)
    if isinstance(value, float):
        return number(value, ms.precision, ms.style, ms.decimals)
    if len(value) == 1 and len(value[0]) == 1:
        return number(value[0][0], ms.precision, ms.style, ms.decimals)
    if ms.style == "latex":
        rows = " \\\\ ".join(" & ".join(number(v, ms.precision, "latex", ms.decimals) for v in row)
                             for row in value)
        return f"\\begin{{bmatrix}} {rows} \\end{{bmatrix}}"
    return "[" + "; ".join(" ".join(number(v, ms.precision, decimals=ms.decimals) for v in row)
                           for row in value) + "]"


def symbol(node: Sym, ms: MathStyle) -> str:
    """The name of a quantity or of one of its entries: z1[2], W1[1,2], ∂C/∂W1[1,2] (text).

    Two indices are always separated (W1[2,1], W^{(1)}_{2,1}): 21 could be one index or two.
    """
    kind = node.kind
    net_out = ms.naming == "net-out"
    if net_out and kind in notation.NET_OUT:
        base_text = f"{notation.NET_OUT[kind]}{'' if node.layer is None else node.layer}"
        base_latex = f"\\mathrm{{{notation.NET_OUT[kind]}}}^{{({node.layer})}}"
    elif net_out and kind in ("grad_a", "err_a"):  # ∂C/∂out2: named as the quantity is shown
        sign = "−" if kind == "err_a" else ""
        base_text = f"{sign}∂C/∂out{'' if node.layer is None else node.layer}"
        base_latex = ("-" if kind == "err_a" else "") + (
            f"\\frac{{\\partial C}}{{\\partial \\mathrm{{out}}^{{({node.layer})}}}}")
    else:
        base_text = notation.text(kind, node.layer)
        base_latex = notation.latex(kind, node.layer)
    index = None if node.index is None else shown_index(node.index, ms.layout)
    if ms.style == "text":
        return base_text + (f"[{','.join(map(str, index))}]" if index else "")
    if not index:
        return base_latex
    subscript = ",".join(map(str, index))
    if kind in ("grad_W", "grad_b"):
        target = notation.latex(kind.removeprefix("grad_"), node.layer)
        return f"\\frac{{\\partial C}}{{\\partial {target}_{{{subscript}}}}}"
    if kind in ("grad_a", "err_a"):
        target = f"\\mathrm{{out}}^{{({node.layer})}}" if net_out else f"a^{{({node.layer})}}"
        sign = "-" if kind == "err_a" else ""
        return f"{sign}\\frac{{\\partial C}}{{\\partial {target}_{{{subscript}}}}}"
    return f"{base_latex}_{{{subscript}}}"


def render(expr: Expr, ms: MathStyle) -> str:
    """The expression in the chosen style."""
    return _render(expr, ms)[0]


def _render(expr: Expr, ms: MathStyle) -> tuple[str, int]:
    """(string, precedence) of an expression."""
    if isinstance(expr, Sym):
        if not ms.numbers:
            return symbol(expr, ms), ATOM
        text = matrix(expr.value, ms)
        negative = text.startswith(("−", "-"))
        return text, (PRECEDENCE["neg"] if negative else ATOM)
    if isinstance(expr, Num):
        return _constant(expr, ms), ATOM
    return _operator(expr, ms)


def _constant(num: Num, ms: MathStyle) -> str:
    if num.text is None:  # a constant (the 1 of 1 − a): as written, never 1.0000
        return number(num.value, ms.precision, ms.style)
    if ms.style == "latex":
        if num.text == "½":
            return "\\tfrac{1}{2}"
        if "/" in num.text:
            top, bottom = num.text.split("/")
            return f"\\tfrac{{{top}}}{{{bottom}}}"
    return num.text


def _wrap(part: tuple[str, int], strength: int, ms: MathStyle, strict: bool = False) -> str:
    text, precedence = part
    weaker = precedence < strength or (strict and precedence == strength)
    if not weaker:
        return text
    return f"\\left({text}\\right)" if ms.style == "latex" else f"({text})"


def _superscript(base: str, power: str) -> str:
    """``base^{power}`` without a double superscript: a^{(1)\\top}; (a^{(1)})^{2}."""
    layered = re.fullmatch(r"([^^]*)\^\{\((\d+)\)\}", base)
    if layered and power == "\\top":  # a layer superscript: write both in one
        return f"{layered.group(1)}^{{({layered.group(2)})\\top}}"
    if "^" in base and not base.endswith(("\\end{bmatrix}", "\\right)")):
        base = f"\\left({base}\\right)"
    return f"{base}^{{{power}}}"


def _operator(op: Op, ms: MathStyle) -> tuple[str, int]:
    strength = PRECEDENCE[op.op]
    operands = op.args[::-1] if op.op == "matmul" and ms.layout == "in_out" else op.args  # (AB)ᵀ = BᵀAᵀ
    args = [_render(arg, ms) for arg in operands]
    latex = ms.style == "latex"
    if op.op == "add":
        parts = [args[0][0] if args[0][1] >= strength else _wrap(args[0], strength, ms)]
        # later terms: a negative number or negation gets parentheses, "a + (−b)"
        parts += [_wrap(arg, PRECEDENCE["neg"], ms, strict=True) for arg in args[1:]]
        return " + ".join(parts), strength
    if op.op == "sub":
        minus = " - " if latex else " − "
        return _wrap(args[0], strength, ms) + minus + _wrap(args[1], strength, ms, strict=True), strength
    if op.op in ("mul", "hadamard", "matmul"):
        joiner = {
            "mul": " \\cdot " if latex else "·",
            "hadamard": " \\odot " if latex else " ⊙ ",
            "matmul": " " if latex or not ms.numbers else " · ",
        }[op.op]
        if op.op == "mul" and not ms.numbers and all(isinstance(a, Sym) for a in op.args):
            joiner = " "  # juxtapose symbols: W1[1,1] a0[1]
        return joiner.join(_wrap(arg, strength, ms) for arg in args), strength
    if op.op == "div":
        if latex:
            return f"\\frac{{{args[0][0]}}}{{{args[1][0]}}}", ATOM
        return _wrap(args[0], strength, ms) + " / " + _wrap(args[1], strength, ms, strict=True), strength
    if op.op == "neg":
        return ("-" if latex else "−") + _wrap(args[0], strength + 1, ms), strength
    if op.op == "square":
        base_text, base_precedence = args[0]
        if not latex and "/" in base_text and base_precedence == ATOM:  # (∂C/∂W1)², not ∂C/∂W1²
            base_precedence = strength - 1
        base = _wrap((base_text, base_precedence), ATOM, ms)
        return (_superscript(base, "2") if latex else base + "²"), strength
    if op.op == "transpose":
        base = _wrap(args[0], ATOM, ms)
        return (_superscript(base, "\\top") if latex else base + "ᵀ"), strength
    assert op.op == "call" and op.fn is not None
    if op.fn == "pow":  # β1^t
        base, exponent = (_wrap(arg, ATOM, ms) for arg in args)
        return (f"{base}^{{{exponent}}}" if latex else f"{base}^{exponent}"), PRECEDENCE["square"]
    if op.fn == "√" and latex:
        return f"\\sqrt{{{args[0][0]}}}", ATOM
    if op.fn == "abs":  # |y − a|
        return (f"\\left|{args[0][0]}\\right|" if latex else f"|{args[0][0]}|"), ATOM
    inner = ", ".join(text for text, _ in args)
    if latex:
        name = LATEX_FUNCTIONS.get(op.fn, f"\\operatorname{{{op.fn}}}")
        return f"{name}\\left({inner}\\right)", PRECEDENCE["call"]
    return f"{TEXT_FUNCTIONS.get(op.fn, op.fn)}({inner})", PRECEDENCE["call"]


# ---- whole equations (shared by the Markdown, LaTeX, HTML and notebook renderers) -------------

def chain(equation: Equation, ms: MathStyle) -> list[str]:
    """``[lhs, formula, numbers, result]`` of an equation, dropping a part equal to the one before.

    ``z1 = W1 a0 + b1 = [0.2 0.2; 0.3 0.3] · [0.35; 0.7] + [0; 0] = [0.21; 0.315]``; a given
    quantity (rhs None) is ``[lhs, value]``. ``ms.numbers`` is ignored: each part picks its own.
    """
    symbols, numbers = replace(ms, numbers=False), replace(ms, numbers=True)
    parts = [render(equation.lhs, symbols)]
    if equation.rhs is not None:
        parts += [render(equation.rhs, symbols), render(equation.rhs, numbers)]
    parts.append(matrix(equation.value, numbers))
    kept = [parts[0]]
    for part in parts[1:]:
        if part != kept[-1]:
            kept.append(part)
    return kept


def visible_length(latex: str) -> int:
    """Roughly how many characters wide a LaTeX expression prints (commands count as one)."""
    return len(re.sub(r"[{}^_ ]", "", re.sub(r"\\[a-zA-Z]+", "x", latex)))


def break_latex(text: str, width: int) -> list[str]:
    """Split a long LaTeX expression at top-level ``+``/``-`` into lines of about ``width`` chars.

    Only splits outside braces, ``\\left...\\right`` and environments, so each line stays valid.
    The second and later lines start with their operator (``+ W_{12} a_{2}``).
    """
    if visible_length(text) <= width:
        return [text]
    lines: list[str] = []
    depth, start = 0, 0
    # Only the tokens that open or close a group, and the sums, matter: scan them, not every
    # character (a 40 x 40 matrix is tens of thousands of characters).
    for token in _BREAK_TOKENS.finditer(text):
        kind, i = token.group(), token.start()
        if kind in ("\\left", "\\begin", "{"):
            depth += 1
        elif kind in ("\\right", "\\end", "}"):
            depth -= 1
        elif depth == 0 and visible_length(text[start:i]) >= width:
            lines.append(text[start:i])
            start = i + 1
    lines.append(text[start:])
    return lines


_BREAK_TOKENS = re.compile(r"\\left|\\begin|\\right|\\end|[{}]|(?= [+-] )")


def aligned(equations: Sequence[Equation], ms: MathStyle, width: int = 80,
            compact: bool = False) -> str:
    """Equations as one LaTeX ``aligned`` block (LaTeX style whatever ``ms.style`` says).

    Each equation is ``lhs = formula = numbers = result``; ``compact`` keeps an equation on one
    row when it fits in ``width`` characters, otherwise every part starts a row of its own and a
    part longer than ``width`` is broken at its top-level sums (``break_latex``).
    """
    latex = replace(ms, style="latex", numbers=False)
    rows: list[str] = []
    for equation in equations:
        parts = chain(equation, latex)
        if compact and visible_length(" = ".join(parts)) <= width:
            rows.append(f"{parts[0]} &= {' = '.join(parts[1:])}")
            continue
        lhs = parts[0]
        for part in parts[1:]:
            for k, piece in enumerate(break_latex(part, width)):
                joiner = "= " if k == 0 else "\\quad "
                rows.append(f"{lhs} &{joiner}{piece}")
                lhs = ""
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
