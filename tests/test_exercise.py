"""``gradtrace exercise``: the generator's promises (hypothesis), the variant check, the command.

Oracles: the spec's own validation, the trace's z values, the gradient check, and
``gradtrace.grade`` itself (a key-filled answers file grades all correct; each catalogued mistake,
written to the sheet's decimals, is diagnosed as that mistake and no other).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradtrace
from gradtrace.cli import main
from gradtrace.exercise import LEARNING_RATES, ambiguity, excluded, generate, make_variants
from gradtrace.exercise.generate import Z_MAX, Z_MIN
from gradtrace.grade import engine, read_answers
from gradtrace.grade.judge import network_of
from gradtrace.grade.keys import exact_value, order_of, true_values
from gradtrace.spec import load_spec, parse_spec
from gradtrace.workflow import trace_spec

needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
seeds = st.integers(0, 2**32 - 1)
ACTIVATIONS = st.sampled_from(["sigmoid", "tanh", "relu", "linear", "elu"])


def _two_decimals(values: object) -> bool:
    array = np.asarray(values, dtype=np.float64)
    return bool(np.all(np.abs(array * 100 - np.round(array * 100)) < 1e-9))


@settings(max_examples=60, deadline=None)
@given(seed=seeds, activation=ACTIVATIONS, hidden=st.integers(1, 3), outputs=st.integers(1, 2))
def test_generated_networks_are_hand_friendly_and_deterministic(seed: int, activation: str,
                                                                hidden: int, outputs: int) -> None:
    sizes = (2, hidden, outputs)
    data = generate(seed, sizes, activation)
    assert data == generate(seed, sizes, activation)
    for layer in data["layers"]:
        for values in (layer["weights"], layer["bias"]):
            array = np.asarray(values)
            assert np.all(np.abs(array) <= 1.0)
            assert np.all(np.abs(array / 0.05 - np.round(array / 0.05)) < 1e-9)
    assert _two_decimals(data["data"]["input"]) and _two_decimals(data["data"]["target"])
    assert data["learning_rate"] in LEARNING_RATES
    step = trace_spec(parse_spec(data), steps=1).steps[0]
    for record in step.forward:  # no unit near saturation, none on a kink at z = 0
        assert np.all(np.abs(record.z) >= Z_MIN - 1e-12) and np.all(np.abs(record.z) <= Z_MAX)


@settings(max_examples=15, deadline=None)
@given(seed=seeds)
def test_variants_check_differ_and_are_frozen(seed: int) -> None:
    variants = make_variants(seed, count=3, decimals=4)
    assert [v.number for v in variants] == [1, 2, 3]
    assert make_variants(seed, count=3, decimals=4) == variants
    for variant in variants:
        assert ambiguity(variant.spec, 4) is None  # gradient-checks, every mistake distinct
        assert generate(variant.seed) == variant.data  # the frozen seed rebuilds it
    networks = [(v.data["layers"], v.data["data"]) for v in variants]
    assert all(a != b for k, a in enumerate(networks) for b in networks[k + 1:])


def test_an_ambiguous_network_is_refused() -> None:
    # the seed example's ∂C/∂W1 holds 0.00095: four decimals give it one significant figure
    assert ambiguity(load_spec("seed"), 4) == (
        "grad_W1: 0.00095 needs more than 4 decimals for 2 significant figures")
    # at five, every remaining mistake is distinct; the seed's η = 1 makes θ − g and θ − η² g
    # *exactly* θ − η g, so the learning_rate mistake is left out of its catalogue (no mistake there)
    assert ambiguity(load_spec("seed"), 5) is None
    assert excluded(load_spec("seed")) == {"W1_new": ("learning_rate",),
                                           "W2_new": ("learning_rate",)}
    # a mistake that agrees only at the sheet's precision (η = 0.999: θ − g is 0.001·g away from
    # θ − η g) still refuses the network
    near = load_spec("seed").with_options({"learning_rate": ("--lr", 0.999)})
    assert ambiguity(near, 5) == ("W1_new: the right value and mistake learning_rate (left out: "
                                  "θ − g) agree to 5 decimals")
    assert ambiguity(load_spec("mattmazur"), 5) is None


def _written(value: np.ndarray, decimals: int) -> object:
    """A value as an answers file writes it, rounded to ``decimals``: nested lists of strings."""
    if value.ndim == 0 or value.size == 1:
        return f"{float(value.reshape(())):.{decimals}f}"
    if 1 in value.shape:
        return [f"{x:.{decimals}f}" for x in value.ravel()]
    return [[f"{x:.{decimals}f}" for x in row] for row in value]


def test_every_mistake_on_a_variant_is_diagnosed_as_itself() -> None:
    variant = make_variants(11, count=1, decimals=4)[0]
    spec = variant.spec
    step = trace_spec(spec, steps=1).steps[0]
    truth, net = true_values(step), network_of(spec)
    tried = 0
    excluded_seen: set[tuple[str, str | None]] = set()
    for key in order_of(step):
        for mistaken in engine.compute(key, truth, net, mistakes=True)[1:]:
            if mistaken.value.shape != truth[key].shape:
                continue  # a transposed shape: the answers file cannot hold it
            report = gradtrace.grade(spec, {key: _written(mistaken.value, 4)})
            (entry,) = report.entries[:1] if report.entries[0].key == key else [
                e for e in report.entries if e.key == key and e.status != "missing"]
            if mistaken.mistake in variant.excluded.get(key, ()):  # it gives the right value
                assert entry.status == "correct" and not entry.mistakes, (key, mistaken)
                excluded_seen.add((key, mistaken.mistake))
                continue
            assert entry.status == "wrong", (key, mistaken)
            assert [m.id for m in entry.mistakes] == [mistaken.mistake], (key, mistaken.words)
            tried += 1
    assert tried >= 20
    # η = 1 on this variant: θ − g and θ − η² g are exactly θ − η g, left out of its catalogue
    assert variant.data["learning_rate"] == 1.0
    assert excluded_seen == {(k, "learning_rate") for k in ("W1_new", "b1_new", "W2_new", "b2_new")}


def _fill(text: str, spec_step: object, decimals: int) -> str:
    """The blank answers file with every line answered from the exact values (the key)."""
    def answered(match: re.Match[str]) -> str:
        key = match["key"]
        value = exact_value(spec_step, key)  # type: ignore[arg-type]
        written = _written(np.asarray(value), decimals)
        return f"{key} = {str(written).replace(chr(39), '')}"
    return re.sub(r"^# (?P<key>\w+) = .*$", answered, text, flags=re.MULTILINE)


def test_command_writes_sheets_key_and_answers_that_grade(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    sheet, key, folder = tmp_path / "sheet.md", tmp_path / "key.md", tmp_path / "answers"
    code = main(["exercise", "--seed", "3", "--count", "2", "--decimals", "4", "--ask", "backward",
                 "-o", str(sheet), "--key", str(key), "--answers", str(folder)])
    assert code == 0, capsys.readouterr().err
    text = sheet.read_text(encoding="utf-8")
    assert text.count("# Exercise") == 2 and "`delta1` (2×1): ________" in text
    assert "`z1`" not in text and "`W1_new`" not in text  # --ask backward: only the backward pass
    blanks = re.findall(r"`(\w+)`", text.split("# Exercise 2")[0])
    variants = make_variants(3, count=2, decimals=4)
    step = trace_spec(variants[0].spec, steps=1).steps[0]
    assert blanks == [k for k in order_of(step) if k.startswith(("grad", "delta"))]  # step order
    for variant in variants:
        assert f"seed {variant.seed}" in text and f"seed {variant.seed}" in key.read_text("utf-8")
    for variant in variants:
        path = folder / f"variant-{variant.number}.toml"
        blank = path.read_text(encoding="utf-8")
        assert f"frozen seed {variant.seed}" in blank
        step = trace_spec(variant.spec, steps=1).steps[0]
        path.write_text(_fill(blank, step, 4), encoding="utf-8")
        sheet_read = read_answers(path)
        report = gradtrace.grade(sheet_read.load_spec(), sheet_read)  # no variant name needed
        assert {e.status for e in report.entries} == {"correct"}
        assert len(report.entries) == len(order_of(step))
        assert main(["grade", str(path)]) == 0


def test_an_ambiguous_spec_is_one_line_exit_2(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exercise", "seed", "-o", str(tmp_path / "s.md")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an unambiguous exercise at 4 decimals" in err
    assert not (tmp_path / "s.md").exists()
    assert main(["exercise", "--sizes", "2,x", "-o", str(tmp_path / "s.md")]) == 2
    assert "--sizes '2,x': give whole numbers" in capsys.readouterr().err
    assert main(["exercise", "--activations", "sigmod", "-o", str(tmp_path / "s.md")]) == 2
    assert "did you mean 'sigmoid'" in capsys.readouterr().err
    assert main(["exercise"]) == 2
    assert "give the sheet's file with -o" in capsys.readouterr().err
    # refused before the sheet is written: nothing half done
    assert main(["exercise", "--count", "2", "-f", "latex", "-o", str(tmp_path / "s.tex"), "--key",
                 str(tmp_path / "k.tex")]) == 2
    assert "a LaTeX or PDF key holds one variant" in capsys.readouterr().err
    assert not (tmp_path / "s.tex").exists()


def test_html_and_latex_sheets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt, name in (("html", "s.html"), ("latex", "s.tex")):
        assert main(["exercise", "mattmazur", "--decimals", "5", "-f", fmt, "-o",
                     str(tmp_path / name), "--key", str(tmp_path / ("k-" + name))]) == 0
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "0.15" in text and "delta1" in text and "0.5932" not in text  # no answer given away
        assert "0.59327" in (tmp_path / ("k-" + name)).read_text(encoding="utf-8")  # Mazur's a1


@needs_tex
def test_pdf_sheet_compiles(tmp_path: Path) -> None:
    assert main(["exercise", "--seed", "1", "--count", "2", "-f", "pdf", "-o",
                 str(tmp_path / "s.pdf")]) == 0
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")


def test_a_budget_changes_how_soon_a_search_fails_never_what_it_finds() -> None:
    from gradtrace.errors import GradtraceError

    assert make_variants(7, 2, budget=60.0) == make_variants(7, 2)
    with pytest.raises(GradtraceError, match=r"within 0 s \(0 tries"):
        make_variants(7, 1, budget=0.0)
