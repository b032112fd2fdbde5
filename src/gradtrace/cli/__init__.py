"""The command line: arguments -> spec -> engine -> renderer -> output. Thin by design.

Every user error is a GradtraceError: printed as one line on stderr, exit code 2 (1 for a failed
check), never a traceback.
"""

from __future__ import annotations

import sys

import click

from gradtrace.cli import commands as _commands  # registers the commands on the app
from gradtrace.cli.app import app
from gradtrace.errors import GradtraceError

__all__ = ["app", "main"]
del _commands


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gradtrace`` console script and ``python -m gradtrace``."""
    try:
        result = app(args=argv, standalone_mode=False)
    except GradtraceError as error:
        print(f"gradtrace: error: {error}", file=sys.stderr)
        return error.exit_code
    except click.exceptions.Abort:
        print("gradtrace: interrupted", file=sys.stderr)
        return 130
    except click.exceptions.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except KeyboardInterrupt:
        print("gradtrace: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return result if isinstance(result, int) else 0
