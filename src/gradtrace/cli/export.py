"""``gradtrace export``: a network as a standalone PyTorch script (.py) or state_dict (.pt)."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Annotated

import typer

from gradtrace.cli.app import app
from gradtrace.cli.step import SpecArgument
from gradtrace.core.network import MLP
from gradtrace.errors import GradtraceError
from gradtrace.io import TEXT, TORCH, atomic_write_bytes, atomic_write_text, check_output
from gradtrace.spec import Spec, load_spec

# output suffix -> the kind of file it may replace without --force
OUTPUT_KINDS = {".py": TEXT, ".pt": TORCH}


def _network(source: str | None) -> tuple[MLP, Spec, str]:
    """The network, its spec and a title: from a model file (.npz) or a spec / example name."""
    if source is not None and Path(source).suffix.lower() == ".npz":
        from gradtrace.network import Network  # late: the training stack only for model files

        network = Network.load(source)
        assert network.spec is not None  # a model file always holds its spec
        return network.mlp, network.spec, Path(source).stem
    spec = load_spec(source)
    return spec.build_mlp(), spec, spec.name or (Path(source).stem if source else "seed")


@app.command()
def export(
    source: SpecArgument = None,
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="model.py: a standalone PyTorch script that rebuilds the network, "
        "runs the spec's training steps and prints the cost and new weights; model.pt: its "
        "state_dict (torch.load(..., weights_only=True)).",
    )] = Path("model.py"),
    steps: Annotated[int | None, typer.Option(
        "--steps", "-n", min=1, help="Training steps the script runs (default: the spec's).",
    )] = None,
    force: Annotated[bool, typer.Option(
        help="Replace an existing -o file of another kind.",
    )] = False,
) -> None:
    """Export the network to PyTorch: a standalone script (.py) or a state_dict (.pt).

    SOURCE is a spec, a built-in example or a model file (.npz from gradtrace train -o). The
    script needs only PyTorch; run it with python and it prints the same cost and new weights
    as `gradtrace step`.

    Examples:  gradtrace export seed -o seed.py
               gradtrace export model.npz -o model.pt
    """
    kind = OUTPUT_KINDS.get(output.suffix.lower())
    if kind is None:
        raise GradtraceError(f"-o {output}: unknown export type {output.suffix or '(none)'!r}; "
                             "use .py for a PyTorch script or .pt for a state_dict")
    check_output(output, kind=kind, inputs=[source] if source else [], force=force)
    from gradtrace.interop.plan import batch_reduction, build, plan

    mlp, spec, title = _network(source)
    torch_plan = plan(mlp, spec.build_optimizer(), batch_reduction(spec))
    if kind is TORCH:
        from gradtrace.interop.torch import import_torch

        torch = import_torch()
        model, _, _ = build(torch_plan)
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        atomic_write_bytes(output, buffer.getvalue())
    else:
        from gradtrace.interop.script import script
        from gradtrace.trace.record import batch_rows
        from gradtrace.workflow import step_batch_size

        data, batches = None, None
        total = steps or spec.steps
        if spec.data is not None:
            X, Y = spec.arrays()
            data = (X.astype(float).tolist(), Y.astype(float).tolist())
            if step_batch_size(spec) is not None:  # the rows each step takes, as `step` does
                batches = [rows.tolist() for rows in batch_rows(len(X), step_batch_size(spec), total)]
        atomic_write_text(output, script(torch_plan, title, data, total, batches))
    print(f"wrote {output}", file=sys.stderr)
