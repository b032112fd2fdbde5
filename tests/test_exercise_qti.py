"""``gradtrace exercise --format qti``: a QTI 1.2 content package, checked structurally.

No QTI XSD is available offline, so the test reads the package with zipfile and xml.etree and
checks what Canvas's importer reads: the manifest names the assessment file; every item has an
ident, a title, numerical_question metadata, a presentation with response_str/render_fib, and
resprocessing whose vargte/varlte bounds hold the exact value and every answer ``gradtrace grade``
accepts at the sheet's decimals, and leave out every catalogued mistake's value (oracle: the grade
engine's own mistake catalogue).
"""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest

from gradtrace.cli import main
from gradtrace.exercise import make_variants, qti
from gradtrace.grade import engine
from gradtrace.grade.judge import network_of
from gradtrace.grade.keys import true_values
from gradtrace.workflow import trace_spec

Q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
M = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"


def _quizzes(tmp_path: Path, *options: str) -> tuple[zipfile.ZipFile, list[ET.Element]]:
    """The package's assessments, one per variant, each listed in the manifest."""
    path = tmp_path / "quiz.zip"
    assert main(["exercise", "-f", "qti", "-o", str(path), *options]) == 0
    archive = zipfile.ZipFile(path)
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    hrefs = []
    for resource in manifest.iter(f"{M}resource"):
        assert resource.get("type") == "imsqti_xmlv1p2"
        (href,) = [f.get("href") for f in resource.iter(f"{M}file")]
        assert href is not None
        hrefs.append(href)
    assert sorted(archive.namelist()) == sorted(["imsmanifest.xml", *hrefs])
    return archive, [ET.fromstring(archive.read(href)) for href in hrefs]


def _package(tmp_path: Path, *options: str) -> tuple[zipfile.ZipFile, ET.Element]:
    archive, (assessment,) = _quizzes(tmp_path, *options)
    return archive, assessment


def _bounds(item: ET.Element) -> tuple[Decimal, Decimal]:
    (condition,) = item.iter(f"{Q}conditionvar")
    low, high = condition.find(f"{Q}vargte"), condition.find(f"{Q}varlte")
    assert low is not None and high is not None and low.text and high.text
    assert low.get("respident") == high.get("respident") == "response1"
    return Decimal(low.text), Decimal(high.text)


def _entries(value: np.ndarray) -> dict[str, float]:
    """label -> entry, as the sheet labels them (column view: out_in)."""
    if value.ndim == 0:
        return {"": float(value)}
    return {(f"[{r + c + 1}]" if 1 in value.shape else f"[{r + 1},{c + 1}]"): float(x)
            for (r, c), x in np.ndenumerate(value)}


def test_items_are_numerical_questions_with_the_graders_tolerance(tmp_path: Path) -> None:
    _, assessment = _package(tmp_path, "--seed", "3", "--decimals", "4")
    (variant,) = make_variants(3, decimals=4)
    step = trace_spec(variant.spec, steps=1).steps[0]
    truth, net = true_values(step), network_of(variant.spec)
    items = list(assessment.iter(f"{Q}item"))
    assert [item.get("title") for item in items][:3] == ["z1[1]", "z1[2]", "a1[1]"]
    assert len({item.get("ident") for item in items}) == len(items)  # idents unique
    excluded_from = 0
    for item in items:
        assert item.get("ident") and item.get("title")
        fields = {f.findtext(f"{Q}fieldlabel"): f.findtext(f"{Q}fieldentry")
                  for f in item.iter(f"{Q}qtimetadatafield")}
        assert fields["question_type"] == "numerical_question"
        presentation = item.find(f"{Q}presentation")
        assert presentation is not None
        fib = presentation.find(f"{Q}response_str/{Q}render_fib")
        assert fib is not None and fib.get("fibtype") == "Decimal"
        text = presentation.findtext(f"{Q}material/{Q}mattext") or ""
        assert "input x = (0.31, 0.89)" in text and "-0.35, 0.7" in text  # the givens in the item
        title = item.get("title") or ""
        key, _, index = title.partition("[")
        right = _entries(np.asarray(truth[key]))["[" + index if index else ""]
        low, high = _bounds(item)
        t = Decimal("0.00005")  # half a unit of the 4th decimal, as grade judges
        assert low <= Decimal(right) - t and Decimal(right) + t <= high
        assert high - low < Decimal("0.0001") + Decimal("0.000001")
        assert low <= Decimal(f"{right:.4f}") <= high  # the rounded answer scores
        # every catalogued mistake that moves this entry by more than one unit is outside
        for mistaken in engine.compute(key, truth, net, mistakes=True)[1:]:
            if mistaken.value.shape != np.shape(truth[key]):
                continue
            wrong = _entries(mistaken.value)["[" + index if index else ""]
            if abs(wrong - right) > 1e-4:
                assert not low <= Decimal(wrong) <= high, (title, mistaken)
                excluded_from += 1
    assert excluded_from > 40


def test_the_package_is_deterministic_and_one_quiz_per_variant(tmp_path: Path) -> None:
    first, quizzes = _quizzes(tmp_path, "--seed", "5", "--count", "2")
    data = (tmp_path / "quiz.zip").read_bytes()
    _quizzes(tmp_path, "--seed", "5", "--count", "2")
    assert (tmp_path / "quiz.zip").read_bytes() == data  # same bytes: no dates, fixed order
    # each variant its own quiz (Canvas imports each assessment as one): a student gets one
    variants = make_variants(5, count=2)
    titles = [quiz.find(f"{Q}assessment").get("title") for quiz in quizzes]  # type: ignore[union-attr]
    assert titles == [f"gradtrace exercise {v.number} (seed {v.seed})" for v in variants]
    for quiz in quizzes:
        assert len(quiz.findall(f"{Q}assessment/{Q}section")) == 1
    idents = [item.get("ident") for quiz in quizzes for item in quiz.iter(f"{Q}item")]
    assert len(set(idents)) == len(idents)  # unique across the package
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in first.infolist())


def test_row_view_items_are_labelled_as_printed(tmp_path: Path) -> None:
    _, assessment = _package(tmp_path, "--seed", "3", "--sizes", "3,2,1", "--layout", "in_out",
                             "--ask", "update")
    titles = [item.get("title") for item in assessment.iter(f"{Q}item")]
    assert "W1_new[3,2]" in titles and "W1_new[2,3]" not in titles  # rows are the 3 inputs


def test_bounds_round_outward() -> None:
    low, high = qti.bounds(0.1 + 0.2, 2)  # 0.30000000000000004
    assert (low, high) == (Decimal("0.295000"), Decimal("0.305001"))
    assert qti.tolerance(3) == Decimal("0.0005")


def test_qti_refuses_a_key_and_replaces_its_own_package(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exercise", "-f", "qti", "-o", str(tmp_path / "q.zip"), "--key",
                 str(tmp_path / "k.md")]) == 2
    assert "a quiz holds no worked key" in capsys.readouterr().err
    assert not (tmp_path / "q.zip").exists()
    assert main(["exercise", "-f", "qti", "-o", str(tmp_path / "q.zip")]) == 0
    assert main(["exercise", "-f", "qti", "-o", str(tmp_path / "q.zip")]) == 0  # its own kind
    (tmp_path / "other.zip").write_bytes(b"PK\x03\x04 not a quiz")
    assert main(["exercise", "-f", "qti", "-o", str(tmp_path / "other.zip")]) == 2
