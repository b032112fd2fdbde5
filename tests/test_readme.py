"""Every command and Python example in the README runs (typer and pydantic test their docs too)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
# Long-running or interactive commands are tested in their own modules.
SKIP = ("gradtrace serve",)


def blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def commands() -> list[str]:
    found = []
    for block in blocks("console"):
        for line in block.splitlines():
            if line.startswith("$ gradtrace") and not line.startswith(SKIP):
                found.append(line.removeprefix("$ "))
    return found


def test_readme_has_commands() -> None:
    assert any(command.startswith("gradtrace step") for command in commands())


@pytest.mark.parametrize("command", commands())
def test_readme_command_runs(command: str, tmp_path: Path) -> None:
    args = shlex.split(command)[1:]
    result = subprocess.run([sys.executable, "-m", "gradtrace", *args], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("source", blocks("python"))
def test_readme_python_runs(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(source, str(README), "exec"), {})
