"""The sheet as an online quiz: a QTI 1.2 content package (Canvas's "QTI .zip file" import).

One numerical item per entry of every asked quantity (z1[1], z1[2], ..., cost), in step order,
each with the variant's given numbers in its text. An answer scores when it lies in
[v − t, v + t] around the exact value v, t = ½·10⁻ᵈ at the sheet's d decimals: the tolerance
``gradtrace grade`` gives a number written to d decimals. The bounds are written to d + 4
decimals, rounded outward, so they always contain [v − t, v + t]; every catalogued mistake that
moves an entry by more than 10⁻ᵈ (the variant check guarantees one per quantity) falls outside.

The package is ``imsmanifest.xml`` plus one assessment ``<ident>_vN/<ident>_vN.xml`` per variant:
Canvas imports each as its own quiz, so each student (or group) is assigned one variant rather
than every student seeing all of them. Its bytes depend only on the variants (fixed zip dates,
sorted attributes).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from xml.etree import ElementTree as ET

import numpy as np

from gradtrace.exercise import sheet
from gradtrace.exercise.variants import Variant
from gradtrace.grade.keys import exact_value

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
MANIFEST_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: no build time in the bytes
EXTRA_DECIMALS = 4  # the bounds' digits beyond the sheet's


@dataclass(frozen=True)
class Question:
    """One entry to compute: its label as printed (z1[2], W1_new[1,2], cost) and exact value."""

    label: str
    value: float


def tolerance(decimals: int) -> Decimal:
    """Half a unit of the sheet's last decimal: what ``gradtrace grade`` allows an answer."""
    return Decimal(5) * Decimal(10) ** -(decimals + 1)


def bounds(value: float, decimals: int) -> tuple[Decimal, Decimal]:
    """[v − t, v + t] widened outward to d + 4 decimals (so it holds every answer grade accepts)."""
    exact, t = Decimal(value), tolerance(decimals)
    step = Decimal(10) ** -(decimals + EXTRA_DECIMALS)
    return ((exact - t).quantize(step, ROUND_FLOOR), (exact + t).quantize(step, ROUND_CEILING))


def questions(variant: Variant, ask: str) -> Iterator[Question]:
    """Every entry of every asked quantity, in step order, labelled as the key prints it."""
    step = sheet.trace_of(variant).steps[0]
    row_view = step.network.weights_layout == "in_out"
    for blank in sheet.blanks(variant, ask):
        value = np.asarray(exact_value(step, blank.key), dtype=np.float64)
        if value.ndim == 0:
            yield Question(blank.key, float(value))
            continue
        shown = value.T if row_view else value  # as printed: the row view's transpose
        for (row, column), entry in np.ndenumerate(shown):
            index = f"{row + column + 1}" if 1 in shown.shape else f"{row + 1},{column + 1}"
            yield Question(f"{blank.key}[{index}]", float(entry))


def package(variants: Sequence[Variant], ask: str, decimals: int) -> bytes:
    """The QTI 1.2 content package (zip bytes) of every variant's questions."""
    base = f"gradtrace_exercise_{variants[0].seed}"
    quizzes = {f"{base}_v{variant.number}": variant for variant in variants}
    files = {"imsmanifest.xml": _manifest(list(quizzes))}
    for ident, variant in quizzes.items():
        files[f"{ident}/{ident}.xml"] = _assessment(ident, variant, ask, decimals)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _manifest(idents: list[str]) -> bytes:
    root = ET.Element("manifest", {"identifier": f"{idents[0]}_manifest", "xmlns": MANIFEST_NS})
    metadata = ET.SubElement(root, "metadata")
    ET.SubElement(metadata, "schema").text = "IMS Content"
    ET.SubElement(metadata, "schemaversion").text = "1.1.3"
    ET.SubElement(root, "organizations")
    resources = ET.SubElement(root, "resources")
    for ident in idents:
        resource = ET.SubElement(resources, "resource", {"identifier": ident,
                                                         "type": "imsqti_xmlv1p2"})
        ET.SubElement(resource, "file", {"href": f"{ident}/{ident}.xml"})
    return _xml(root)


def _assessment(ident: str, variant: Variant, ask: str, decimals: int) -> bytes:
    root = ET.Element("questestinterop", {"xmlns": QTI_NS})
    title = f"gradtrace exercise {variant.number} (seed {variant.seed})"
    assessment = ET.SubElement(root, "assessment", {"ident": ident, "title": title})
    _fields(ET.SubElement(assessment, "qtimetadata"), {"cc_maxattempts": "1"})
    section = ET.SubElement(assessment, "section", {
        "ident": f"{ident}_s", "title": f"Exercise {variant.number}"})
    givens = sheet.givens_html(variant)
    for k, question in enumerate(questions(variant, ask), start=1):
        _item(section, f"{ident}_q{k}", question, givens, decimals)
    return _xml(root)


def _fields(parent: ET.Element, fields: dict[str, str]) -> None:
    for label, entry in fields.items():
        field = ET.SubElement(parent, "qtimetadatafield")
        ET.SubElement(field, "fieldlabel").text = label
        ET.SubElement(field, "fieldentry").text = entry


def _item(section: ET.Element, ident: str, question: Question, givens: str, decimals: int) -> None:
    item = ET.SubElement(section, "item", {"ident": ident, "title": question.label})
    _fields(ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata"), {
        "question_type": "numerical_question", "points_possible": "1",
        "original_answer_ids": f"{ident}_a", "assessment_question_identifierref": f"{ident}_ref"})
    presentation = ET.SubElement(item, "presentation")
    ET.SubElement(ET.SubElement(presentation, "material"), "mattext", {
        "texttype": "text/html"}).text = (
            f"{givens}<p>What is <code>{question.label}</code>? Give it to {decimals} decimals.</p>")
    response = ET.SubElement(presentation, "response_str", {"ident": "response1",
                                                            "rcardinality": "Single"})
    ET.SubElement(ET.SubElement(response, "render_fib", {"fibtype": "Decimal"}),
                  "response_label", {"ident": f"{ident}_a"})
    processing = ET.SubElement(item, "resprocessing")
    ET.SubElement(ET.SubElement(processing, "outcomes"), "decvar", {
        "maxvalue": "100", "minvalue": "0", "varname": "SCORE", "vartype": "Decimal"})
    condition = ET.SubElement(processing, "respcondition", {"continue": "No"})
    test = ET.SubElement(condition, "conditionvar")
    low, high = bounds(question.value, decimals)
    ET.SubElement(test, "vargte", {"respident": "response1"}).text = str(low)
    ET.SubElement(test, "varlte", {"respident": "response1"}).text = str(high)
    ET.SubElement(condition, "setvar", {"action": "Set", "varname": "SCORE"}).text = "100"
