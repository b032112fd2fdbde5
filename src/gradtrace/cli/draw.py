"""``gradtrace draw``: the network picture with its numbers, as SVG, PNG or PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gradtrace.cli.app import app
from gradtrace.errors import GradtraceError
from gradtrace.io import PDF, PNG, SVG, atomic_write_bytes, check_output

# The kind of file each picture format replaces without --force.
OUTPUT_KINDS = {"svg": SVG, "png": PNG, "pdf": PDF}


@app.command()
def draw(
    spec: Annotated[str, typer.Argument(
        help="A built-in example (seed, xor, softmax, mattmazur) or a spec file (.toml/.json/.yaml).",
    )] = "seed",
    output: Annotated[Path, typer.Option(
        "--output", "-o",
        help="The image to write; its extension picks the format: .svg, .png or .pdf.",
    )] = Path("network.svg"),
    show: Annotated[str, typer.Option(
        help="What the edges and neurons carry: 'values' (weights W, activations a), "
             "'gradients' (∂C/∂W, δ) or 'updates' (each weight old → new).",
    )] = "values",
    precision: Annotated[int, typer.Option(
        help="Significant digits of the numbers on the picture (1 to 17).",
    )] = 3,
    step: Annotated[int, typer.Option(
        help="Which training step to draw (1 = the first).",
    )] = 1,
    force: Annotated[bool, typer.Option(
        help="Replace an existing -o file even if it is not an image of that format.",
    )] = False,
) -> None:
    """Draw the network with the numbers of one training step on it.

    Neurons show their activations (or δ), edges their weights (or gradients, or old → new),
    biases are written under each neuron. Edge colour gives the sign, width the size.
    Layers wider than 10 units show their first and last 4.

    Examples:  gradtrace draw seed -o net.svg
               gradtrace draw xor -o grads.png --show gradients
    """
    from gradtrace.render import diagram  # matplotlib: loaded only when drawing
    from gradtrace.spec import load_spec
    from gradtrace.workflow import trace_spec

    fmt_name = diagram.format_of(output)  # fail before any work on a bad extension
    if show not in diagram.SHOWS:
        raise GradtraceError(
            f"unknown --show {show!r}; expected one of: {', '.join(diagram.SHOWS)}")
    if not 1 <= precision <= 17:
        raise GradtraceError(f"--precision {precision}: expected 1 to 17 significant digits")
    if step < 1:
        raise GradtraceError(f"--step {step}: steps count from 1")
    check_output(output, kind=OUTPUT_KINDS[fmt_name], inputs=(spec,), force=force)
    loaded = load_spec(spec)
    trace = trace_spec(loaded, steps=step)
    data = diagram.render_bytes(trace, fmt_name, show, step - 1, precision)
    atomic_write_bytes(output, data)
    typer.echo(f"wrote {output}", err=True)
