"""The command line: arguments -> spec -> engine -> renderer -> output. Thin by design.

Every user error is a GradtraceError or a usage error: printed as one line on stderr, exit code 2
(1 for a failed check), never a traceback.
"""

from __future__ import annotations

import gc
import sys
from typing import NoReturn

from typer import Abort, Exit
from typer.exceptions import TyperException

from gradtrace.cli.app import app, command_group
from gradtrace.errors import GradtraceError

__all__ = ["app", "console_main", "main"]

USAGE_EXIT_CODE = 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gradtrace`` console script and ``python -m gradtrace``."""
    try:
        # The lazy group, not app(): a command's module is imported only when that command runs.
        result = command_group().main(args=argv, standalone_mode=False, prog_name="gradtrace")
    except GradtraceError as error:
        print(f"gradtrace: error: {error}", file=sys.stderr)
        return error.exit_code
    except TyperException as error:  # usage errors: a bad option value, an unknown command
        return _usage_error(error)
    except Exit as exit_:
        return int(exit_.exit_code)
    except (Abort, KeyboardInterrupt):
        print("gradtrace: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return result if isinstance(result, int) else 0


def console_main() -> NoReturn:
    """The process's entry point (the ``gradtrace`` script, ``python -m gradtrace``): run, then exit.

    Before the interpreter exits, every object still alive is frozen out of the garbage
    collector's reach: its last collection would walk everything numpy, pydantic and typer built
    (40 to 80 ms of the 0.56 s ``gradtrace step`` took) to free memory the OS takes back anyway.
    Nothing is lost by skipping it: every file is written and closed by now, and atexit handlers
    and the flush of stdout and stderr still run. Not in ``main``, which tests call many times in
    one process.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


def _usage_error(error: TyperException) -> int:
    context = getattr(error, "ctx", None)
    if type(error).__name__ == "NoArgsIsHelpError":
        # Bare `gradtrace`: the error already holds the help, and typer's rich formatter has
        # already printed it while building the error (leaving the message empty).
        help_text = error.format_message()
        if help_text:
            print(help_text)
        return 0
    format_message = getattr(error, "format_message", None)
    message = format_message() if callable(format_message) else str(error)
    command = getattr(context, "command_path", "gradtrace")
    print(f"gradtrace: error: {message} (see `{command} --help`)", file=sys.stderr)
    return int(getattr(error, "exit_code", USAGE_EXIT_CODE))
