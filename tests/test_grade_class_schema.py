"""``gradtrace grade FOLDER --format json`` matches the shipped gradtrace.grade-class/1 schema.

Real output (a CLI run on a folder holding a correct, a wrong, a carried and an unreadable
answers file) is validated with jsonschema, each student's report against grade-1.schema.json.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gradtrace.cli import main


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        resources.files("gradtrace.grade").joinpath(name).read_text("utf-8"))
    return loaded


def _validator() -> jsonschema.protocols.Validator:
    schema = _schema("grade-class-1.schema.json")
    return jsonschema.validators.validator_for(schema)(schema)


def test_folder_json_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "alice.toml").write_text('spec = "seed"\n[answers]\nz1 = [0.21, 0.315]\n')
    (folder / "bob.toml").write_text('spec = "seed"\n[answers]\ncost = 0.0272\n')  # factor_two
    (folder / "carol.toml").write_text(
        'spec = "seed"\n[answers]\nz1 = [0.25, 0.315]\na1 = [0.5622, 0.5781]\n')  # carried
    (folder / "dave.toml").write_text('spec = "seed"\n[answers\n')  # not TOML
    out = tmp_path / "class.json"
    assert main(["grade", str(folder), "--format", "json", "-o", str(out)]) == 2
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == "gradtrace.grade-class/1"
    _validator().validate(data)
    reports = [s["report"] for s in data["students"] if s["report"] is not None]
    assert len(reports) == 3
    for report in reports:  # each student's own report, against its own schema
        jsonschema.validate(report, _schema("grade-1.schema.json"))
    statuses = {s["file"]: (s["status"], s["diagnosis"]) for s in data["students"]}
    assert statuses["bob.toml"] == ("graded", "factor_two")
    assert statuses["carol.toml"][1] == "unknown"  # z1 is wrong; a1 then carried from it
    assert statuses["dave.toml"][0] == "invalid"
    assert {"quantity": "cost", "mistake": "factor_two", "count": 1} in data["common_mistakes"]


def test_the_schema_refuses_what_it_should() -> None:
    good = {"schema": "gradtrace.grade-class/1", "folder": "a", "summary": {
        "students": 0, "invalid": 0, "all_correct": 0}, "common_mistakes": [], "students": []}
    _validator().validate(good)
    for bad in ({**good, "schema": "gradtrace.grade/1"}, {**good, "extra": 1},
                {**good, "common_mistakes": [{"quantity": "z1", "mistake": "sign", "count": 0}]}):
        with pytest.raises(jsonschema.ValidationError):
            _validator().validate(bad)
