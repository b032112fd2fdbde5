"""The bridge to PyTorch: from_torch against autograd, to_torch and the exported script against the
trace, round trips, and one clear line for everything the bridge cannot compute exactly.

Oracle: PyTorch 2.13 in float64 (``loss.backward()`` for the gradients, ``optimizer.step()`` for
the new weights), to 1e-10.
"""

from __future__ import annotations

import ast
import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gradtrace import Network
from gradtrace.core.activations import ACTIVATIONS
from gradtrace.errors import GradtraceError
from gradtrace.interop.plan import to_torch
from gradtrace.interop.tables import activation_by_name
from gradtrace.interop.torch import TorchBridgeError, from_torch, half_sse_loss_class
from gradtrace.spec import example_names, load_spec, parse_spec
from gradtrace.trace.model import Trace
from gradtrace.workflow import step_batch_size, trace_spec

torch = pytest.importorskip("torch")
nn = torch.nn
pytestmark = pytest.mark.torch

TOLERANCE = {"rtol": 1e-10, "atol": 1e-10}
SRC = str(Path(__file__).resolve().parents[1] / "src")

# every activation module gradtrace knows, as a factory
ACTIVATION_MODULES = {
    "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "ReLU": nn.ReLU, "LeakyReLU": lambda: nn.LeakyReLU(0.2),
    "Identity": nn.Identity, "ELU": nn.ELU, "GELU": nn.GELU, "GELU_tanh": lambda: nn.GELU("tanh"),
    "SiLU": nn.SiLU, "Softplus": nn.Softplus, "Hardtanh": nn.Hardtanh,
}


def _linears(model: Any) -> list[Any]:
    return [m for m in model.modules() if type(m) is nn.Linear]


def _snapshot(model: Any) -> list[tuple[np.ndarray, np.ndarray | None]]:
    return [(p.detach().clone().numpy(), None if p.grad is None else p.grad.clone().numpy())
            for p in model.parameters()]


def _check_against_autograd(model: Any, x: Any, y: Any, loss_fn: Any, optimizer: Any = None,
                            **kwargs: Any) -> Trace:
    """from_torch's cost, ∂C/∂W, ∂C/∂b and new weights equal PyTorch's; the model is unchanged."""
    before = _snapshot(model)
    state_before = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None
    trace = from_torch(model, x, y, loss_fn, optimizer, **kwargs)
    for (p0, g0), (p1, g1) in zip(before, _snapshot(model), strict=True):
        assert np.array_equal(p0, p1) and (g0 is None) == (g1 is None)
    if optimizer is not None:
        assert str(optimizer.state_dict()) == str(state_before)
    step = trace.steps[0]
    if optimizer is not None:
        optimizer.zero_grad()
    cost = loss_fn(model(x), y)
    cost.backward()
    np.testing.assert_allclose(step.cost, cost.item(), **TOLERANCE)
    for l, linear in enumerate(_linears(model), start=1):
        if linear.weight.grad is not None:
            np.testing.assert_allclose(step.backward_of(l).grad_W, linear.weight.grad.numpy(),
                                       **TOLERANCE)
        if linear.bias is not None and linear.bias.grad is not None:
            np.testing.assert_allclose(step.backward_of(l).grad_b[:, 0], linear.bias.grad.numpy(),
                                       **TOLERANCE)
    if optimizer is not None:
        optimizer.step()
        for l, linear in enumerate(_linears(model), start=1):
            np.testing.assert_allclose(step.update_of(l).W_new, linear.weight.detach().numpy(),
                                       **TOLERANCE)
            if linear.bias is not None:
                np.testing.assert_allclose(step.update_of(l).b_new[:, 0],
                                           linear.bias.detach().numpy(), **TOLERANCE)
    return trace


