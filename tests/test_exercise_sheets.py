"""``gradtrace exercise``: the drawn network on every sheet, the conventions options, relu.

Oracles: the SVG's own texts (the givens and "?" only), pdflatex, the spec's validation, the
trace's printed conventions and ``gradtrace grade`` on answers filled from the key.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import gradtrace
from gradtrace.cli import main
from gradtrace.exercise import generate, make_variants, with_conventions
from gradtrace.grade import read_answers
from gradtrace.grade.keys import exact_value, order_of
from gradtrace.spec import load_spec, parse_spec
from gradtrace.workflow import trace_spec

SVG = "{http://www.w3.org/2000/svg}"
needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))
    return ["".join(node.itertext()).strip() for node in root.iter(f"{SVG}text")]


def _run(*args: str) -> None:
    assert main(list(args)) == 0


def test_markdown_sheet_links_a_drawing_of_each_variant(tmp_path: Path) -> None:
    _run("exercise", "--seed", "3", "--count", "2", "-o", str(tmp_path / "s.md"))
    text = (tmp_path / "s.md").read_text(encoding="utf-8")
    for variant in make_variants(3, count=2):
        name = f"s-network-{variant.number}.svg"
        assert f"]({name})" in text
        texts = _texts((tmp_path / name).read_text(encoding="utf-8"))
        layers = variant.data["layers"]
        for weight in (*np.ravel(layers[0]["weights"]), *np.ravel(layers[1]["weights"])):
            assert f"{weight:g}".replace("-", "−") in texts  # every weight on its edge
        assert f"y = {variant.data['data']['target'][0]:g}" in texts
        assert texts.count("?") == 3  # the two hidden neurons and the output: to compute
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s-network-1.svg", "s-network-2.svg",
                                                          "s.md"]


def test_html_sheet_inlines_the_drawing(tmp_path: Path) -> None:
    _run("exercise", "--seed", "3", "-f", "html", "-o", str(tmp_path / "s.html"))
    page = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and '<figure class="diagram network">' in page
    assert [p.name for p in tmp_path.iterdir()] == ["s.html"]  # nothing beside it


@pytest.mark.browser
def test_html_sheet_on_a_phone_scrolls_a_legible_drawing(tmp_path: Path) -> None:
    """At 390 px the drawing keeps the handout's legible width and scrolls, not shrinks."""
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    _run("exercise", "--seed", "3", "-f", "html", "-o", str(tmp_path / "s.html"))
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 390, "height": 800})
        page.goto((tmp_path / "s.html").as_uri())
        width = page.evaluate("document.querySelector('figure.diagram svg')"
                              ".getBoundingClientRect().width")
        scrolls = page.evaluate("(() => { const f = document.querySelector('figure.diagram');"
                                " return f.scrollWidth > f.clientWidth; })()")
        page_scrolls = page.evaluate("document.documentElement.scrollWidth > innerWidth")
        browser.close()
    assert width >= 500 and scrolls  # 36rem, scrolled inside its figure
    assert not page_scrolls  # the page itself stays phone-wide


def test_latex_sheet_includes_its_pdf_drawing(tmp_path: Path) -> None:
    _run("exercise", "--seed", "3", "-f", "latex", "-o", str(tmp_path / "s.tex"))
    source = (tmp_path / "s.tex").read_text(encoding="utf-8")
    assert "\\includegraphics[width=0.8\\linewidth]{s-network-1.pdf}" in source
    assert (tmp_path / "s-network-1.pdf").read_bytes().startswith(b"%PDF")
    assert "?" not in source.split("\\begin{document}")[1]  # no character lost to pdflatex


@needs_tex
def test_pdf_sheet_embeds_the_drawing(tmp_path: Path) -> None:
    _run("exercise", "--seed", "3", "-f", "pdf", "-o", str(tmp_path / "s.pdf"))
    data = (tmp_path / "s.pdf").read_bytes()
    assert data.startswith(b"%PDF") and b"/Subtype /Form" in data  # the drawing, as a PDF form
    assert [p.name for p in tmp_path.iterdir()] == ["s.pdf"]


