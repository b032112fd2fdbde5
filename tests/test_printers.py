"""The two MathML printers agree: Python's (render/mathml.py, the HTML handout's) and the page's
JavaScript (web/static/mathml.js, run with node) print the same trees to the same maths.

The trees are a real trace's explanation (its JSON, as the page receives it). The two MathML
strings differ in markup that does not change what is shown (mrow grouping, mi vs mo vs mn, the
invisible times, the minus sign's code point), so both are normalised to their visible structure:
leaf text in order, with fractions, scripts, roots and tables kept as nested groups.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gradtrace import notation
from gradtrace.render.math import MathStyle, render
from gradtrace.render.mathml import expression_ml
from gradtrace.spec import load_spec, parse_spec
from gradtrace.trace import expr
from gradtrace.workflow import trace_spec

MATHML_JS = Path(__file__).resolve().parents[1] / "src" / "gradtrace" / "web" / "static" / "mathml.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node to run the page's printer")

DRIVER = """
import { setNotation, formulaML, numbersML } from "./mathml.mjs";
const input = JSON.parse(await new Promise((done) => {
  let text = ""; process.stdin.on("data", (d) => (text += d)); process.stdin.on("end", () => done(text));
}));
setNotation(input.notation);
console.log(JSON.stringify(input.trees.map((t) => [formulaML(t), numbersML(t)])));
"""
SCRIPTS = {"mfrac", "msup", "msub", "msubsup"}  # fixed arity: each child its own group
GROUPS = {"msqrt", "mtable", "mtr", "mtd"}  # any number of children: one group
INVISIBLE = str.maketrans({"\u2062": None, "\u2061": None, "\u2212": "-", " ": None, "'": "\u2032"})
PRIME = "\u2032"


def visible(markup: str) -> str:
    """``<mfrac><mi>a</mi><mrow><mn>2</mn></mrow></mfrac>`` -> ``mfrac(a)(2)``.

    Two spellings of one picture are made equal: a prime written in the superscript (W^{′(1)})
    or on the base (W′^{(1)}), and a transpose as one superscript (a^{(1)⊤}) or two nested ones.
    """
    def walk(element: ET.Element) -> str:
        tag = element.tag.rsplit("}", 1)[-1]
        children = list(element)
        if tag == "msup" and len(children) == 2 and children[0].tag.endswith("msup"):
            inner = list(children[0])  # (x^A)^B -> x^{AB}
            return f"msup({walk(inner[0])})({walk(inner[1])}{walk(children[1])})"
        if not children:
            return (element.text or "").translate(INVISIBLE)
        parts = [walk(child) for child in children]
        if tag in SCRIPTS:
            if tag in ("msup", "msubsup") and parts[-1].startswith(PRIME):
                parts[0], parts[-1] = parts[0] + PRIME, parts[-1][len(PRIME):]
                if tag == "msup" and not parts[-1]:
                    return parts[0]  # relu^{′} is relu′
            return tag + "".join(f"({part})" for part in parts)
        joined = "".join(parts)
        return f"{tag}({joined})" if tag in GROUPS else joined

    return walk(ET.fromstring(markup))


def python_mathml(tree: expr.Expr, numbers: bool) -> str:
    return f"<math>{expression_ml(tree, MathStyle('latex', numbers, 6, 'textbook'))}</math>"


def javascript_mathml(trees: list[dict[str, object]], workdir: Path) -> list[list[str]]:
    (workdir / "mathml.mjs").write_text(MATHML_JS.read_text(encoding="utf-8"), encoding="utf-8")
    (workdir / "driver.mjs").write_text(DRIVER, encoding="utf-8")
    table = {kind: {"text": n.text, "latex": n.latex, "words": n.words}
             for kind, n in notation.SYMBOLS.items()}
    assert NODE is not None
    result = subprocess.run([NODE, "driver.mjs"], cwd=workdir, capture_output=True, text=True,
                            input=json.dumps({"notation": table, "trees": trees}), timeout=60,
                            check=True)
    printed: list[list[str]] = json.loads(result.stdout)
    return printed


# Every registry activation that is not in a built-in example, mae's |y − a| and sign, and Adam's
# state (m̂, v̂, β^t, √): a spec of its own, so the printers meet every function the registry has.
REGISTRY_SPEC = {
    "name": "registry", "sizes": [2, 2, 2, 2, 2, 2, 2, 2], "loss": "mae", "seed": 3,
    "activations": ["elu", "gelu", "gelu_tanh", "silu", "softplus", "hardtanh", "leaky_relu"],
    "optimizer": {"name": "adam"}, "data": {"input": [[0.5, -0.25]], "target": [[1.0, 0.0]]},
}


def trees_of(example: str) -> list[expr.Expr]:
    """Every left and right side of every equation of a real trace's first step."""
    trace = trace_spec(parse_spec(REGISTRY_SPEC) if example == "registry" else load_spec(example))
    trees = []
    for quantity in trace.steps[0].quantities():
        for equation in (quantity.matrix, *quantity.neuron):
            trees += [equation.lhs] + ([equation.rhs] if equation.rhs is not None else [])
    return trees