def _batch(m: int, n_in: int, seed: int) -> Any:
    return torch.randn(m, n_in, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("activation", list(ACTIVATION_MODULES))
@pytest.mark.parametrize("seed", [0, 1])
def test_random_models_of_every_activation_match_autograd(activation: str, seed: int) -> None:
    torch.manual_seed(seed)
    make = ACTIVATION_MODULES[activation]
    model = nn.Sequential(nn.Linear(3, 4), make(), nn.Sequential(nn.Linear(4, 3), make()),
                          nn.Linear(3, 2)).double()
    x, y = _batch(5, 3, seed), _batch(5, 2, seed + 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    _check_against_autograd(model, x, y, nn.MSELoss(), optimizer)


@pytest.mark.parametrize("case", ["l1", "bce", "bce_logits", "ce_indices", "ce_probabilities",
                                  "ce_smoothing", "softmax_bce", "half_sse"])
def test_every_loss_matches_autograd(case: str) -> None:
    torch.manual_seed(3)
    m, n_out = 6, 3
    x = _batch(m, 4, 3)
    body = [nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, n_out)]
    probabilities = torch.softmax(_batch(m, n_out, 4), dim=1)
    cases: dict[str, tuple[list[Any], Any, Any]] = {
        "l1": ([], nn.L1Loss(), _batch(m, n_out, 5)),
        "bce": ([nn.Sigmoid()], nn.BCELoss(), torch.rand(m, n_out, dtype=torch.float64)),
        "bce_logits": ([], nn.BCEWithLogitsLoss(), torch.rand(m, n_out, dtype=torch.float64)),
        "ce_indices": ([], nn.CrossEntropyLoss(), torch.tensor([0, 2, 1, 1, 0, 2])),
        "ce_probabilities": ([], nn.CrossEntropyLoss(), probabilities),
        "ce_smoothing": ([], nn.CrossEntropyLoss(label_smoothing=0.1), torch.tensor([0, 2, 1, 1, 0, 2])),
        "softmax_bce": ([nn.Softmax(dim=-1)], nn.BCELoss(), probabilities),
        "half_sse": ([], half_sse_loss_class()(), _batch(m, n_out, 5)),
    }
    tail, loss_fn, y = cases[case]
    model = nn.Sequential(*body, *tail).double()
    _check_against_autograd(model, x, y, loss_fn, torch.optim.SGD(model.parameters(), lr=0.5))


def test_sum_reductions_match_autograd() -> None:
    """Needs the spec's batch_reduction and the sse loss (the `conv` branch)."""
    torch.manual_seed(4)
    x = _batch(4, 3, 4)
    cases = [
        (nn.Linear(3, 2), nn.MSELoss(reduction="sum"), _batch(4, 2, 5)),
        (nn.Linear(3, 3), nn.CrossEntropyLoss(reduction="sum"), torch.tensor([0, 2, 1, 1])),
        (nn.Linear(3, 1), nn.L1Loss(reduction="sum"), _batch(4, 1, 6)),
        (nn.Linear(3, 1), nn.BCEWithLogitsLoss(reduction="sum"), torch.rand(4, 1, dtype=torch.float64)),
    ]
    for linear, loss_fn, y in cases:
        model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), linear).double()
        _check_against_autograd(model, x, y, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1))


def _warm(optimizer: Any, model: Any, x: Any, y: Any, loss_fn: Any, steps: int = 2) -> None:
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
def test_optimizer_hyperparameters_and_state_carry_over(kind: str) -> None:
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(3, 4), nn.SiLU(), nn.Linear(4, 2)).double()
    x, y, loss_fn = _batch(5, 3, 5), _batch(5, 2, 6), nn.MSELoss()
    optimizer = {
        "sgd": lambda: torch.optim.SGD(model.parameters(), lr=0.2, weight_decay=0.01),
        "momentum": lambda: torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.8,
                                            weight_decay=0.02),
        "adam": lambda: torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99), eps=1e-6,
                                         weight_decay=0.01),
    }[kind]()
    _warm(optimizer, model, x, y, loss_fn)  # state from two earlier steps
    trace = _check_against_autograd(model, x, y, loss_fn, optimizer)
    info = trace.steps[0].optimizer
    assert info.name == kind
    assert info.get("weight_decay") > 0
    if kind == "adam":
        assert trace.steps[0].update_of(1).state_of("W", "m").count == 3


def test_frozen_layers_and_biasless_models_match_autograd() -> None:
    torch.manual_seed(6)
    model = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Tanh(), nn.Linear(4, 2, bias=False)).double()
    x, y = _batch(4, 3, 6), _batch(4, 2, 7)
    _check_against_autograd(model, x, y, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1))
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    model[0].requires_grad_(False)
    trace = _check_against_autograd(model, x, y, nn.MSELoss(),
                                    torch.optim.SGD(model.parameters(), lr=0.1))
    assert not trace.network.layers[0].trainable


