"""What the page's Train panel asks of the server: features, splits, batches, L1, thumbnails, the
regression datasets; L1 against PyTorch autograd of C + λ₁ Σ|θ|."""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import numpy as np
import pytest

with warnings.catch_warnings():  # starlette's notice about httpx, not about our code
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from gradtrace.core.network import forward
from gradtrace.core.optimizers import make_optimizer
from gradtrace.data.features import FEATURES, check_features, feature_matrix
from gradtrace.data.synthetic import REGRESSIONS, bumps, plane, plane_grid
from gradtrace.spec import parse_spec
from gradtrace.web.training import TrainSettings, split, train

XOR_NET = {"sizes": [2, 4, 4, 1], "activations": ["tanh", "tanh", "sigmoid"],
           "loss": "binary_cross_entropy", "learning_rate": 0.3, "seed": 3}


def post(client: TestClient, **request: Any) -> dict[str, Any]:
    response = client.post("/api/train", json={"spec": XOR_NET, **request})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_features_are_the_columns_named() -> None:
    X = np.array([[0.5, -2.0], [1.0, 3.0]])
    F = feature_matrix(X, ["x1^2", "x1*x2", "sin_x2"])
    np.testing.assert_allclose(F, [[0.25, -1.0, np.sin(-2.0)], [1.0, 3.0, np.sin(3.0)]])
    assert feature_matrix(X, ["x1", "x2"]) is X
    with pytest.raises(ValueError, match="did you mean 'x1\\^2'"):
        check_features(["x1^3"])
    with pytest.raises(ValueError, match="twice"):
        check_features(["x1", "x1"])


def test_features_change_the_input_layer_and_the_traced_batch(client: TestClient) -> None:
    features = ["x1", "x2", "x1*x2"]
    response = client.post("/api/train", json={"spec": XOR_NET, "features": features, "steps": 0})
    assert response.status_code == 422
    assert "gives 3 input features (x₁, x₂, x₁·x₂) but the network takes 2" in response.json()[
        "message"]
    wide = {**XOR_NET, "sizes": [3, 4, 4, 1]}
    body = client.post("/api/train", json={"spec": wide, "features": features, "steps": 0}).json()
    sample = np.array(body["sample"]["input"])  # (4, 3): a0 of the traced batch
    points = np.array(body["points"]["x"])
    first = points[0]
    assert sample.shape == (4, 3)
    np.testing.assert_allclose(sample[0], [first[0], first[1], first[0] * first[1]], atol=2e-3)
    # the thumbnails of the input layer are the features themselves over the plane
    assert len(client.post("/api/train", json={"spec": wide, "features": features, "steps": 0,
                                               "thumbnail": 8}).json()["units"]["layers"][0]) == 3


def test_steps_zero_draws_the_data_and_the_untrained_network(client: TestClient) -> None:
    body = post(client, steps=0, grid=10, thumbnail=8, batch_size=10)
    assert body["loss"] == [] and body["spec"]["layers"] == post(client, steps=0)["spec"]["layers"]
    assert len(body["points"]["x"]) == 200 and body["grid"]["size"] == 10
    assert body["train_loss"] == pytest.approx(np.log(2), abs=0.1)  # an untrained classifier


def test_split_holds_out_the_test_points_and_reports_both_losses(client: TestClient) -> None:
    train_rows, test_rows = split(200, 0.3, seed=5)
    assert len(test_rows) == 60 and not set(train_rows) & set(test_rows)
    body = post(client, test_ratio=0.3, steps=50, batch_size=10)
    assert sum(body["points"]["test"]) == 60
    assert body["test_loss"] is not None and body["train_loss"] < 0.69
    assert len(body["loss"]) == 50
    assert post(client, steps=1)["test_loss"] is None


def test_batches_of_ten_are_ten_point_steps() -> None:
    spec = parse_spec(XOR_NET)
    settings = TrainSettings("xor", 200, None, 0, 3, 0, batch_size=200)
    full = train(spec, settings)
    one = train(spec, TrainSettings("xor", 200, None, 0, 3, 0, batch_size=None))
    assert full["loss"] == one["loss"]  # a batch as large as the data is the full batch
    small = train(spec, TrainSettings("xor", 200, None, 0, 3, 0, batch_size=10))
    assert small["loss"] != full["loss"]
    shuffled = train(spec, TrainSettings("xor", 200, None, 0, 3, 0, batch_size=10, start=30))
    assert shuffled["loss"] != small["loss"]  # a later request draws other batches


def test_thumbnails_decode_to_each_units_activation(client: TestClient) -> None:
    body = post(client, steps=5, thumbnail=6)
    units = body["units"]
    assert units["size"] == 6 and [len(layer) for layer in units["layers"]] == [2, 4, 4, 1]
    spec = parse_spec(body["spec"])
    points = np.array(body["points"]["x"])
    _, _, grid = plane_grid(points, 6)
    expected = forward(spec.build_mlp(), grid).a[2][:, 1]  # layer 2, unit 2
    unit = units["layers"][2][1]
    lo, hi = unit["range"]
    decoded = lo + np.frombuffer(base64.b64decode(unit["bytes"]), np.uint8) / 255 * (hi - lo)
    np.testing.assert_allclose(decoded, expected, atol=(hi - lo) / 500 + 2e-3)


