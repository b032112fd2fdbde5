"""Dependencies point one way: core -> trace -> render/cli/web (STYLE.md), checked on the source."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "gradtrace"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, lazy imports inside functions included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def files(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", files("core"), ids=lambda p: p.name)
def test_core_uses_numpy_and_the_standard_library_only(path: Path) -> None:
    for name in imports_of(path):
        top = name.split(".")[0]
        allowed = top in sys.stdlib_module_names or top == "numpy" or name.startswith("gradtrace.core")
        assert allowed, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", files("trace"), ids=lambda p: p.name)
def test_trace_does_not_import_renderers_cli_or_web(path: Path) -> None:
    for name in imports_of(path):
        assert not name.startswith(("gradtrace.render", "gradtrace.cli", "gradtrace.web")), name


@pytest.mark.parametrize("path", files("render") + files("web"), ids=lambda p: p.name)
def test_renderers_and_web_do_not_import_the_cli(path: Path) -> None:
    for name in imports_of(path):
        assert not name.startswith("gradtrace.cli"), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", files("render"), ids=lambda p: p.name)
def test_renderers_do_no_backprop(path: Path) -> None:
    for name in imports_of(path):
        assert not name.startswith(("gradtrace.core.network", "gradtrace.core.backprop")), (
            f"{path.name} imports {name}: renderers read the trace, they do not compute it"
        )
