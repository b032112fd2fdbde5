"""Start-up stays light: which modules each command loads (behaviour, not timing), and the lazy
command table agrees with the commands themselves. Timing is benchmarks/bench_startup.py's job."""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradtrace.cli.app import COMMANDS, load_command

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("fastapi", "uvicorn", "matplotlib", "torch", "sklearn")

# Runs the CLI in-process and prints the top-level packages it loaded, as JSON on stderr's last line.
PROBE = """
import contextlib, io, json, sys
from gradtrace.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def loaded_by(*args: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "100", "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, result.stderr
    return set(report["modules"])


def test_help_loads_neither_the_engine_nor_the_server() -> None:
    loaded = loaded_by("--help")
    assert not loaded & {*HEAVY, "numpy", "pydantic"}, loaded & {*HEAVY, "numpy", "pydantic"}


def test_step_loads_no_server_no_plotting() -> None:
    loaded = loaded_by("step")
    assert "numpy" in loaded and "pydantic" in loaded  # the probe really ran the step
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert "yaml" not in loaded  # only a YAML spec needs PyYAML


def test_a_yaml_spec_still_loads_pyyaml_when_it_needs_it(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(("sizes: [2, 2, 1]\nactivations: [sigmoid, sigmoid]\nseed: 1\n"
                    "data: {input: [[0, 1]], target: [[1]]}\n"), encoding="utf-8")
    assert "yaml" in loaded_by("step", str(spec))


PLUGINS_PROBE = """
import contextlib, io, os, sys
from gradtrace.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["step"])
print(os.environ.get("PYDANTIC_DISABLE_PLUGINS"))
"""


@pytest.mark.parametrize(("setting", "expected"), [(None, "__all__"), ("logfire", "logfire")])
def test_the_cli_skips_pydantic_plugin_discovery_unless_the_user_says(setting: str | None,
                                                                       expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if setting is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = setting
    result = subprocess.run([sys.executable, "-c", PLUGINS_PROBE], capture_output=True, text=True,
                            env={**env, "PYTHONPATH": str(SRC)}, timeout=120)
    assert result.stdout.split()[-1] == expected, result.stderr


def test_import_gradtrace_is_light_and_its_names_still_work() -> None:
    code = ("import sys, gradtrace; light = not {'numpy', 'pydantic', 'rich'} & set(sys.modules); "
            "from gradtrace import Network, Trace; print(light, Network.__name__, Trace.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(SRC)})
    assert result.stdout.split() == ["True", "Network", "Trace"], result.stderr


def registered_commands(path: Path) -> set[str]:
    """Names of the functions a cli module decorates with ``@app.command(...)``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr == "command":
                    names.add(node.name.replace("_", "-"))
    return names


def test_the_lazy_table_lists_every_command_in_its_module() -> None:
    found = {name: f"gradtrace.cli.{path.stem}" for path in sorted((SRC / "gradtrace" / "cli").glob("*.py"))
             for name in registered_commands(path)}
    assert found == {name: entry.module for name, entry in COMMANDS.items()}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_summary_is_the_first_line_of_the_commands_own_help(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    first_paragraph = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")
    assert first_paragraph == COMMANDS[name].summary


def test_bare_command_prints_the_help_once() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "100", "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-m", "gradtrace"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0 and result.stdout.count("Usage: gradtrace") == 1


def test_a_command_runs_through_the_lazy_group_with_its_own_help() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "100", "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-m", "gradtrace", "draw", "--help"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 0 and "--show" in result.stdout and "--precision" in result.stdout