def test_steps_follow_pytorch_step_for_step() -> None:
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(2, 3), nn.ELU(), nn.Linear(3, 2)).double()
    x, labels = _batch(4, 2, 7), torch.tensor([0, 1, 1, 0])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    trace = from_torch(model, x, labels, nn.CrossEntropyLoss(), optimizer, steps=3)
    _warm(optimizer, model, x, labels, nn.CrossEntropyLoss(), steps=3)
    for l, linear in enumerate(_linears(model), start=1):
        np.testing.assert_allclose(trace.steps[-1].update_of(l).W_new, linear.weight.detach().numpy(),
                                   **TOLERANCE)


# ---- what the bridge refuses ------------------------------------------------------------------

class Custom(nn.Module):
    def forward(self, x: Any) -> Any:
        return x * 2


def _simple(*tail: Any) -> Any:
    return nn.Sequential(nn.Linear(3, 2), *tail).double()


REFUSED: dict[str, tuple[Any, Any, Any, str]] = {
    "dropout": (_simple(nn.Dropout(0.5)), nn.MSELoss(), None, "model[1] is Dropout"),
    "batchnorm": (nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)), nn.MSELoss(), None,
                  "model[1] is BatchNorm1d"),
    "custom": (nn.Sequential(nn.Linear(3, 2), nn.Sequential(nn.Tanh(), Custom())), nn.MSELoss(), None,
               "model[1][1] is Custom"),
    "softmax_dim0": (_simple(nn.Softmax(dim=0)), nn.MSELoss(), None, "dim=-1"),
    "elu_alpha": (_simple(nn.ELU(alpha=0.5)), nn.MSELoss(), None, "alpha=1.0"),
    "hardtanh_range": (_simple(nn.Hardtanh(-2.0, 2.0)), nn.MSELoss(), None, "min_val=-1.0"),
    "two_activations": (_simple(nn.ReLU(), nn.Tanh()), nn.MSELoss(), None, "right after model[1]"),
    "activation_first": (nn.Sequential(nn.Tanh(), nn.Linear(3, 2)), nn.MSELoss(), None,
                         "before any nn.Linear"),
    "not_sequential": (nn.Linear(3, 2), nn.MSELoss(), None, "takes an nn.Sequential"),
    "reduction_none": (_simple(), nn.MSELoss(reduction="none"), None, "'none'"),
    "weighted_bce": (_simple(), nn.BCEWithLogitsLoss(pos_weight=torch.ones(2)), None, "pos_weight"),
    "logits_after_sigmoid": (_simple(nn.Sigmoid()), nn.BCEWithLogitsLoss(), None, "takes logits"),
    "ce_after_softmax": (_simple(nn.Softmax(dim=1)), nn.CrossEntropyLoss(), None, "takes logits"),
    "bce_on_logits": (_simple(), nn.BCELoss(), None, "needs probabilities"),
    "l1_sum_two_outputs": (_simple(), nn.L1Loss(reduction="sum"), None, "one output"),
    "nesterov": (_simple(), nn.MSELoss(), "nesterov", "nesterov=True"),
    "adamw": (_simple(), nn.MSELoss(), "adamw", "AdamW"),
    "groups_differ": (_simple(), nn.MSELoss(), "groups", "groups differ"),
    "missing_parameter": (_simple(), nn.MSELoss(), "missing", "does not update model.0.bias"),
    "mixed_biases": (nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2, bias=False)), nn.MSELoss(), None,
                     "trains every bias or none"),
}


def _optimizer(kind: str | None, model: Any) -> Any:
    linear = model[0] if isinstance(model, nn.Sequential) else model
    return {
        None: None,
        "nesterov": lambda: torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True),
        "adamw": lambda: torch.optim.AdamW(model.parameters()),
        "groups": lambda: torch.optim.SGD([{"params": [linear.weight]},
                                           {"params": [linear.bias], "lr": 0.5}], lr=0.1),
        "missing": lambda: torch.optim.SGD([linear.weight], lr=0.1),
    }[kind]() if kind else None