@pytest.mark.parametrize("name", list(REGRESSIONS))
def test_a_regression_dataset_trains_a_linear_output_with_mse(client: TestClient,
                                                              name: str) -> None:
    net = {"sizes": [2, 6, 1], "activations": ["tanh", "linear"], "loss": "mse",
           "learning_rate": 0.1, "seed": 1}
    first = client.post("/api/train", json={"spec": net, "dataset": name, "steps": 0}).json()
    body = client.post("/api/train", json={"spec": net, "dataset": name, "steps": 300,
                                           "batch_size": 10, "grid": 8}).json()
    assert body["train_loss"] < first["train_loss"] * 0.6
    assert body["points"]["target"] is not None and body["points"]["label"] is None
    assert body["grid"]["kind"] == "output" and body["accuracy"] is None
    wide = {**net, "sizes": [2, 6, 2], "activations": ["tanh", "linear"]}
    response = client.post("/api/train", json={"spec": wide, "dataset": name, "steps": 1})
    assert response.status_code == 422 and "give it 1 output" in response.json()["message"]


def test_regression_generators_are_seeded_functions_of_the_plane() -> None:
    X, t = plane(50, noise=0.0, seed=2)
    np.testing.assert_allclose(t, (X[:, 0] + X[:, 1]) / 2)
    X2, t2 = bumps(50, noise=0.0, seed=2)
    assert abs(t2[np.argmin(((X2 - [0.5, 0.5]) ** 2).sum(1))]) > 0.3
    np.testing.assert_array_equal(bumps(20, seed=4)[1], bumps(20, seed=4)[1])


def test_l1_is_validated_and_pulls_weights_to_zero(client: TestClient) -> None:
    response = client.post("/api/train", json={"spec": XOR_NET, "l1": -0.1})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "l1"]
    plain = post(client, steps=100, l1=0.0)["spec"]["layers"]
    sparse = post(client, steps=100, l1=0.05)["spec"]["layers"]
    size = [sum(abs(w) for row in layer["weights"] for w in row) for layer in (plain[0], sparse[0])]
    assert size[1] < size[0]


@pytest.mark.torch
@pytest.mark.parametrize(("name", "theirs"), [("sgd", {}), ("momentum", {"momentum": 0.9}),
                                              ("adam", {})])
def test_l1_matches_torch_autograd_of_the_penalty(name: str, theirs: dict[str, Any]) -> None:
    """θ's update from g + λ₁ sign(θ) + λθ equals torch's from ∇(g·θ + λ₁ Σ|θ|), weight decay λ."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    W0 = rng.normal(size=(4, 3))
    W0[0, 0] = 0.0  # sign(0) = 0: the subgradient both take at a kink
    grads = [rng.normal(size=(4, 3)) for _ in range(5)]
    l1, decay, learning_rate = 0.07, 0.02, 0.05
    ours = make_optimizer(name, learning_rate, l1=l1, weight_decay=decay,
                          **({"momentum": 0.9} if name == "momentum" else {}))
    W = W0.copy()
    tW = torch.tensor(W0, requires_grad=True)
    torch_class = torch.optim.Adam if name == "adam" else torch.optim.SGD
    theirs_optimizer = torch_class([tW], lr=learning_rate, weight_decay=decay, **theirs)
    for g in grads:
        ours.update("W1", W, g.copy())
        theirs_optimizer.zero_grad()
        ((torch.tensor(g) * tW).sum() + l1 * tW.abs().sum()).backward()
        theirs_optimizer.step()
        np.testing.assert_allclose(W, tW.detach().numpy(), rtol=0, atol=1e-10)


def test_options_name_the_features_and_regression_datasets(client: TestClient) -> None:
    options = client.get("/api/options").json()
    assert [f["name"] for f in options["features"]] == list(FEATURES)
    assert set(options["regression"]) <= set(options["datasets"])


def test_a_play_frame_can_leave_the_points_out_and_send_the_grid_as_bytes(
        client: TestClient) -> None:
    full = post(client, steps=2, grid=12)
    frame = post(client, steps=2, grid=12, send_points=False, compact=True)
    assert frame["points"] is None and full["points"] is not None
    grid = frame["grid"]
    lo, hi = grid["range"]
    decoded = lo + np.frombuffer(base64.b64decode(grid["bytes"]), np.uint8) / 255 * (hi - lo)
    np.testing.assert_allclose(decoded, np.ravel(full["grid"]["values"]), atol=(hi - lo) / 500 + 1e-3)
    assert len(json.dumps(frame)) < len(json.dumps(full)) / 2


def test_the_default_network_validates(client: TestClient) -> None:
    assert client.get("/api/session").json() == {"spec": None}
    response = client.post("/api/spec", json=client.get("/api/default").json())
    assert response.status_code == 200
    assert [len(layer["weights"]) for layer in response.json()["spec"]["layers"]] == [4, 4, 1]
