"""``gradtrace grade FOLDER``: a class of answers files with mistakes injected by grade's engine.

Each student's file is right up to one quantity, which holds the value the engine computes with a
catalogued mistake switched on (rounded to 6 decimals, as tests/test_grade_mistakes.py does): the
summary must name that quantity as the student's first error and the mistake id as its diagnosis.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gradtrace.cli import main
from gradtrace.grade import engine
from gradtrace.grade.batch import grade_folder
from gradtrace.grade.judge import network_of
from gradtrace.grade.keys import order_of, true_values
from gradtrace.spec import load_spec
from gradtrace.workflow import trace_spec
from test_grade_mistakes import answers_up_to, distinguishable, written

# (quantity, mistake id) pairs the engine makes on the seed network; each gives one student.
INJECTED = [("delta1", "updated_weights"), ("delta1", "missing_derivative"),
            ("W1_new", "sign"), ("cost", "factor_two"), ("delta1", "updated_weights")]


def toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return str(value)


def answers_file(folder: Path, name: str, answers: dict[str, Any]) -> Path:
    lines = ['spec = "seed"', "[answers]"] + [f"{key} = {toml_value(value)}"
                                             for key, value in answers.items()]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def injected(key: str, mistake: str) -> dict[str, Any]:
    """Right up to ``key``; ``key`` as the engine computes it with ``mistake``."""
    spec = load_spec("seed")
    truth = true_values(trace_spec(spec).steps[0])
    variant = next(v for v in engine.compute(key, truth, network_of(spec), mistakes=True)
                   if v.mistake == mistake)
    assert distinguishable(variant.value, truth[key])  # else the test could not fail
    return answers_up_to(spec, key, variant.value)


def all_correct() -> dict[str, Any]:
    step = trace_spec(load_spec("seed")).steps[0]
    truth = true_values(step)
    return {key: written(truth[key]) for key in order_of(step)}


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("class")
    answers_file(folder, "a_correct.toml", all_correct())
    for n, (key, mistake) in enumerate(INJECTED):
        answers_file(folder, f"s{n}_{mistake}.toml", injected(key, mistake))
    (folder / "notes.txt").write_text("not an answers file", encoding="utf-8")
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_summary_names_each_first_error_and_mistake(klass: Path) -> None:
    report = grade_folder(klass)
    rows = {s.file: s for s in report.students}
    assert list(rows) == ["a_correct.toml"] + [f"s{n}_{m}.toml" for n, (_, m) in
                                               enumerate(INJECTED)]  # txt skipped, name order
    assert rows["a_correct.toml"].first_error == "" and rows["a_correct.toml"].score == "17/17"
    for n, (key, mistake) in enumerate(INJECTED):
        student = rows[f"s{n}_{mistake}.toml"]
        assert student.status == "graded"
        assert student.first_error == key, student.file
        assert mistake in student.diagnosis.split("+"), (student.file, student.diagnosis)
    assert report.exit_code == 1


def test_common_mistakes_counted_per_quantity(klass: Path) -> None:
    common = grade_folder(klass).common
    # two students made updated_weights at delta1: it leads; every injected pair is counted
    assert (common[0].quantity, common[0].mistake, common[0].count) == ("delta1",
                                                                       "updated_weights", 2)
    pairs = {(c.quantity, c.mistake) for c in common}
    assert set(INJECTED) <= pairs


def test_cli_text_table(klass: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "grade", str(klass))
    assert (code, err) == (1, "")
    line = next(row for row in out.splitlines() if "s2_sign.toml" in row)
    assert "W1_new" in line and "sign" in line
    assert "Most common mistakes" in out
    assert "6 files: 1 all correct, 5 with an error, 0 could not be graded" in out


def test_cli_csv_gradebook(klass: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "gradebook.csv"
    code, _, err = run(capsys, "grade", str(klass), "--format", "csv", "-o", str(out_file))
    assert code == 1 and "wrote" in err
    rows = list(csv.DictReader(io.StringIO(out_file.read_text(encoding="utf-8"))))
    header = list(rows[0])
    step = trace_spec(load_spec("seed")).steps[0]
    assert header == ["file", "status", "score", "correct", "total", "first_error", "diagnosis",
                      *order_of(step)]
    by_file = {row["file"]: row for row in rows}
    assert by_file["s0_updated_weights.toml"]["delta1"] == "delta1:updated_weights"
    assert by_file["s0_updated_weights.toml"]["z1"] == "z1:correct"
    assert by_file["s3_factor_two.toml"]["cost"] == "cost:factor_two"
    assert by_file["a_correct.toml"]["score"] == "17/17"


def test_cli_json_and_feedback(klass: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    feedback = tmp_path / "feedback"
    code, out, err = run(capsys, "grade", str(klass), "--format", "json", "--feedback",
                         str(feedback))
    assert code == 1 and "wrote 6 feedback files" in err
    data = json.loads(out)
    assert data["schema"] == "gradtrace.grade-class/1"
    assert data["summary"] == {"students": 6, "invalid": 0, "all_correct": 1}
    student = next(s for s in data["students"] if s["file"] == "s1_missing_derivative.toml")
    assert student["first_error"] == "delta1"
    assert student["notes"]["delta1"] == "delta1:missing_derivative"
    assert student["report"]["schema"] == "gradtrace.grade/1"
    text = (feedback / "s1_missing_derivative.toml.md").read_text(encoding="utf-8")
    assert "**← first error**" in text and "missing_derivative" in text
    assert sorted(p.name for p in feedback.iterdir()) == sorted(
        s["file"] + ".md" for s in data["students"])


def test_a_bad_file_is_an_invalid_row_and_the_class_is_still_graded(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers_file(tmp_path, "good.toml", injected("W1_new", "sign"))
    (tmp_path / "broken.toml").write_text("spec = [\n", encoding="utf-8")
    answers_file(tmp_path, "typo.toml", {"z11": Decimal("0.21")})
    code, out, err = run(capsys, "grade", str(tmp_path), "--format", "json")
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "2 of 3 answers files could not be graded; first: broken.toml: malformed TOML" in err
    rows = {s["file"]: s for s in json.loads(out)["students"]}
    assert rows["good.toml"]["first_error"] == "W1_new"
    assert rows["good.toml"]["diagnosis"] == "sign"
    assert rows["broken.toml"]["status"] == "invalid" and rows["broken.toml"]["report"] is None
    assert rows["typo.toml"]["status"] == "invalid" and "z1" in rows["typo.toml"]["problem"]


def test_an_unreadable_answer_makes_an_invalid_row_that_still_scores(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = injected("W1_new", "sign")
    answers["z2"] = "abc"  # a string in TOML: not a number
    answers_file(tmp_path, "mixed.toml", {k: (f'"{v}"' if k == "z2" else v)
                                          for k, v in answers.items()})
    code, out, err = run(capsys, "grade", str(tmp_path), "--format", "json")
    assert code == 2 and "first: mixed.toml: z2: " in err
    (row,) = json.loads(out)["students"]
    assert row["status"] == "invalid" and row["problem"].startswith("z2: ")
    assert (row["first_error"], row["diagnosis"]) == ("W1_new", "sign")
    assert row["correct"] == len(answers) - 2


def test_all_correct_class_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers_file(tmp_path, "a.toml", all_correct())
    answers_file(tmp_path, "b.toml", {"z1": [Decimal("0.21"), Decimal("0.315")]})
    code, out, err = run(capsys, "grade", str(tmp_path), "--format", "markdown")
    assert (code, err) == (0, "")
    assert "| b.toml | graded | 1/17 | — | — |" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "csv"], "gradebook for a folder"),
    (["--feedback", "fb"], "--feedback is for a folder"),
])
def test_folder_options_refused_for_one_file(args: list[str], message: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = answers_file(tmp_path, "a.toml", all_correct())
    code, _, err = run(capsys, "grade", str(path), *args)
    assert code == 2 and message in err and err.count("\n") == 1


def test_empty_folder_and_feedback_on_a_file(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "grade", str(tmp_path))
    assert code == 2 and "no answers files" in err
    answers_file(tmp_path, "a.toml", all_correct())
    blocker = tmp_path / "fb.md"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "grade", str(tmp_path), "--feedback", str(blocker))
    assert code == 2 and "is a file; give a folder" in err