@pytest.mark.parametrize("case", list(REFUSED))
def test_unsupported_is_one_clear_line(case: str) -> None:
    model, loss_fn, kind, expected = REFUSED[case]
    y = torch.rand(4, 2, dtype=torch.float64)
    with pytest.raises(TorchBridgeError) as error:
        from_torch(model.double(), _batch(4, 3, 0), y, loss_fn, _optimizer(kind, model))
    message = str(error.value)
    assert expected in message
    assert "\n" not in message and len(message) < 400


def test_softplus_past_its_threshold_is_refused() -> None:
    model = _simple(nn.Softplus(threshold=1.0))
    with pytest.raises(TorchBridgeError, match=r"past nn\.Softplus.s threshold 1"):
        from_torch(model, 10 * torch.ones(2, 3, dtype=torch.float64), torch.ones(2, 2), nn.MSELoss())


def test_bad_batches_are_refused() -> None:
    model = _simple()
    with pytest.raises(TorchBridgeError, match=r"x has shape \(3,\)"):
        from_torch(model, torch.ones(3), torch.ones(1, 2), nn.MSELoss())
    with pytest.raises(TorchBridgeError, match="would broadcast"):
        from_torch(model, torch.ones(4, 3), torch.ones(4), nn.MSELoss())
    with pytest.raises(TorchBridgeError, match="ignore_index"):
        from_torch(model, torch.ones(2, 3), torch.tensor([0, -100]), nn.CrossEntropyLoss())
    with pytest.raises(TorchBridgeError, match=r"class indices in 0\.\.1"):
        from_torch(model, torch.ones(2, 3), torch.tensor([0, 2]), nn.CrossEntropyLoss())


def test_missing_torch_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(GradtraceError, match=r'pip install "gradtrace\[torch\]"'):
        from_torch(None, None, None, None)


def test_importing_gradtrace_does_not_import_torch() -> None:
    code = ("import sys, gradtrace; gradtrace.from_torch; gradtrace.to_torch; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": SRC})


def test_every_activation_has_one_map() -> None:
    for name in ACTIVATIONS:
        assert activation_by_name(name).name == name


# ---- to PyTorch and back ----------------------------------------------------------------------

def _specs() -> list[tuple[str, Any]]:
    found = [(name, load_spec(name)) for name in example_names()]
    seed = load_spec("seed").model_dump(exclude_unset=True)
    for optimizer in ({"name": "momentum", "momentum": 0.7, "weight_decay": 0.01},
                      {"name": "adam", "beta1": 0.8, "weight_decay": 0.001}):
        found.append((optimizer["name"], parse_spec({**seed, "optimizer": optimizer, "steps": 3,
                                                     "train_biases": True})))
    softmax = load_spec("softmax").model_dump(exclude_unset=True)
    softmax["layers"][0]["trainable"] = False
    found.append(("frozen", parse_spec({**softmax, "steps": 2})))
    return found


@pytest.mark.parametrize(("name", "spec"), _specs(), ids=[name for name, _ in _specs()])
def test_spec_to_torch_and_back_gives_the_same_trace(name: str, spec: Any) -> None:
    model, loss_fn, optimizer = to_torch(spec)
    expected = trace_spec(spec)
    X, Y = spec.arrays()
    batch = step_batch_size(spec)
    if batch is not None:  # a spec that steps through its samples (negnevitsky: one at a time)
        assert spec.steps == 1, "from_torch takes one batch for all its steps"
        X, Y = X[:batch], Y[:batch]
    x, y = torch.tensor(X), torch.tensor(Y)
    again = from_torch(model, x, y, loss_fn, optimizer, steps=spec.steps)
    for step, other in zip(expected.steps, again.steps, strict=True):
        assert step.optimizer == other.optimizer
        np.testing.assert_allclose(step.cost, other.cost, **TOLERANCE)
        for a, b in zip(step.update, other.update, strict=True):
            np.testing.assert_allclose(a.W_new, b.W_new, **TOLERANCE)
            np.testing.assert_allclose(a.b_new, b.b_new, **TOLERANCE)
    _warm(optimizer, model, x, y, loss_fn, steps=spec.steps)  # PyTorch's own steps
    for update, linear in zip(expected.steps[-1].update, _linears(model), strict=True):
        np.testing.assert_allclose(update.W_new, linear.weight.detach().numpy(), **TOLERANCE)
        np.testing.assert_allclose(update.b_new[:, 0], linear.bias.detach().numpy(), **TOLERANCE)


