"""Datasets: seeded generators, the scikit-learn extras, and every CSV error case."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gradtrace.data import (
    GENERATORS,
    CSVError,
    MissingExtraError,
    dataset_names,
    load_csv,
    load_dataset,
    load_features,
)
from gradtrace.errors import DataError, GradtraceError


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_seeded_balanced_and_2d(name: str) -> None:
    a, b, c = (load_dataset(name, n=300, seed=s) for s in (1, 1, 2))
    assert a.X.shape == (300, 2) and a.y.shape == (300,)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    counts = np.bincount(a.y)
    assert counts.min() >= 0.3 * counts.max()
    assert a.is_classification and a.targets().shape == (300, a.n_outputs)


def test_noise_zero_gives_exact_shapes() -> None:
    circles = load_dataset("circles", n=100, noise=0.0)
    radius = np.hypot(circles.X[:, 0], circles.X[:, 1])
    np.testing.assert_allclose(radius[circles.y == 0], 1.0)
    np.testing.assert_allclose(radius[circles.y == 1], 0.5)
    xor = load_dataset("xor", n=100, noise=0.0)
    np.testing.assert_array_equal(xor.y, (xor.X[:, 0] * xor.X[:, 1] < 0).astype(int))


def test_unknown_dataset_suggests_a_name() -> None:
    with pytest.raises(DataError, match="did you mean 'circles'"):
        load_dataset("circels")
    assert {"iris", "digits", "xor"} <= set(dataset_names())


def test_iris_and_digits_from_scikit_learn() -> None:
    pytest.importorskip("sklearn")
    iris = load_dataset("iris")
    assert iris.X.shape == (150, 4) and iris.class_names == ["setosa", "versicolor", "virginica"]
    digits = load_dataset("digits")
    assert digits.X.shape == (1797, 64) and digits.X.max() == 1.0


def test_without_scikit_learn_the_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_sklearn(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(MissingExtraError, match=r"pip install gradtrace\[datasets\]") as caught:
        load_dataset("iris")
    assert isinstance(caught.value, GradtraceError)


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_text_classes_and_target_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, "kind,a,b\ncat,1,2\ndog,3,4.5\n\ncat,-1,1e-3\n")
    data = load_csv(path, target="kind")
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4.5], [-1, 1e-3]])
    assert data.class_names == ["cat", "dog"] and list(data.y) == [0, 1, 0]
    assert data.feature_names == ["a", "b"] and data.target_name == "kind"
    np.testing.assert_array_equal(data.targets(), [[1, 0], [0, 1], [1, 0]])


def test_csv_target_by_index_numbers_and_regression(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,y\n1,2,0.5\n3,4,1.5\n")
    assert load_csv(path).class_names is None  # fractional targets: regression
    np.testing.assert_array_equal(load_csv(path).targets(), [[0.5], [1.5]])
    by_index = load_csv(path, target=0)
    assert by_index.target_name == "a" and by_index.class_names == ["1", "3"]
    assert load_csv(path, target=-1).target_name == "y"
    assert load_csv(path, target="y", classes=True).class_names == ["0.5", "1.5"]


def test_csv_without_header_and_standardisation(tmp_path: Path) -> None:
    path = write(tmp_path, "1,10,0\n3,10,1\n5,10,0\n")
    data = load_csv(path, header=False, standardize=True)
    assert data.feature_names == ["column_1", "column_2"]
    np.testing.assert_allclose(data.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(data.X[:, 0].std(), 1.0)
    np.testing.assert_array_equal(data.X[:, 1], 0.0)  # a constant column stays finite
    assert data.mean is not None and data.mean[1] == 10.0


@pytest.mark.parametrize(("text", "kwargs", "message"), [
    ("", {}, "data.csv: the file is empty"),
    ("a,b,y\n", {}, "data.csv, line 1: no data rows after the header"),
    ("a,b,y\n1,2,0\n1,2\n", {}, "data.csv, line 3: this row has 2 fields but the header has 3"),
    ("a,b,y\n1,2,0\n1,2,0,9\n", {}, "line 3: this row has 4 fields"),
    ("a,b,y\n1,2,0\n1,oops,1\n", {}, "data.csv, line 3, column 2 ('b'): 'oops' is not a finite"),
    ("a,b,y\n1,,0\n", {}, "line 2, column 2 ('b'): an empty value is not a finite number"),
    ("a,b,y\n1,nan,0\n", {}, "line 2, column 2 ('b'): 'nan' is not a finite number"),
    ("a,b,y\n1,2,\n", {}, "line 2, column 3 ('y'): an empty target"),
    ("a,b,y\n1,2,x\n", {"classes": False}, "line 2, column 3 ('y'): 'x' is not a finite number"),
    ("a,b,y\n1,2,0\n", {"target": "z"}, "data.csv, line 1: unknown target column 'z'"),
    ("a,b,label\n1,2,0\n", {"target": "lable"}, "did you mean 'label'"),
    ("a,b,y\n1,2,0\n", {"target": 5}, "target column index 5 is out of range"),
    ("abc\n1\n", {}, "line 1: found 1 column"),
    ('a,b,y\n1,"2,0\n', {}, "data.csv"),
])
def test_csv_errors_name_file_line_and_column(tmp_path: Path, text: str, kwargs: dict[str, Any],
                                              message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CSVError) as caught:
        load_csv(path, **kwargs)
    assert message in str(caught.value)
    assert isinstance(caught.value, DataError) and "\n" not in str(caught.value)


def test_csv_file_problems(tmp_path: Path) -> None:
    with pytest.raises(CSVError, match="no such file"):
        load_csv(tmp_path / "missing.csv")
    (tmp_path / "latin.csv").write_bytes(b"a,b,y\n1,\xe9,0\n")
    with pytest.raises(CSVError, match="not UTF-8"):
        load_csv(tmp_path / "latin.csv")


def test_features_for_prediction(tmp_path: Path) -> None:
    path = write(tmp_path, "b,y,a\n2,0,1\n4,1,3\n")
    X, names = load_features(path, ["a", "b"])
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert names == ["a", "b"]
    with pytest.raises(CSVError, match="lacks c"):
        load_features(path, ["a", "c"])
    with pytest.raises(CSVError, match=r"line 2, column 1 \('b'\)"):
        load_features(write(tmp_path, "b,a\n?,1\n"), ["a", "b"])
