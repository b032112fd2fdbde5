"""Imports each command module so that its commands register on the app."""

from gradtrace.cli import draw, serve, step, train  # noqa: F401  (imported for registration)