def test_network_to_torch_has_its_weights() -> None:
    net = Network.from_sizes([2, 3, 2], activations=["gelu", "softmax"], loss="cross_entropy")
    model, loss_fn, optimizer = net.to_torch()
    assert type(loss_fn) is nn.CrossEntropyLoss and type(optimizer) is torch.optim.SGD
    X = np.array([[0.5, -1.0], [2.0, 0.1]])
    probabilities = torch.softmax(model(torch.tensor(X)), dim=1).detach().numpy()
    np.testing.assert_allclose(probabilities, net.predict(X), **TOLERANCE)


def test_a_loss_without_a_pytorch_module_is_refused() -> None:
    spec = parse_spec({"sizes": [2, 2], "activations": "sigmoid", "loss": "cross_entropy"})
    with pytest.raises(TorchBridgeError, match="no exact PyTorch loss"):
        to_torch(spec)


# ---- gradtrace export -------------------------------------------------------------------------

def _gradtrace(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gradtrace", *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": SRC}, timeout=120)


def _printed(output: str) -> dict[str, Any]:
    values = {}
    for line in output.splitlines():
        key, _, value = line.partition(" = ")
        values[key] = ast.literal_eval(value)
    return values


@pytest.mark.parametrize(("name", "spec"), _specs(), ids=[name for name, _ in _specs()])
def test_exported_script_prints_the_trace_numbers(name: str, spec: Any, tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(spec.model_dump_json(exclude_unset=True), encoding="utf-8")
    result = _gradtrace("export", str(spec_file), "-o", "model.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    source = (tmp_path / "model.py").read_text(encoding="utf-8")
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Import | ast.ImportFrom)
                for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])}
    assert imported == {"torch"}  # standalone: PyTorch only
    run = subprocess.run([sys.executable, "model.py"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert run.returncode == 0, run.stderr
    printed = _printed(run.stdout)
    trace = trace_spec(spec)
    for step in trace.steps:
        np.testing.assert_allclose(printed[f"step {step.index + 1}: C"], step.cost, **TOLERANCE)
    for update in trace.steps[-1].update:
        np.testing.assert_allclose(printed[f"W{update.layer}'"], update.W_new, **TOLERANCE)
        np.testing.assert_allclose(printed[f"b{update.layer}'"], update.b_new[:, 0], **TOLERANCE)


def test_export_state_dict_loads_with_weights_only(tmp_path: Path) -> None:
    result = _gradtrace("export", "xor", "-o", "xor.pt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    state = torch.load(tmp_path / "xor.pt", weights_only=True)
    mlp = load_spec("xor").build_mlp()
    weights = [value.numpy() for key, value in state.items() if key.endswith("weight")]
    for layer, W in zip(mlp.layers, weights, strict=True):
        np.testing.assert_array_equal(layer.W, W)
    again = _gradtrace("export", "xor", "-o", "xor.pt", cwd=tmp_path)  # replacing its own kind
    assert again.returncode == 0, again.stderr


def test_export_a_model_file(tmp_path: Path) -> None:
    net = Network.from_sizes([2, 4, 1], activations=["relu", "sigmoid"], loss="binary_cross_entropy")
    net.save(tmp_path / "model.npz")
    assert _gradtrace("export", "model.npz", "-o", "model.py", cwd=tmp_path).returncode == 0
    run = subprocess.run([sys.executable, "model.py"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    printed = _printed(run.stdout)
    np.testing.assert_allclose(printed["W1"], net.mlp.layers[0].W, **TOLERANCE)
    assert _gradtrace("export", "model.npz", "-o", "model.pt", cwd=tmp_path).returncode == 0


def test_export_bad_output_is_one_line(tmp_path: Path) -> None:
    result = _gradtrace("export", "seed", "-o", "seed.txt", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "use .py for a PyTorch script" in result.stderr