def test_a_drawing_that_cannot_be_written_is_refused_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s-network-2.svg").mkdir()
    assert main(["exercise", "--count", "2", "-o", str(tmp_path / "s.md")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "s-network-2.svg: is a folder" in err
    assert not (tmp_path / "s.md").exists() and not (tmp_path / "s-network-1.svg").exists()


# ---- conventions -----------------------------------------------------------------------------

def test_generate_keeps_its_numbers_under_every_convention() -> None:
    plain = generate(5)
    row = generate(5, conventions={"weights_layout": "in_out", "delta_convention": "error",
                                   "batch_reduction": "sum"})
    assert generate(5, (2, 2, 1), "sigmoid", "half_sse") == plain  # positional calls unchanged
    assert row["weights_layout"] == "in_out" and row["delta_convention"] == "error"
    assert row["batch_reduction"] == "sum"
    for before, after in zip(plain["layers"], row["layers"], strict=True):
        assert np.array_equal(np.asarray(before["weights"]).T, after["weights"])  # (n_in, n_out)
    same = [trace_spec(parse_spec(d), steps=1).steps[0].forward_of(2).z for d in (plain, row)]
    assert np.array_equal(*same)
    # round became a convention (--round); a field that is none is still refused
    with pytest.raises(gradtrace.errors.SpecError, match="unknown convention 'learning_rate'"):
        with_conventions(load_spec("seed"), {"learning_rate": "3"})


def test_a_refused_convention_names_its_option() -> None:
    with pytest.raises(gradtrace.errors.SpecError) as error:
        with_conventions(load_spec("seed"), {"delta_convention": "err"})
    assert "--delta-convention" in str(error.value) and "delta_convention" in str(error.value)


def _fill(path: Path, decimals: int, row_view: bool) -> None:
    """Answer every line of a blank answers file with the key's numbers, written as printed."""
    step = trace_spec(parse_spec(tomllib.loads(path.read_text(encoding="utf-8"))["spec"]),
                      steps=1).steps[0]

    def answered(match: re.Match[str]) -> str:
        value = np.asarray(exact_value(step, match["key"]))
        value = value.T if row_view and value.ndim == 2 else value
        if value.ndim == 0 or value.size == 1:
            return f"{match['key']} = {float(value.reshape(())):.{decimals}f}"
        if 1 in value.shape:
            return f"{match['key']} = [{', '.join(f'{x:.{decimals}f}' for x in value.ravel())}]"
        rows = ", ".join("[" + ", ".join(f"{x:.{decimals}f}" for x in row) + "]" for row in value)
        return f"{match['key']} = [{rows}]"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^# (?P<key>\w+) = .*$", answered, text, flags=re.MULTILINE),
                    encoding="utf-8")


@pytest.mark.parametrize(("options", "field", "value", "printed"), [
    (["--layout", "in_out"], "weights_layout", "in_out", "z = a W + b"),
    (["--delta-convention", "error"], "delta_convention", "error", "Err = −∂C/∂z"),
    (["--batch-reduction", "sum"], "batch_reduction", "sum", "batch_reduction sum"),
    (["--round", "4"], "round", 4, "Round every number to 4 decimals before you use it"),
])
def test_each_convention_reaches_sheet_key_and_answers(tmp_path: Path, options: list[str],
                                                       field: str, value: str | int,
                                                       printed: str) -> None:
    sizes = ["--sizes", "3,2,1"]  # W1 not square: a layout mix-up cannot hide
    _run("exercise", "--seed", "2", *sizes, *options, "-o", str(tmp_path / "s.md"), "--key",
         str(tmp_path / "k.md"), "--answers", str(tmp_path / "answers"))
    sheet = (tmp_path / "s.md").read_text(encoding="utf-8")
    key = (tmp_path / "k.md").read_text(encoding="utf-8")
    assert printed in sheet + key
    answers = tmp_path / "answers" / "variant-1.toml"
    data = tomllib.loads(answers.read_text(encoding="utf-8"))
    assert data[field] == value and data["spec"][field] == value
    if field == "weights_layout":
        assert "W (rows: inputs, z = a W + b)" in sheet and "`W1_new` (3×2)" in sheet
        assert np.asarray(data["spec"]["layers"][0]["weights"]).shape == (3, 2)
        assert "# W1_new: 3 rows of 2;" in answers.read_text(encoding="utf-8")  # as printed
    _fill(answers, 4, row_view=field == "weights_layout")
    read = read_answers(answers)
    report = gradtrace.grade(read.load_spec(), read)
    assert {e.status for e in report.entries} == {"correct"}
    assert len(report.entries) == len(order_of(trace_spec(read.load_spec(), steps=1).steps[0]))


def test_row_view_answers_are_graded_as_printed() -> None:
    # X·W (in_out): a learner copies W1_new as the key prints it, rows = inputs
    data = generate(4, (3, 2, 1), conventions={"weights_layout": "in_out"})
    spec = parse_spec(data)
    W = exact_value(trace_spec(spec, steps=1).steps[0], "W1_new")  # (2, 3) column view
    printed = [[f"{x:.5f}" for x in row] for row in W.T]
    report = gradtrace.grade(spec, {"W1_new": printed, "W1_new[3,2]": f"{W[1, 2]:.5f}"})
    assert [e.status for e in report.entries if e.status != "missing"] == ["correct", "correct"]
    stored = gradtrace.grade(spec, {"W1_new": [[f"{x:.5f}" for x in row] for row in W]})
    assert [e.status for e in stored.entries if e.status != "missing"] == ["wrong"]


def test_notation_names_the_blanks_and_the_key(tmp_path: Path) -> None:
    _run("exercise", "--seed", "2", "--notation", "net-out", "-o", str(tmp_path / "s.md"),
         "--key", str(tmp_path / "k.md"))
    assert "`z1` = net1 (2×1)" in (tmp_path / "s.md").read_text(encoding="utf-8")
    assert "net" in (tmp_path / "k.md").read_text(encoding="utf-8")


def test_a_spec_keeps_its_conventions_unless_overridden(tmp_path: Path) -> None:
    spec_file = tmp_path / "net.json"
    (variant,) = make_variants(4, sizes=(3, 2, 1), conventions={
        "weights_layout": "in_out", "delta_convention": "error"})  # a fair exercise
    spec_file.write_text(json.dumps(variant.data), encoding="utf-8")
    _run("exercise", str(spec_file), "-o", str(tmp_path / "p.md"), "--answers", str(tmp_path / "a"))
    data = tomllib.loads((tmp_path / "a" / "variant-1.toml").read_text(encoding="utf-8"))
    assert (data["weights_layout"], data["delta_convention"]) == ("in_out", "error")  # kept
    _run("exercise", str(spec_file), "--layout", "out_in", "-o", str(tmp_path / "q.md"),
         "--answers", str(tmp_path / "b"))
    data = tomllib.loads((tmp_path / "b" / "variant-1.toml").read_text(encoding="utf-8"))
    assert (data["weights_layout"], data["delta_convention"]) == ("out_in", "error")
    ours = np.asarray(data["spec"]["layers"][0]["weights"])  # (n_out, n_in) now
    assert np.array_equal(ours, load_spec(str(spec_file)).build_mlp().layers[0].W)


# ---- relu ------------------------------------------------------------------------------------

def test_relu_sheets_leave_out_the_mistakes_that_give_the_right_value(tmp_path: Path) -> None:
    _run("exercise", "--activations", "relu", "-o", str(tmp_path / "s.md"), "--key",
         str(tmp_path / "k.md"), "--answers", str(tmp_path / "a"))
    (variant,) = make_variants(0, activations="relu")
    # relu′ = 1 wherever z > 0: leaving σ′ out of the output δ changes nothing there
    assert "missing_derivative" in variant.excluded["delta2"]
    key = (tmp_path / "k.md").read_text(encoding="utf-8")
    assert "delta2: missing_derivative" in key
    path = tmp_path / "a" / "variant-1.toml"
    assert "missing_derivative" in path.read_text(encoding="utf-8")
    # the answer that mistake gives is the right one: graded correct, never diagnosed
    step = trace_spec(variant.spec, steps=1).steps[0]
    delta2 = float(exact_value(step, "delta2").reshape(()))
    report = gradtrace.grade(variant.spec, {"delta2": f"{delta2:.4f}"})
    (entry,) = [e for e in report.entries if e.key == "delta2"]
    assert entry.status == "correct" and not entry.mistakes


def test_a_dead_relu_output_is_no_exercise() -> None:
    from gradtrace.exercise import ambiguity
    data = generate(0, activations="relu")
    data["layers"][1]["bias"] = [-5.0]  # z2 < 0: every gradient is zero
    assert ambiguity(parse_spec(data), 4) == "delta2 is all zeros, so no mistake on it could be seen"


def test_help_reads_well_at_80_columns() -> None:
    import os
    import subprocess
    import sys
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src"), "COLUMNS": "80",
           "NO_COLOR": "1", "TERM": "dumb"}
    out = subprocess.run([sys.executable, "-m", "gradtrace", "exercise", "--help"], env=env,
                         capture_output=True, text=True, check=True).stdout
    lines = out.split("╭")[0].splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    text = [line.strip() for line in lines]
    for k, line in enumerate(text[:-1]):  # a paragraph's lines are filled: no stray hard break
        if line and text[k + 1] and not line.startswith(("Usage", "gradtrace")):
            assert len(line) >= 60, line
    assert "gradtrace exercise --seed 7 -o sheet.md --key key.md" in text


