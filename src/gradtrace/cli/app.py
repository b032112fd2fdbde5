"""The typer application the command modules register on, and the group that loads them lazily.

Start-up time is import time: ``gradtrace --help`` should not load pydantic, numpy or matplotlib,
and ``gradtrace step`` should not load the server or the training stack. So the top-level group
knows each command by name, module and one-line summary (``COMMANDS``), and imports a command's
module only when that command runs; its module then registers the real command on ``app``.
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Any

import typer
from typer import main as typer_main
from typer.core import TyperCommand, TyperGroup

app = typer.Typer(
    name="gradtrace",
    help=(
        "Backpropagation, fully worked out. Describe a multilayer perceptron (or use a built-in "
        "example) and gradtrace computes every z, a, cost, delta, gradient and updated weight of a "
        "training step, shows each as formula -> numbers -> result, and checks the gradients.\n\n"
        "Start with:  gradtrace step          (the seed notebook's 2-2-1 example)\n\n"
        "Then:        gradtrace examples      (list the built-in examples)\n\n"
        "             gradtrace step xor --view neuron\n\n"
        "             gradtrace check my_net.toml"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass(frozen=True)
class CommandEntry:
    """Where a command lives and the summary ``gradtrace --help`` lists (its docstring's first line)."""

    module: str
    summary: str


# In the order `gradtrace --help` lists them. tests/test_startup.py checks each summary against the
# command's own help, so the two cannot drift apart.
COMMANDS: dict[str, CommandEntry] = {
    "step": CommandEntry("gradtrace.cli.step",
                         "Work out training steps: every z, a, cost, delta, gradient and new weight."),
    "check": CommandEntry("gradtrace.cli.step",
                          "Check every gradient against central differences; exit 1 if any disagrees."),
    "examples": CommandEntry("gradtrace.cli.step",
                             "List the built-in examples (use a name wherever a SPEC is asked for)."),
    "grade": CommandEntry("gradtrace.cli.grade",
                          "Grade hand-worked answers: first wrong step, and which mistake explains it."),
    "exercise": CommandEntry("gradtrace.cli.exercise", "Make exercise sheets with worked keys, "
                             "every variant tested for unambiguous grading."),
    "draw": CommandEntry("gradtrace.cli.draw",
                         "Draw the network with the numbers of one training step on it."),
    "train": CommandEntry("gradtrace.cli.train", "Train a network on data, watching the loss fall."),
    "predict": CommandEntry("gradtrace.cli.train",
                            "Predict with a trained model (from gradtrace train -o) on a CSV file."),
    "export": CommandEntry("gradtrace.cli.export",
                           "Export the network to PyTorch: a standalone script (.py) or a state_dict (.pt)."),
    "serve": CommandEntry("gradtrace.cli.serve", "Serve the interactive page: step through backprop, "
                                                 "edit the network, train and watch."),
}


def load_command(name: str) -> TyperCommand:
    """Import the module of command ``name`` and build its click command from its registration."""
    importlib.import_module(COMMANDS[name].module)
    for info in app.registered_commands:
        if info.callback is not None and (info.name or typer_main.get_command_name(
                info.callback.__name__)) == name:
            if info.help is None:  # a docstring: reflowed as rich_markup_mode reads it
                info.help = reflowed_help(inspect.getdoc(info.callback) or "")
            command = typer_main.get_command_from_info(
                info, pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode)
            assert isinstance(command, TyperCommand)
            return command
    raise LookupError(f"{COMMANDS[name].module} registers no command {name!r}")  # a bug, not input


_UNESCAPED_BRACKET = re.compile(r"(?<!\\)\[")


def reflowed_help(doc: str) -> str:
    """A command's docstring as help that reads well at any width.

    In rich markup mode a docstring's line breaks survive, so a paragraph wrapped at 100 columns
    breaks mid-sentence in an 80-column terminal: each paragraph becomes one line (rich wraps it),
    an indented paragraph (an example) keeps one line per line. ``[answers]`` would be read as
    markup and vanish: brackets are escaped.
    """
    paragraphs: list[str] = []
    for paragraph in re.split(r"\n\s*\n", doc.strip()):
        lines = paragraph.splitlines()
        if lines[0].startswith(" "):
            paragraphs += lines
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return _UNESCAPED_BRACKET.sub(r"\\[", "\n\n".join(paragraphs))


class LazyCommand(TyperCommand):
    """Stands in for a command in the top-level help; builds the real one when it is run."""

    def __init__(self, name: str, summary: str) -> None:
        super().__init__(name, help=summary, short_help=summary)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None,
                     **extra: Any) -> Any:
        # The group calls this with the command's arguments: the real command parses them, so its
        # context (and `--help`) is the real one.
        assert self.name is not None
        return load_command(self.name).make_context(info_name, args, parent, **extra)


def command_group() -> TyperGroup:
    """The ``gradtrace`` group: ``app``'s settings, every command a ``LazyCommand``."""
    commands: dict[str, Any] = {name: LazyCommand(name, entry.summary) for name, entry in COMMANDS.items()}
    return TyperGroup(
        name="gradtrace", commands=commands, help=app.info.help,
        no_args_is_help=bool(app.info.no_args_is_help), context_settings=app.info.context_settings,
        rich_markup_mode=app.rich_markup_mode,
    )
