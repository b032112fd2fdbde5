"""``gradtrace grade`` on the command line: exit codes, bad answers files, the template, the README.

Most runs go through ``gradtrace.cli.main`` in this process (the path ``python -m gradtrace``
takes, less the interpreter start); a few go through a real subprocess.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gradtrace
from gradtrace.cli import main
from gradtrace.spec import load_spec
from gradtrace.workflow import trace_spec

README = Path(__file__).resolve().parents[1] / "README.md"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def exact_answers() -> str:
    """Every seed quantity to 8 decimals: an answers file that is all correct."""
    step = trace_spec(load_spec("seed")).steps[0]
    lines = ['spec = "seed"', "[answers]"]
    for quantity in step.quantities()[1:]:
        value = quantity.matrix.value
        rows = value if isinstance(value, tuple) else ((value,),)
        flat = [x for row in rows for x in row]
        if len(flat) == 1:
            lines.append(f"{quantity.key} = {flat[0]:.8f}")
        elif min(len(rows), len(rows[0])) == 1:
            lines.append(f"{quantity.key} = [{', '.join(f'{x:.8f}' for x in flat)}]")
        else:
            body = ", ".join("[" + ", ".join(f"{x:.8f}" for x in row) + "]" for row in rows)
            lines.append(f"{quantity.key} = [{body}]")
    return "\n".join(lines) + "\n"


def test_all_correct_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "grade", write(tmp_path, "a.toml", exact_answers()))
    assert (code, err) == (0, "")
    assert "17 correct; first error" not in out and "17 correct" in out


def test_wrong_exits_1_and_names_the_first_error(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "a.toml", 'spec = "seed"\n[answers]\nz1 = [0.25, 0.315]\n'
                                     "a1 = [0.5622, 0.5781]\n")
    code, out, err = run(capsys, "grade", path, "--format", "json")
    assert (code, err) == (1, "")
    data = json.loads(out)
    assert data["first_error"] == "z1"
    assert [e["status"] for e in data["entries"][:2]] == ["wrong", "carried"]


def test_carried_alone_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a1[1] = 0.60 is wrong (0.552308); z2 = 0.3·0.60 + 0.9·0.5781 = 0.70029 is carried from it
    path = write(tmp_path, "a.toml", 'spec = "seed"\n[answers]\na1 = [0.60, 0.5781]\n'
                                     "z2 = 0.7003\n")
    code, out, _ = run(capsys, "grade", path, "--format", "json")
    data = json.loads(out)
    assert [e["status"] for e in data["entries"] if e["status"] != "missing"] == ["wrong",
                                                                                  "carried"]
    assert code == 1


def test_forgive_and_tolerance_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "a.toml", 'spec = "seed"\n[answers]\n"a1[2]" = 0.5782\n')
    assert run(capsys, "grade", path)[0] == 1
    assert run(capsys, "grade", path, "--forgive-last-digit")[0] == 0
    assert run(capsys, "grade", path, "--tolerance", "0.001")[0] == 0


def test_markdown_highlights_the_first_error(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "a.toml", 'spec = "seed"\n[answers]\nz1 = [0.21, 0.315]\n'
                                     "delta2 = 0.0400\n")
    code, out, _ = run(capsys, "grade", path, "--format", "markdown")
    assert code == 1
    assert "| **delta2** | 0.0400 | 0.0367703 | ✗ wrong  **← first error** |" in out
    assert "## delta2" in out and "**Summary:** 1 correct, 1 wrong, 15 missing" in out


def test_text_table_without_colour(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", 'spec = "seed"\n[answers]\ndelta2 = 0.0400\n')
    result = subprocess.run([sys.executable, "-m", "gradtrace", "grade", path],
                            capture_output=True, text=True, env=_env(), timeout=120, check=False)
    assert result.returncode == 1 and result.stderr == ""
    assert "\x1b[" not in result.stdout  # NO_COLOR and a pipe: plain text
    assert re.search(r"│ delta2 +│ 0\.0400 +│ 0\.0367703 +│ ✗ wrong  ← first error │",
                     result.stdout)
    assert "0 correct" not in result.stdout and "1 wrong, 16 missing" in result.stdout


def _env() -> dict[str, str]:
    src = str(Path(gradtrace.__file__).resolve().parents[1])
    paths = [src, *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "NO_COLOR": "1"}


# ---- bad answers files: one line, exit 2 -----------------------------------------------------

BAD = [
    ("unknown top-level field", "a.toml", 'spce = "seed"\n[answers]\nz1 = 0.1\n',
     "unknown field 'spce'; did you mean 'spec'?"),
    ("no spec", "a.toml", "[answers]\nz1 = 0.1\n", "no spec; add spec ="),
    ("unknown spec", "a.toml", 'spec = "sed"\n[answers]\nz1 = 0.1\n', "did you mean 'seed'?"),
    ("missing spec file", "a.toml", 'spec = "nets/none.toml"\n[answers]\nz1 = 0.1\n',
     "no such file"),
    ("no answers", "a.toml", 'spec = "seed"\n', "no answers; add an [answers] table"),
    ("unknown key", "a.toml", 'spec = "seed"\n[answers]\ndelta3 = 0.1\n',
     "answers.delta3: unknown quantity key 'delta3'; did you mean 'delta2'?"),
    ("wrong shape", "a.toml", 'spec = "seed"\n[answers]\nz1 = [0.1, 0.2, 0.3]\n',
     "answers.z1 has 3 numbers; expected a list of 2 numbers"),
    ("matrix shape", "a.toml", 'spec = "seed"\n[answers]\nW1_new = [[0.1, 0.2, 0.3]]\n',
     "expected shape (2, 2): 2 rows of 2 numbers"),
    ("not a number", "a.toml", 'spec = "seed"\n[answers]\nz1 = ["x", 0.3]\n',
     "answers.z1 entry [1] 'x' cannot be read as a number"),
    ("boolean", "a.toml", 'spec = "seed"\n[answers]\ncost = true\n',
     "answers.cost True cannot be read as a number"),
    ("index out of range", "a.toml", 'spec = "seed"\n[answers]\n"W1_new[3,1]" = 0.1\n',
     "W1_new has shape (2, 2); its entries are W1_new[1..2, 1..2]"),
    ("index on a number", "a.toml", 'spec = "seed"\n[answers]\n"cost[1]" = 0.1\n',
     "cost is a single number; write cost = value"),
    ("step not a table", "a.toml", 'spec = "seed"\n[answers]\nstep2 = 0.1\n',
     "answers.step2: expected a table of step 2's answers"),
    ("step 0", "a.toml", 'spec = "seed"\n[answers.step0]\nz1 = 0.1\n',
     "for a step from 1 to 100"),
    ("malformed TOML", "a.toml", 'spec = "seed"\n[answers\n', "malformed TOML"),
    ("malformed JSON", "a.json", '{"spec": "seed", "answers": {"z1": 0.1,}}', "malformed JSON"),
    ("JSON list", "a.json", "[1, 2]", "expected a table of fields at the top"),
    ("YAML alias", "a.yaml", "spec: seed\nanswers:\n  z1: &x [0.1, 0.2]\n  a1: *x\n",
     "YAML anchors and aliases"),
    ("YAML infinity", "a.yaml", "spec: seed\nanswers:\n  z2: .inf\n",
     "answers.z2 'Infinity' cannot be read as a number"),
    ("unknown convention value", "a.toml", 'spec = "seed"\nbatch_reducton = "sum"\n'
     "[answers]\nz1 = 0.1\n", "did you mean 'batch_reduction'?"),
    ("file type", "a.txt", "z1 = 0.1\n", "unknown answers file type '.txt'"),
    ("spec not text", "a.toml", "spec = 3\n[answers]\nz1 = 0.1\n", "spec is 3; give an example"),
]


@pytest.mark.parametrize(("name", "text", "expected"), [(b[1], b[2], b[3]) for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_answers_file(name: str, text: str, expected: str, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "grade", write(tmp_path, name, text))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("gradtrace: error: "), err
    assert expected in err
    assert "Traceback" not in err


def test_no_such_answers_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "grade", str(tmp_path / "none.toml"))
    assert code == 2 and err.count("\n") == 1 and "cannot read the answers file" in err


@pytest.mark.parametrize("args", [["grade"], ["grade", "a.toml", "--template", "seed"],
                                  ["grade", "--tolerance", "-1", "a.toml"]],
                         ids=["nothing", "both", "negative tolerance"])
def test_usage_errors(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.toml", 'spec = "seed"\n[answers]\nz1 = 0.1\n')
    code, _, err = run(capsys, *args)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_bad_file_through_a_subprocess(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", 'spec = "seed"\n[answers]\nz1 = [0.1, 0.2, 0.3]\n')
    result = subprocess.run([sys.executable, "-m", "gradtrace", "grade", path],
                            capture_output=True, text=True, env=_env(), timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "expected a list of 2 numbers" in result.stderr


# ---- the template ----------------------------------------------------------------------------

def test_template_lists_every_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "answers.toml"
    code, _, err = run(capsys, "grade", "--template", "mattmazur", "-o", str(out))
    assert code == 0 and err == f"wrote {out}\n"
    text = out.read_text(encoding="utf-8")
    keys = [q.key for q in trace_spec(load_spec("mattmazur")).steps[0].quantities()[1:]]
    assert re.findall(r"^# (\w+) = ", text, flags=re.MULTILINE) == keys
    assert "# grad_a1: a list of 2 numbers; ∂C/∂a1 = W2ᵀ δ2" in text
    assert "# delta1: a list of 2 numbers; δ1 = ∂C/∂a1 ⊙ a1 ⊙ (1 − a1)" in text
    assert "# W1_new: 2 rows of 2; W1' = W1 − η ∂C/∂W1" in text


def test_template_filled_in_grades_correct(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "answers.toml"
    assert run(capsys, "grade", "--template", "seed", "-o", str(out))[0] == 0
    exact = dict(line.split(" = ", 1) for line in exact_answers().splitlines()[2:])
    filled = re.sub(r"^# (\w+) = .*$", lambda m: f"{m[1]} = {exact[m[1]]}",
                    out.read_text(encoding="utf-8"), flags=re.MULTILINE)
    out.write_text(filled, encoding="utf-8")
    code, stdout, _ = run(capsys, "grade", str(out), "--format", "json")
    assert code == 0
    assert json.loads(stdout)["summary"]["correct"] == 17


def test_template_of_a_spec_file_refers_to_it_relatively(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "nets").mkdir()
    (tmp_path / "work").mkdir()
    spec = write(tmp_path / "nets", "tiny.toml", "[data]\ninput = [1.0]\ntarget = [0.0]\n"
                 "[[layers]]\nweights = [[0.5]]\nactivation = \"linear\"\n")
    out = tmp_path / "work" / "answers.toml"
    assert run(capsys, "grade", "--template", spec, "-o", str(out))[0] == 0
    assert 'spec = "../nets/tiny.toml"' in out.read_text(encoding="utf-8")
    filled = out.read_text(encoding="utf-8").replace("# z1 = 0.0", "z1 = 0.5")
    out.write_text(filled, encoding="utf-8")
    assert run(capsys, "grade", str(out))[0] == 0


def test_template_output_is_checked_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "grade", "--template", "seed", "-o", str(tmp_path))
    assert code == 2 and "is a folder" in err


# ---- the README example ----------------------------------------------------------------------

def test_readme_example_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The answers file and the Markdown output the README shows, run and compared exactly."""
    section = README.read_text(encoding="utf-8").split("## Check your hand work", 1)[1]
    answers = re.search(r"```toml\n(.*?)```", section, flags=re.DOTALL)
    shown = re.search(r"```markdown\n(.*?)```", section, flags=re.DOTALL)
    assert answers is not None and shown is not None
    path = write(tmp_path, "answers.toml", answers.group(1))
    code, out, _ = run(capsys, "grade", path, "--format", "markdown")
    assert code == 1
    assert out == shown.group(1)
    assert "updated_weights" in out and "→ carried from delta1" in out
