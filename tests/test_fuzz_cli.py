"""Fuzzing ``gradtrace step`` and ``check`` with mutated built-in examples.

Hypothesis replaces one value of a shipped example spec (wrong types, NaN strings, huge numbers,
negative sizes, unknown names, deep nesting, long strings), deletes a field or adds one, writes
the result as JSON or YAML and runs the command. Whatever the spec, the command must exit 0 or 2
(1 allowed for check), print exactly one line on stderr when it fails, never a traceback, and
stay within a time and memory bound. Most runs are in-process (fast); a few go through a real
subprocess under an address-space limit.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import subprocess
import sys
import time
import tomllib
import tracemalloc
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradtrace.cli import main
from test_cli_errors import _env

EXAMPLES = {
    path.name: tomllib.loads(path.read_text(encoding="utf-8"))
    for path in resources.files("gradtrace.examples").iterdir() if path.name.endswith(".toml")
}
SECONDS = 10.0  # per run; the examples take well under a second
PEAK_BYTES = 200 * 2**20


def _nested(depth: int) -> Any:
    value: Any = 1.0
    for _ in range(depth):
        value = [value]
    return value


WRONG_VALUES = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-inf", "", "sigmoid", "bogus", "float16", "adamw"]),
    st.sampled_from([0, -1, -5, 1, 2, 10**5, 10**9, 10**400, 1e308, -1e308, 1e-320, 0.5, True]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([[], {}, [[]], [None], None, {"x": 1}, [[1.0, 2.0], [3.0]], [-1, 0, 1]]),
    st.builds(_nested, st.sampled_from([3, 70, 300])),  # writers recurse: keep it writable
    st.text(max_size=20),
    st.builds(lambda n: "x" * n, st.sampled_from([100, 100_000])),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a spec a value can be replaced: keys of tables, indices of lists."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated_specs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(EXAMPLES)))
    spec = json.loads(json.dumps(EXAMPLES[name]))  # a deep copy
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(spec)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = spec
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["colour", "weight", "k" * 300, "layer"]))] = 1
        else:
            parent[path[-1]] = draw(WRONG_VALUES)
    return name, spec


def _write(folder: Path, spec: dict[str, Any], fmt: str) -> Path:
    path = folder / f"spec.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(spec), encoding="utf-8")
    else:
        try:
            text = yaml.safe_dump(spec, allow_unicode=True)
        except RecursionError:  # PyYAML's writer recurses; JSON is YAML's flow style too
            text = json.dumps(spec)
        path.write_text(text, encoding="utf-8")
    return path


def _assert_clean(code: int, stderr: str, command: str, seconds: float) -> None:
    assert "Traceback" not in stderr, stderr
    allowed = {0, 1, 2} if command == "check" else {0, 2}
    assert code in allowed, (code, stderr[:500])
    if code != 0:
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("gradtrace: error: "), stderr[:500]
        assert len(lines[0]) < 500, lines[0][:500]
    assert seconds < SECONDS


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated_specs(), fmt=st.sampled_from(["json", "yaml"]),
       command=st.sampled_from(["step", "check"]))
def test_mutated_examples_exit_cleanly_in_process(tmp_path_factory: pytest.TempPathFactory,
                                                  case: tuple[str, dict[str, Any]], fmt: str,
                                                  command: str) -> None:
    path = _write(tmp_path_factory.mktemp("fuzz"), case[1], fmt)
    stdout, stderr = io.StringIO(), io.StringIO()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main([command, str(path), *(["--format", "json"] if command == "step" else [])])
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _assert_clean(code, stderr.getvalue(), command, seconds)
    assert peak < PEAK_BYTES, f"{peak / 2**20:.0f} MiB"


# A handful through the real program: a fixed few mutations, under a 2 GiB address-space cap.
SUBPROCESS_CASES: list[tuple[str, str, Any]] = [
    ("seed.toml", "learning_rate", "nan"),
    ("xor.toml", "sizes", [2, -3, 1]),
    ("softmax.toml", "data", _nested(900)),
    ("mattmazur.toml", "loss", "x" * 100_000),
    ("xor.toml", "seed", 10**400),
]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


@pytest.mark.parametrize(("example", "field", "value"), SUBPROCESS_CASES,
                         ids=[f"{e}-{f}" for e, f, _ in SUBPROCESS_CASES])
def test_mutated_examples_exit_cleanly_in_a_subprocess(tmp_path: Path, example: str, field: str,
                                                       value: Any) -> None:
    spec = json.loads(json.dumps(EXAMPLES[example]))
    spec[field] = value
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "gradtrace", "step", str(path)],
                            capture_output=True, text=True, env=_env(), timeout=60, check=False,
                            preexec_fn=_limit_memory)
    seconds = time.perf_counter() - started
    assert result.returncode == 2, result.stderr[:500]
    _assert_clean(result.returncode, result.stderr, "step", seconds)
