"""Start-up stays light: which modules each command loads (behaviour, not timing), and the lazy
command table agrees with the commands themselves. Timing is benchmarks/bench_startup.py's job."""

from __future__ import annotations

import ast
import contextlib
import gc
import inspect
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gradtrace.cli.app import COMMANDS, load_command
from gradtrace.cli.step import stdout_is_plain
from gradtrace.render import text as text_renderer
from gradtrace.render.options import RenderOptions
from gradtrace.spec import example_names, load_spec
from gradtrace.trace.model import Trace
from gradtrace.workflow import trace_spec

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("fastapi", "uvicorn", "matplotlib", "torch", "sklearn")

# Runs the CLI in-process and prints the modules it loaded, as JSON on stdout's last line.
PROBE = """
import contextlib, io, json, sys
from gradtrace.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded_by_module(*args: str) -> set[str]:
    """Every module the CLI loaded running ``gradtrace ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "100", "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, result.stderr
    return set(report["modules"])


def loaded_by(*args: str) -> set[str]:
    """The top-level packages the CLI loaded running ``gradtrace ARGS``."""
    return {name.split(".")[0] for name in loaded_by_module(*args)}


def test_help_loads_neither_the_engine_nor_the_server() -> None:
    loaded = loaded_by("--help")
    assert not loaded & {*HEAVY, "numpy", "pydantic"}, loaded & {*HEAVY, "numpy", "pydantic"}
    modules = loaded_by_module("--help")
    commands = {entry.module for entry in COMMANDS.values()} | {"gradtrace.spec", "gradtrace.core"}
    assert not modules & commands, modules & commands  # the summaries come from the lazy table


def test_step_loads_no_server_no_plotting() -> None:
    loaded = loaded_by("step")
    assert "numpy" in loaded and "pydantic" in loaded  # the probe really ran the step
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert "yaml" not in loaded  # only a YAML spec needs PyYAML
    # plain text into a pipe or file is laid out without rich (the probe's stdout is no terminal)
    assert "rich" not in loaded


def test_step_loads_no_other_commands_module_nor_other_formats() -> None:
    loaded = loaded_by_module("step")
    others = {entry.module for entry in COMMANDS.values()} - {COMMANDS["step"].module}
    assert not loaded & others, loaded & others
    formats = {"gradtrace.render.json_format", "gradtrace.render.markdown", "gradtrace.render.latex",
               "gradtrace.render.html", "gradtrace.render.ipynb", "gradtrace.render.pdf",
               "gradtrace.trace.json", "gradtrace.web"}
    assert not loaded & formats, loaded & formats
    assert "numpy.random" not in loaded  # the seed brings its weights: nothing to draw


def test_a_spec_without_weights_still_draws_them() -> None:
    assert "numpy.random" in loaded_by_module("step", "xor")


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


