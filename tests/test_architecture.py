"""Dependencies point one way (CONTRIBUTING.md, "The architecture"), checked on the source.

Every pair of parts is covered: each file's imports of gradtrace, lazy ones inside functions
included, must go to a part its own part may use (``MAY_USE``); and no two modules import each
other, directly or round a longer loop.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "gradtrace"

# Leaf modules anyone may use (standard library and numpy only, apart from errors).
SHARED = {"errors", "io", "notation"}
# The parts of gradtrace (a sub-package, or a top-level module) and what each may import besides
# itself and SHARED. The package root (__init__, __main__) is the public face and may use anything.
MAY_USE: dict[str, set[str]] = {
    "core": set(),  # numpy only; not even SHARED, checked below
    "errors": set(),
    "notation": set(),
    "io": set(),
    "trace": {"core"},
    "render": {"trace", "core"},  # no network or backprop: renderers read the trace
    "data": set(),
    "spec": {"core", "examples"},
    "workflow": {"core", "spec", "trace"},
    "grade": {"core", "trace", "spec", "workflow"},  # hand work graded on the engine's numbers
    "checkpoint": {"core", "spec"},  # the model file's format
    "exercise": {"core", "trace", "spec", "workflow", "render", "grade"},  # sheets on grade's engine
    "network": {"core", "spec", "checkpoint", "data", "interop"},  # interop: Network.to_torch
    "interop": {"core", "spec", "trace", "workflow", "data"},  # PyTorch, imported only when called
    "classic": {"core"},
    "examples": set(),
    # the web may use anything but the cli
    # grade: POST /api/grade answers with the same grader as the CLI; exercise: GET /api/exercise
    # makes and tests its exercise as `gradtrace exercise` does
    "web": {"core", "trace", "render", "data", "spec", "workflow", "network", "checkpoint",
            "grade", "exercise"},
    "cli": {"core", "trace", "render", "data", "spec", "workflow", "network", "checkpoint",
            "web", "interop", "grade", "exercise"},
}
RENDER_MUST_NOT = ("gradtrace.core.network", "gradtrace.core.backprop")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """``gradtrace.render.text`` -> ``render``; ``gradtrace.spec`` -> ``spec``; root -> ``""``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 and pieces[1] != "__main__" else ""


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _type_only(tree: ast.Module) -> set[ast.AST]:
    """The nodes under ``if TYPE_CHECKING:``: imports for annotations, never run."""
    return {inner for node in ast.walk(tree) if isinstance(node, ast.If)
            and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            for statement in node.body for inner in ast.walk(statement)}


def imports_of(path: Path, *, runtime: bool = False) -> set[str]:
    """Every gradtrace module a file imports, lazy imports inside functions included.

    ``from gradtrace.trace import json`` counts as importing ``gradtrace.trace.json``. With
    ``runtime``, imports under ``if TYPE_CHECKING:`` are left out (they never run, so they make
    no import cycle; they still count for which part may use which).
    """
    names: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_only(tree) if runtime else set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this file's package
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                names.add(submodule if submodule in MODULES else base)
    return {name for name in names if name == "gradtrace" or name.startswith("gradtrace.")}


def test_every_part_is_classified() -> None:
    parts = {part_of(module) for module in MODULES} - {""}
    assert parts <= set(MAY_USE), f"add {sorted(parts - set(MAY_USE))} to MAY_USE"


@pytest.mark.parametrize("module", list(MODULES))
def test_imports_follow_the_arrows(module: str) -> None:
    part = part_of(module)
    if not part:
        return  # the package root
    allowed = {part} | MAY_USE[part] | (set() if part == "core" else SHARED)
    for name in imports_of(MODULES[module]):
        used = part_of(name)
        assert used in allowed, f"{module} imports {name}: {part} may use only {sorted(allowed)}"
        if part == "render":
            assert not name.startswith(RENDER_MUST_NOT), (
                f"{module} imports {name}: renderers read the trace, they do not compute it")


@pytest.mark.parametrize("path", sorted((PACKAGE / "core").rglob("*.py")), ids=lambda p: p.name)
def test_core_uses_numpy_and_the_standard_library_only(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or top == "numpy" or name.startswith(
                "gradtrace.core"), f"{path.name} imports {name}"


def cycles() -> Iterator[tuple[str, ...]]:
    """Each loop of imports between modules once (a package and its own __init__ excepted)."""
    graph = {module: {name for name in imports_of(path, runtime=True) if name in MODULES and name != module
                      and not module.startswith(name + ".")}
             for module, path in MODULES.items()}
    seen: set[frozenset[str]] = set()

    def visit(start: str, node: str, path: list[str]) -> Iterator[tuple[str, ...]]:
        for nxt in sorted(graph[node]):
            if nxt == start:
                if frozenset(path) not in seen:
                    seen.add(frozenset(path))
                    yield tuple(path)
            elif nxt > start and nxt not in path:  # each loop found from its smallest module
                yield from visit(start, nxt, [*path, nxt])

    for module in sorted(graph):
        yield from visit(module, module, [module])


def test_no_import_cycles_between_modules() -> None:
    loops = list(cycles())
    assert not loops, f"import cycles: {loops}"


def test_every_renderer_takes_its_words_from_the_wording_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rename phases in render/wording.py: every format says the new words."""
    from gradtrace.render import wording
    from gradtrace.render.options import RenderOptions, renderer
    from gradtrace.spec import load_spec
    from gradtrace.workflow import trace_spec

    monkeypatch.setitem(wording.PHASE_TITLES, "cost", "Cost, renamed")
    monkeypatch.setitem(wording.PHASE_CAVEATS, "backward", "caveat, renamed")
    trace = trace_spec(load_spec("seed"))
    for fmt in ("text", "markdown", "latex", "html", "ipynb"):
        output = renderer(fmt)(trace, RenderOptions())
        assert isinstance(output, str) and "Cost, renamed" in output, fmt
    assert "Backpropagation (caveat, renamed)" in renderer("text")(trace, RenderOptions())
