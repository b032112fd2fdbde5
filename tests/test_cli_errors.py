"""Bad input through the command line, as a user meets it: ``python -m gradtrace`` in a subprocess.

Every bad input must give exit code 2 and exactly one line on stderr, ``gradtrace: error: ...``,
naming the file (and the field where there is one) and what was expected; never a traceback.
The subprocesses are started together (they are independent), so the file stays quick.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest

import gradtrace
from gradtrace.spec import example_names
from gradtrace.trace.json import schema

SEED_COST = 0.013624653232974609
VALID = """\
loss = "half_sse"
learning_rate = 1.0
[data]
input = [0.35, 0.7]
target = [0.5]
[[layers]]
weights = [[0.2, 0.2], [0.3, 0.3]]
activation = "sigmoid"
[[layers]]
weights = [[0.3, 0.9]]
activation = "sigmoid"
"""


def _env() -> dict[str, str]:
    # the subprocess must import this checkout's gradtrace whether or not it is installed
    src = str(Path(gradtrace.__file__).resolve().parents[1])
    paths = [src, *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "NO_COLOR": "1", "COLUMNS": "120"}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gradtrace", *args], capture_output=True, text=True, env=_env(),
        cwd=cwd, timeout=120, check=False,
    )


@dataclass(frozen=True)
class Bad:
    """One bad input: the file to write (None: no file), the command, and what the line names."""

    id: str
    filename: str | None
    text: str
    fragments: list[str]
    command: tuple[str, ...] = ("step",)
    extra: tuple[str, ...] = ()
    names_file: bool = True
    options: dict[str, str] = field(default_factory=dict)


def _edit(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


BAD: list[Bad] = [
    Bad("malformed-toml", "net.toml", "loss = [\n", ["malformed TOML"]),
    Bad("malformed-json", "net.json", '{"loss": "mse",\n}', ["malformed JSON", "line 2"]),
    Bad("malformed-yaml", "net.yaml", "loss: [1,\n  x: :", ["malformed YAML", "line 2"]),
    Bad("unknown-file-type", "net.txt", VALID, ["'.txt'", ".toml"]),
    Bad("ragged-rows", "net.toml", _edit("[[0.2, 0.2], [0.3, 0.3]]", "[[0.2, 0.2], [0.3]]"),
        ["layers[0].weights", "different lengths"]),
    Bad("chained-shape", "net.toml", _edit("[[0.3, 0.9]]", "[[0.3, 0.9, 0.1]]"),
        ["layers[1].weights", "expected shape (1, 2)"]),
    Bad("bias-length", "net.toml",
        _edit('weights = [[0.3, 0.9]]', 'weights = [[0.3, 0.9]]\nbias = [0.1, 0.2]'),
        ["layers[1].bias", "expected 1"]),
    Bad("input-width", "net.toml", _edit("input = [0.35, 0.7]", "input = [0.35, 0.7, 1.0]"),
        ["data.input", "2 inputs"]),
    Bad("nan-weight", "net.toml", _edit("[[0.3, 0.9]]", "[[nan, 0.9]]"),
        ["layers[1].weights[0][0]", "finite"]),
    Bad("nan-input", "net.toml", _edit("input = [0.35, 0.7]", "input = [nan, 0.7]"),
        ["data.input[0]", "finite"]),
    Bad("unknown-activation", "net.toml", _edit('activation = "sigmoid"\n[[layers]]',
                                                'activation = "sigmod"\n[[layers]]'),
        ["layers[0].activation", "did you mean 'sigmoid'"]),
    Bad("unknown-loss", "net.toml", _edit('"half_sse"', '"half_sse_"'),
        ["loss", "did you mean 'half_sse'"]),
    Bad("bce-with-relu", "net.toml",
        _edit('weights = [[0.3, 0.9]]\nactivation = "sigmoid"',
              'weights = [[0.3, 0.9]]\nactivation = "relu"').replace(
                  '"half_sse"', '"binary_cross_entropy"'),
        ["binary_cross_entropy", "'relu'"]),
    Bad("unknown-field", "net.toml", "colour = 'red'\n" + VALID, ["colour"]),
    Bad("both-layers-and-sizes", "net.toml", "sizes = [2, 2, 1]\n" + VALID, ["layers", "sizes"]),
    Bad("neither-layers-nor-sizes", "net.toml", "loss = 'mse'\n", ["layers", "sizes"]),
    Bad("negative-size", "net.yaml", "sizes: [2, -1, 1]\n", ["sizes[1] is -1", "positive"]),
    Bad("huge-size", "net.toml", "sizes = [2, 1000000, 1]\n", ["sizes[1]", "cap"]),
    Bad("too-large-to-trace", "net.toml",
        "sizes = [1, 300, 1]\n[data]\ninput = [1.0]\ntarget = [1.0]\n", ["300 units", "capped"]),
    Bad("too-many-steps", "net.toml", VALID, ["101 steps", "capped"], extra=("--steps", "101")),
    Bad("no-data", "net.toml", "sizes = [2, 1]\n", ["data"]),
    Bad("missing-file", None, "", ["no such file"]),
    Bad("bad-file-check", "net.toml", "loss = [\n", ["malformed TOML"], command=("check",)),
    Bad("unknown-example", None, "", ["'sed'", "did you mean 'seed'"], names_file=False,
        options={"spec": "sed"}),
    # hostile input (issue #11): refused quickly in one short line
    Bad("yaml-billion-laughs", "net.yaml",
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
            f"{k}: &{k} [{', '.join([f'*{p}'] * 9)}]\n" for p, k in itertools.pairwise("abcdefghi")),
        ["YAML anchors and aliases (&a)"], command=("check",)),
    Bad("deep-json", "net.json", '{"sizes": ' + "[" * 5000 + "]" * 5000 + "}", ["nest", "64"]),
    Bad("deep-toml", "net.toml", "sizes = " + "[" * 2000 + "]" * 2000, ["nest", "64"]),
    Bad("huge-integer", "net.toml", "seed = " + "7" * 5000 + "\n" + VALID, ["4,300 digits"]),
    Bad("long-field-name", "net.toml", "k" * 200_000 + " = 1\n" + VALID,
        ["unknown field", "200,000 characters"]),
    Bad("empty-layers", "net.json", '{"layers": []}', ["layers is empty"]),
    Bad("negative-seed", "net.toml", "sizes = [2, 1]\nseed = -1\n", ["seed", "0"]),
    Bad("surrogate-name", "net.json", '{"name": "\\ud800", "sizes": [2, 1]}',
        ["name:", "lone surrogate"]),
    Bad("float32-range", "net.toml", 'dtype = "float32"\n' + _edit("[[0.3, 0.9]]", "[[0.3, 1e39]]"),
        ["layers[1].weights[0][1]", "float32"]),
    Bad("overflow-step", "net.toml", _edit("input = [0.35, 0.7]", "input = [1e200, 1e200]").replace(
        "[[0.2, 0.2], [0.3, 0.3]]", "[[1e200, 0.2], [0.3, 0.3]]"), ["z1 overflowed to inf", "step 1"]),
    Bad("overflow-check", "net.toml", _edit("input = [0.35, 0.7]", "input = [1e200, 1e200]").replace(
        "[[0.2, 0.2], [0.3, 0.3]]", "[[1e200, 0.2], [0.3, 0.3]]").replace(
        'activation = "sigmoid"', 'activation = "linear"'), ["gradient of W1", "overflows"],
        command=("check",)),
]


@pytest.fixture(scope="module")
def bad_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Bad, str,
                                                                            subprocess.CompletedProcess[str]]]:
    root = tmp_path_factory.mktemp("bad")

    def one(case: Bad) -> tuple[str, tuple[Bad, str, subprocess.CompletedProcess[str]]]:
        folder = root / case.id
        folder.mkdir()
        if "spec" in case.options:
            target = case.options["spec"]
        else:
            path = folder / (case.filename or "nowhere.toml")
            if case.filename is not None:
                path.write_text(case.text)
            target = str(path)
        return case.id, (case, target, run_cli(*case.command, target, *case.extra, cwd=folder))

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, BAD))


def _assert_one_error_line(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert result.stderr.count("\n") == 1  # one line, not one line plus blank ones
    assert lines[0].startswith("gradtrace: error: "), lines[0]
    assert result.returncode == code, (result.returncode, result.stderr)
    return lines[0]


@pytest.mark.parametrize("case_id", [case.id for case in BAD])
def test_bad_input_is_one_line_and_exit_2(
    case_id: str, bad_results: dict[str, tuple[Bad, str, subprocess.CompletedProcess[str]]]
) -> None:
    case, target, result = bad_results[case_id]
    line = _assert_one_error_line(result)
    if case.names_file:
        assert target in line, line
    for fragment in case.fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    assert result.stdout == "", "nothing is printed to stdout before the error"


def test_check_on_the_seed_passes() -> None:
    result = run_cli("check")
    assert result.returncode == 0, result.stderr
    assert "W1[1,1]" in result.stdout and "b2[1]" in result.stdout
    assert "ok" in result.stdout and result.stderr == ""


KINK = """\
loss = "half_sse"
[data]
input = [0.5, 0.5]
target = [1.0]
[[layers]]
weights = [[1.0, -1.0]]   # z1 = 0.5 - 0.5 = 0 exactly: relu's kink
activation = "relu"
[[layers]]
weights = [[1.0]]
activation = "linear"
"""


def test_check_fails_with_exit_1_at_a_relu_kink(tmp_path: Path) -> None:
    # relu'(0) = 0 makes dC/dW1 = 0, but C(+h) - C(-h) sees only the right-hand slope:
    # (½(1 - h/2)² - ½) / 2h ≈ -0.25 for W1[1,1], a genuine disagreement
    path = tmp_path / "kink.toml"
    path.write_text(KINK)
    result = run_cli("check", str(path))
    line = _assert_one_error_line(result, code=1)
    assert "disagree" in line
    assert "MISMATCH" in result.stdout
    w11 = next(row for row in result.stdout.splitlines() if "W1[1,1]" in row)
    assert "MISMATCH" in w11 and "-0.24999" in w11


def test_check_fails_with_exit_1_when_no_error_is_tolerated() -> None:
    # on a correct engine only a zero tolerance fails: the estimate's round-off is never zero
    result = run_cli("check", "seed", "--tolerance", "0", "--atol", "0")
    line = _assert_one_error_line(result, code=1)
    assert "tolerance 0" in line
    assert "MISMATCH" in result.stdout  # the table still shows which gradients failed


def test_step_json_is_the_seed_trace_and_validates() -> None:
    result = run_cli("step", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "gradtrace.trace/2"  # the default since /2 (issue #12); /1 on request
    jsonschema.validate(data, schema(2))
    assert data["steps"][0]["cost"] == pytest.approx(SEED_COST, abs=1e-15)
    result = run_cli("step", "--format", "json", "--schema", "1")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema.validate(data, schema(1))
    assert data["steps"][0]["cost"] == pytest.approx(SEED_COST, abs=1e-15)


def test_step_text_on_a_spec_file(tmp_path: Path) -> None:
    path = tmp_path / "net.toml"
    path.write_text(VALID)
    result = run_cli("step", str(path), "--view", "both", "--precision", "8", "--steps", "2")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "0.66507364" in result.stdout  # y_hat of the first step at 8 significant digits


def test_examples_lists_every_built_in_example() -> None:
    result = run_cli("examples")
    assert result.returncode == 0, result.stderr
    for name in example_names():  # the published ones too (nnfs, introml, cs231n, ...)
        assert name in result.stdout


USAGE_ERRORS = [
    ("steps-zero", ("step", "--steps", "0")),
    ("unknown-format", ("step", "--format", "bogus")),
    ("unknown-option", ("step", "--bogus")),
    ("negative-tolerance", ("check", "--tolerance", "-1")),
    ("huge-width", ("step", "--width", "1000000000000")),
    ("steps-negative", ("step", "--steps", "-2")),
    # train's options are merged into the spec and refused by its validation, not ignored
    ("train-lr-zero", ("train", "xor", "--data", "xor", "-q", "--lr", "0")),
    ("train-batch-size-zero", ("train", "xor", "--data", "xor", "-q", "--batch-size", "0")),
    ("train-momentum", ("train", "xor", "--data", "xor", "-q", "--momentum", "1.5")),
    ("train-weight-decay", ("train", "xor", "--data", "xor", "-q", "--weight-decay", "-1")),
    ("train-seed", ("train", "xor", "--data", "xor", "-q", "--seed", "-1")),
    ("train-samples", ("train", "xor", "--data", "xor", "-q", "--samples", "1000000000")),
]


@pytest.mark.parametrize("args", [a for _, a in USAGE_ERRORS], ids=[i for i, _ in USAGE_ERRORS])
def test_bad_options_are_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    line = _assert_one_error_line(run_cli(*args))
    option = args[-2] if args[-2].startswith("--") else next(a for a in args if a.startswith("--"))
    option = "--learning-rate" if option == "--lr" else option
    assert option in line and f"gradtrace {args[0]} --help" in line
    assert len(line) < 300