@pytest.mark.parametrize(("setting", "expected"), [(None, "None"), ("logfire", "logfire")])
def test_the_cli_leaves_the_users_pydantic_plugins_alone(setting: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if setting is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = setting
    result = subprocess.run([sys.executable, "-c", PLUGINS_PROBE], capture_output=True, text=True,
                            env={**env, "PYTHONPATH": str(SRC)}, timeout=120)
    assert result.stdout.split()[-1] == expected, result.stderr


def test_a_users_pydantic_plugin_still_sees_the_spec_validated(tmp_path: Path) -> None:
    """An installed plugin (an entry point in group ``pydantic``) is loaded and called while the
    spec is validated: start-up work must not switch users' plugins off."""
    (tmp_path / "spy_plugin.py").write_text(
        "import sys\n"
        "class Plugin:\n"
        "    def new_schema_validator(self, schema, schema_type, *args, **kwargs):\n"
        "        if getattr(schema_type, '__name__', '') == 'Spec':\n"
        "            print('plugin saw Spec', file=sys.stderr)\n"
        "        return None, None, None\n"
        "plugin = Plugin()\n", encoding="utf-8")
    info = tmp_path / "spy_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: spy-plugin\nVersion: 1.0\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text("[pydantic]\nspy = spy_plugin:plugin\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    result = subprocess.run([sys.executable, "-m", "gradtrace", "step"], capture_output=True,
                            text=True, env={**env, "PYTHONPATH": f"{SRC}{os.pathsep}{tmp_path}"},
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "plugin saw Spec" in result.stderr


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


# --- plain text without rich: the same characters rich prints, proven against rich itself ---

def rich_plain(trace: Trace, options: RenderOptions, emoji: bool) -> str:
    """The trace as a colourless rich Console prints it (what ``render`` must reproduce)."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=options.width, color_system=None, force_terminal=False,
                      highlight=False, emoji=emoji, legacy_windows=False, soft_wrap=False)
    text_renderer.write(trace, console, options)
    return buffer.getvalue()


@pytest.mark.parametrize("name", [*example_names(), "rounded"])
def test_plain_text_is_exactly_what_rich_prints(name: str) -> None:
    spec = load_spec("hankamber").with_options({"round": ("--round", 3)}) if name == "rounded" \
        else load_spec(name)
    trace = trace_spec(spec, name=name)
    for view in ("matrix", "neuron", "both"):
        for width in (40, 57, 100, 120):  # narrow widths fold lines: rich lays those out
            options = RenderOptions(view=view, width=width)  # type: ignore[arg-type]
            for emoji in (False, True):
                assert text_renderer.render(trace, options, emoji) == rich_plain(trace, options, emoji)


def test_a_wide_character_or_a_long_line_is_left_to_rich() -> None:
    from rich.cells import cell_len

    trace = trace_spec(load_spec("seed"), name="種子 seed")  # two cells per CJK character
    options = RenderOptions(width=40)
    printed = text_renderer.render(trace, options)
    assert printed == rich_plain(trace, options, emoji=False)
    assert all(cell_len(line) <= 40 for line in printed.splitlines())


@pytest.mark.parametrize("title", ["Step 1: η = 1, 1 sample", "x", "ab", "[bold]markup[/bold]",
                                   ":smile: time", "Step 12: η = 0.05, a batch of 4 samples"])
def test_a_plain_rule_is_richs_rule(title: str) -> None:
    for width in range(1, 70):
        rule = text_renderer.Rule(title, "magenta")
        for emoji in (False, True):
            plain = text_renderer._plain_rule(rule, width, emoji)
            if plain is not None:
                assert plain == text_renderer._rich_plain(rule, width, emoji), (title, width)
    assert text_renderer._plain_rule(text_renderer.Rule("[b]x[/b]", "m"), 60, False) is None
    assert text_renderer._plain_rule(text_renderer.Rule("a :smile: b", "m"), 60, True) is None


def test_every_character_counted_as_one_cell_is_one_cell_for_rich() -> None:
    from rich.cells import cell_len

    counted = [chr(code) for code in range(0x20, 0x30000) if text_renderer._one_cell(chr(code))]
    assert "ᵀ" in counted and "∂" in counted and "─" in counted  # what a trace prints
    wrong = [f"U+{ord(c):04X}" for c in counted if cell_len(c) != 1]
    assert not wrong, wrong


class FakeStdout(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [False, True])
@pytest.mark.parametrize("tty_compatible", [None, "", "0", "1", "x"])
@pytest.mark.parametrize("force_color", [None, "", "1", "0"])
def test_stdout_is_plain_decides_as_rich_does(monkeypatch: pytest.MonkeyPatch, tty: bool,
                                              tty_compatible: str | None,
                                              force_color: str | None) -> None:
    from rich.console import Console

    for variable, value in (("TTY_COMPATIBLE", tty_compatible), ("FORCE_COLOR", force_color)):
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)
    monkeypatch.setattr(sys, "stdout", FakeStdout(tty))
    assert stdout_is_plain() == (not Console().is_terminal)


def run_step(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    return subprocess.run([sys.executable, "-m", "gradtrace", "step", *args], capture_output=True,
                          text=True, env={**environment, "PYTHONPATH": str(SRC), **env}, timeout=60)


def test_step_into_a_pipe_prints_what_rich_printed_and_colour_when_forced() -> None:
    piped = run_step()
    assert piped.returncode == 0 and "\x1b[" not in piped.stdout
    trace = trace_spec(load_spec(None), name="seed")
    assert piped.stdout == rich_plain(trace, RenderOptions(width=120), emoji=True)
    forced = run_step(FORCE_COLOR="1")  # rich's choice: colour into the pipe, so rich prints it
    assert forced.returncode == 0 and "\x1b[" in forced.stdout


def test_the_step_commands_annotations_are_objects_not_strings() -> None:
    """typer reads a command's signature twice per run; string annotations (postponed evaluation)
    would be evaluated each time (~6 ms of `gradtrace step`)."""
    from gradtrace.cli import step as module

    for command in (module.step, module.check, module.examples):
        strings = [name for name, value in command.__annotations__.items() if isinstance(value, str)]
        assert not strings, (command.__name__, strings)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_commands_help_reads_well_at_80_columns(name: str) -> None:
    """No paragraph broken mid-sentence by a docstring's line breaks, no [word] eaten as markup."""
    doc = load_command(name).help or ""
    for paragraph in doc.split("\n\n"):
        assert "\n" not in paragraph, (name, paragraph)  # rich wraps a paragraph; "\n" survives
    assert not re.findall(r"(?<!\\)\[[a-z_]+\]", doc), name  # unescaped: taken as a style
    src = str(Path(__file__).resolve().parents[1] / "src")
    shown = subprocess.run([sys.executable, "-m", "gradtrace", name, "--help"], capture_output=True,
                           text=True, env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1",
                                           "PYTHONPATH": src}, check=True).stdout
    for word in re.findall(r"\\\[([a-z_]+)\]", doc):
        assert f"[{word}]" in shown, (name, word)


# The process entry point freezes the heap out of the collector's reach before exiting (the final
# collection cost 40 to 80 ms); that must not cost output, files, exit codes or anyone's atexit handler.
ENTRY = """
import atexit, sys
atexit.register(lambda: print("atexit ran", file=sys.stderr))
sys.argv = ["gradtrace", *sys.argv[1:]]
from gradtrace.cli import console_main
console_main()
"""


@pytest.mark.parametrize(("args", "code"), [(("step", "--format", "json"), 0),
                                            (("step", "no-such-example"), 2)])
def test_the_entry_point_keeps_output_exit_code_and_atexit(tmp_path: Path, args: tuple[str, ...],
                                                           code: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"}
    piped = subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True, text=True,
                           env=env, timeout=120)
    assert piped.returncode == code, piped.stderr
    assert piped.stderr.splitlines()[-1] == "atexit ran"
    written = tmp_path / "trace.json"
    to_file = subprocess.run([sys.executable, "-m", "gradtrace", *args, "-o", str(written)],
                             capture_output=True, text=True, env=env, timeout=120)
    assert to_file.returncode == code, to_file.stderr
    if code == 0:  # all of it, in a pipe and in a file
        assert json.loads(piped.stdout) == json.loads(written.read_text())
    else:
        assert piped.stderr.splitlines()[0].startswith("gradtrace: error: unknown example")
        assert not written.exists()


def test_main_itself_leaves_the_collector_alone() -> None:
    """Tests and users' scripts call main() many times in one process: only the exit freezes."""
    from gradtrace.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["step"]) == 0
    assert gc.get_freeze_count() == 0
