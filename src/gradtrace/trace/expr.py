"""The expression tree, re-exported from ``gradtrace.core.expr`` where it lives.

It moved to core so each activation and loss entry can build its own formula (core imports no
trace module); the trace, the renderers and older imports keep using this name.
"""

from gradtrace.core.expr import (
    ONE,
    OPERATORS,
    Expr,
    Num,
    Op,
    Sym,
    Value,
    add,
    call,
    div,
    fraction,
    freeze,
    from_json,
    hadamard,
    matmul,
    mul,
    neg,
    square,
    sub,
    sym,
    to_json,
    transpose,
)

__all__ = [
    "ONE", "OPERATORS", "Expr", "Num", "Op", "Sym", "Value", "add", "call", "div", "fraction", "freeze",
    "from_json", "hadamard", "matmul", "mul", "neg", "square", "sub", "sym", "to_json", "transpose",
]
