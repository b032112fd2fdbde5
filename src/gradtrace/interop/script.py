"""A standalone PyTorch script (no gradtrace import) for a network: ``gradtrace export -o model.py``.

It builds the ``interop.plan`` objects with the weights as literals, runs the training steps on the
spec's batch and prints each step's cost and then every new W_l and b_l, as ``gradtrace step`` does.
Numbers are written with ``repr``, which round-trips a float64 exactly.
"""

from __future__ import annotations

from typing import Any

from gradtrace.interop.plan import TorchPlan
from gradtrace.interop.tables import HALF_SSE_MODULE

HALF_SSE_SOURCE = f'''

class {HALF_SSE_MODULE}(nn.Module):
    """gradtrace's half_sse: C = (1/m) Σ_s ½ Σ_k (y − a)² (reduction="mean"), or its batch sum."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, a, y):
        total = 0.5 * ((y - a) ** 2).sum()
        return total / a.shape[0] if self.reduction == "mean" else total
'''

TRAIN_STEP_SOURCE = '''

def train_step(x, y):
    """One step: forward, the cost, loss.backward(), optimizer.step(); returns the cost."""
    optimizer.zero_grad()
    cost = loss_fn(model(x), y)
    cost.backward()
    optimizer.step()
    return cost.item()
'''

PRINT_WEIGHTS_SOURCE = '''    for l, linear in enumerate(linears, start=1):
        print(f"W{{l}}{prime} = {{linear.weight.tolist()!r}}")
        print(f"b{{l}}{prime} = {{linear.bias.tolist()!r}}")
'''

RUN_SOURCE = '''

x = torch.tensor({x})
y = torch.tensor({y})

if __name__ == "__main__":
    for step in range({steps}):
        print(f"step {{step + 1}}: C = {{train_step(x, y)!r}}")
'''

# A spec with [training] batch_size steps through its samples in order, wrapping around: each
# step takes the rows listed for it, as gradtrace step does.
BATCHES_SOURCE = '''

x = torch.tensor({x})
y = torch.tensor({y})
batches = {batches}  # the rows of each step: [training] batch_size, in order, wrapping around

if __name__ == "__main__":
    for step, rows in enumerate(batches):
        print(f"step {{step + 1}}: C = {{train_step(x[rows], y[rows])!r}}")
'''

NO_DATA_SOURCE = '''

if __name__ == "__main__":
    # the model file holds no data: call train_step(x, y) on a batch x (m, {n_in}), y (m, {n_out})
'''


def _arguments(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in arguments.items())


def script(torch_plan: TorchPlan, title: str, data: tuple[list[Any], list[Any]] | None,
           steps: int, batches: list[list[int]] | None = None) -> str:
    """The Python source; ``data`` = (inputs, targets) as rows, or None for a model file alone;
    ``batches``: the rows each step takes, when the spec steps through its samples."""
    lines = [f'"""{title}: exported by gradtrace. Needs only PyTorch: python THIS_FILE."""', "",
             "import torch", "from torch import nn", "",
             "torch.set_default_dtype(torch.float64)  # gradtrace computes in float64"]
    if torch_plan.loss.name == HALF_SSE_MODULE:
        lines.append(HALF_SSE_SOURCE.rstrip("\n"))
    lines += ["", "", "model = nn.Sequential("]
    lines += [f"    nn.{call.name}({_arguments(call.arguments)})," for call in torch_plan.modules]
    lines += [")", f"linears = [{', '.join(f'model[{lp.position}]' for lp in torch_plan.linears)}]",
              "with torch.no_grad():"]
    for l, linear in enumerate(torch_plan.linears):
        lines += [f"    linears[{l}].weight.copy_(torch.tensor({linear.weight!r}))",
                  f"    linears[{l}].bias.copy_(torch.tensor({linear.bias!r}))"]
    for l, linear in enumerate(torch_plan.linears):
        if not linear.weight_trains:
            lines.append(f"linears[{l}].weight.requires_grad_(False)  # a frozen layer")
        if not linear.bias_trains:
            lines.append(f"linears[{l}].bias.requires_grad_(False)  # biases fixed")
    if torch_plan.loss_fused:
        lines.append(f"# the loss applies the output layer's {torch_plan.loss_fused} itself")
    lines += [f"loss_fn = {'' if torch_plan.loss.name == HALF_SSE_MODULE else 'nn.'}"
              f"{torch_plan.loss.name}({_arguments(torch_plan.loss.arguments)})",
              f"optimizer = torch.optim.{torch_plan.optimizer.name}(model.parameters(), "
              f"{_arguments(torch_plan.optimizer.arguments)})"]
    lines.append(TRAIN_STEP_SOURCE.rstrip("\n"))
    if data is None:
        first, last = torch_plan.linears[0], torch_plan.linears[-1]
        run = NO_DATA_SOURCE.format(n_in=len(first.weight[0]), n_out=len(last.weight))
    elif batches is None:
        run = RUN_SOURCE.format(x=data[0], y=data[1], steps=steps)
    else:
        run = BATCHES_SOURCE.format(x=data[0], y=data[1], batches=batches)
    lines.append(run.rstrip("\n"))
    lines.append(PRINT_WEIGHTS_SOURCE.format(prime="" if data is None else "'"))
    return "\n".join(lines).rstrip("\n") + "\n"