def disagreements(example: str, numbers: bool, workdir: Path) -> list[str]:
    trees = trees_of(example)
    printed = javascript_mathml([expr.to_json(tree) for tree in trees], workdir)
    assert len(printed) == len(trees)
    found = []
    for tree, pair in zip(trees, printed, strict=True):
        python, javascript = visible(python_mathml(tree, numbers)), visible(f"<math>{pair[numbers]}</math>")
        if python != javascript:
            found.append(f"{render(tree, MathStyle('text', numbers))}:\n  python     {python}\n"
                         f"  javascript {javascript}")
    return found


@pytest.mark.parametrize("example", ["seed", "softmax", "mattmazur"])
def test_python_and_javascript_print_the_same_formulas(example: str, tmp_path: Path) -> None:
    found = disagreements(example, False, tmp_path)
    assert not found, "\n".join(found[:5])


def test_python_and_javascript_print_the_same_squares(tmp_path: Path) -> None:
    # xor's tanh derivative squares a layered symbol: (a^(1))², never a^(1)2
    found = disagreements("xor", False, tmp_path)
    assert not found, "\n".join(found[:5])


@pytest.mark.parametrize("example", ["seed", "xor", "softmax"])
def test_python_and_javascript_print_the_same_numbers(example: str, tmp_path: Path) -> None:
    # matrix products of numbers written with '·' on both sides; [..]ᵀ one superscript
    found = disagreements(example, True, tmp_path)
    assert not found, "\n".join(found[:5])


@pytest.mark.parametrize("numbers", [False, True])
def test_every_registry_function_prints_alike(numbers: bool, tmp_path: Path) -> None:
    trees = trees_of("registry")
    functions = {node.fn for tree in trees for node in _nodes(tree) if isinstance(node, expr.Op)}
    assert {"elu", "gelu", "Φ", "φ", "gelu_tanh", "silu", "softplus", "hardtanh", "abs",
            "sign", "pow", "√"} <= functions, functions
    found = disagreements("registry", numbers, tmp_path)
    assert not found, "\n".join(found[:5])


def _nodes(tree: expr.Expr) -> list[expr.Expr]:
    return [tree] + ([n for arg in tree.args for n in _nodes(arg)] if isinstance(tree, expr.Op) else [])


def test_absolute_value_prints_between_bars(tmp_path: Path) -> None:
    y, a = expr.sym("y", None, 1.0), expr.sym("a", 2, 0.25)
    tree = expr.call("abs", expr.sub(y, a))
    assert render(tree, MathStyle("text")) == "|y − a2|"
    assert visible(python_mathml(tree, False)) == "|y-msup(a)((2))|"
    printed = javascript_mathml([expr.to_json(tree)], tmp_path)
    assert visible(f"<math>{printed[0][0]}</math>") == "|y-msup(a)((2))|"


def test_a_square_of_a_layered_symbol_keeps_its_parentheses() -> None:
    tree = expr.square(expr.sym("a", 1, 0.5))
    assert visible(python_mathml(tree, False)) == "msup((msup(a)((1))))(2)"


def test_the_normal_form_still_sees_what_matters() -> None:
    # Parentheses, fractions and numbers survive normalisation: a wrong printer cannot hide.
    assert visible("<math><mrow><mo>(</mo><mi>a</mi><mo>)</mo></mrow></math>") == "(a)"
    assert visible("<math><mfrac><mn>1</mn><mn>2</mn></mfrac></math>") != visible(
        "<math><mn>1</mn><mo>/</mo><mn>2</mn></math>")
    assert visible("<math><mn>0.25</mn></math>") != visible("<math><mn>0.250001</mn></math>")


NUMBERS_DRIVER = """
import { formatNumber } from "./mathml.mjs";
const values = JSON.parse(process.argv[2]);
console.log(JSON.stringify(values.map((v) => formatNumber(v))));
"""


def test_the_page_formats_numbers_as_python_does(tmp_path: Path) -> None:
    # Python's "g": 4.04987e-05 is scientific there, and must be on the page too
    from gradtrace.render.math import number

    values = [4.049871e-5, -2.5e-5, 1e-4, 0.000123456, 123456.4, 1234567.0, -0.0, 0.5, 1e21, -3.25e-9]
    (tmp_path / "mathml.mjs").write_text(MATHML_JS.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "numbers.mjs").write_text(NUMBERS_DRIVER, encoding="utf-8")
    assert NODE is not None
    result = subprocess.run([NODE, "numbers.mjs", json.dumps(values)], cwd=tmp_path, check=True,
                            capture_output=True, text=True, timeout=60)
    assert json.loads(result.stdout) == [number(v, 6) for v in values]
