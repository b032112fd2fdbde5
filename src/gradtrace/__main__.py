"""``python -m gradtrace``."""

from gradtrace.cli import console_main

console_main()