def test_error_convention_is_graded_as_the_key_prints_it() -> None:
    (variant,) = make_variants(7, conventions={"delta_convention": "error"})
    step = trace_spec(variant.spec, steps=1).steps[0]
    printed = {q.key: float(np.ravel(q.matrix.value)[0]) for q in step.quantities()}
    for key in ("delta2", "grad_a2"):  # Err2 and −∂C/∂a2, as the key prints them
        assert printed[key] == pytest.approx(-float(np.ravel(
            step.backward_of(2).delta if key == "delta2" else step.backward_of(2).grad_a)[0]))
        right = gradtrace.grade(variant.spec, {key: f"{printed[key]:.4f}"})
        flipped = gradtrace.grade(variant.spec, {key: f"{-printed[key]:.4f}"})
        (ok,) = [e for e in right.entries if e.key == key]
        (bad,) = [e for e in flipped.entries if e.key == key]
        assert ok.status == "correct"
        assert bad.status == "wrong" and [m.id for m in bad.mistakes] == ["sign"]


def test_a_key_worked_with_hand_rounding_ends_with_its_drift(tmp_path: Path) -> None:
    # η = 1 on the seed: θ − g is θ − η g exactly, also from hand-rounded inputs (left out)
    spec_file = tmp_path / "seed.json"
    spec_file.write_text(json.dumps({**load_spec("seed").model_dump(mode="json",
                                                                    exclude_none=True),
                                     "round": 6}), encoding="utf-8")
    _run("exercise", str(spec_file), "--decimals", "6", "-o", str(tmp_path / "s.md"), "--key",
         str(tmp_path / "k.md"))
    key = (tmp_path / "k.md").read_text(encoding="utf-8")
    assert "Drift against exact arithmetic" in key and "rounded to 6 decimals" in key
    assert "learning_rate" in key  # the mistake left out of this variant, said in the key
