"""The typer application every command module registers on."""

from __future__ import annotations

import typer

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
