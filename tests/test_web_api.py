"""The web API through the ASGI test client: each endpoint, every class of bad request, the caps."""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():  # starlette's notice about httpx, not about our code
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from gradtrace.web import limits
from gradtrace.web.standalone import render_interactive


def xor_net(client: TestClient, sizes: list[int], activations: list[str]) -> dict[str, Any]:
    spec: dict[str, Any] = client.get("/api/examples/xor").json()
    return {**spec, "sizes": sizes, "activations": activations}


def error_of(response: Any, status: int) -> tuple[list[Any], str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["detail"][0]["msg"] == body["message"]
    return body["detail"][0]["loc"], body["message"]


# ---- endpoints ---------------------------------------------------------------------------------

def test_examples_list_and_one_example(client: TestClient) -> None:
    names = [item["name"] for item in client.get("/api/examples").json()]
    assert {"seed", "xor", "softmax", "mattmazur"} <= set(names)
    seed = client.get("/api/examples/seed").json()
    assert seed["layers"][1]["weights"] == [[0.3, 0.9]] and seed["data"]["target"] == [0.5]


def test_unknown_example_is_404_with_a_suggestion(client: TestClient) -> None:
    loc, message = error_of(client.get("/api/examples/sed"), 404)
    assert loc == ["path", "name"] and "did you mean 'seed'?" in message


def test_step_returns_the_seed_notebooks_numbers(client: TestClient, seed: dict[str, Any]) -> None:
    trace = client.post("/api/step", json=seed).json()
    assert trace["schema"] == "gradtrace.trace/1"
    step = trace["steps"][0]
    assert step["forward"][-1]["a"][0][0] == pytest.approx(0.6650736395247564, abs=1e-15)
    W1, W2 = step["update"][0]["W_new"], step["update"][1]["W_new"]
    assert W1[0] == pytest.approx([0.199045344, 0.198090689], abs=1e-9)
    assert W1[1] == pytest.approx([0.297175000, 0.294350001], abs=1e-9)
    assert W2[0] == pytest.approx([0.279691490, 0.878742916], abs=1e-9)
    keys = [q["key"] for q in step["explanation"]]
    assert keys[:6] == ["a0", "z1", "a1", "z2", "a2", "cost"] and keys[-1] == "b2_new"


def test_step_traces_several_steps(client: TestClient, seed: dict[str, Any]) -> None:
    trace = client.post("/api/step", json={**seed, "steps": 3}).json()
    steps = trace["steps"]
    assert len(steps) == 3 and steps[1]["update"][0]["W_old"] == steps[0]["update"][0]["W_new"]


def test_step_explains_adam(client: TestClient, seed: dict[str, Any]) -> None:
    body = {**seed, "steps": 2, "optimizer": {"name": "adam"}}
    trace = client.post("/api/step", json=body).json()
    keys = [q["key"] for q in trace["steps"][1]["explanation"]]
    assert {"m_W1", "v_W1", "mhat_W1", "vhat_W1", "W1_new"} <= set(keys)
    assert trace["steps"][1]["optimizer"]["name"] == "adam"


def test_spec_normalises_to_explicit_weights_and_toml(client: TestClient) -> None:
    xor = client.get("/api/examples/xor").json()
    body = client.post("/api/spec", json=xor).json()
    assert [len(layer["weights"]) for layer in body["spec"]["layers"]] == [3, 1]
    assert "[[layers]]" in body["toml"] and 'loss = "binary_cross_entropy"' in body["toml"]
    again = client.post("/api/spec/text", json={"text": body["toml"], "format": "toml"}).json()
    assert again["spec"] == body["spec"]


def test_spec_text_reports_toml_syntax_errors(client: TestClient) -> None:
    loc, message = error_of(client.post("/api/spec/text", json={"text": "loss = ", "format": "toml"}),
                            422)
    assert loc == ["body", "text"] and "malformed TOML" in message


def test_train_lowers_the_loss_and_returns_a_grid(client: TestClient) -> None:
    spec = xor_net(client, [2, 8, 8, 1], ["tanh", "tanh", "sigmoid"])
    body = client.post("/api/train", json={"spec": spec, "dataset": "xor", "steps": 60,
                                           "points": 100, "grid": 20}).json()
    assert len(body["loss"]) == 60 and body["loss"][-1] < body["loss"][0]
    assert body["grid"]["size"] == 20 and len(body["grid"]["values"]) == 20
    assert len(body["points"]["x"]) == 100 and set(body["points"]["label"]) == {0, 1}
    assert 0.0 <= body["accuracy"] <= 1.0
    # the returned spec continues where training stopped
    more = client.post("/api/train", json={"spec": body["spec"], "steps": 1, "points": 100,
                                           "grid": 0}).json()
    assert more["loss"][0] == pytest.approx(body["loss"][-1], rel=0.2) and more["grid"] is None


def test_train_on_the_specs_own_data(client: TestClient, seed: dict[str, Any]) -> None:
    body = client.post("/api/train", json={"spec": seed, "dataset": "spec", "steps": 5}).json()
    assert len(body["loss"]) == 5 and body["accuracy"] is None
    assert body["grid"] is not None  # the seed network takes 2 inputs


def test_multi_class_dataset_with_one_output_per_class(client: TestClient) -> None:
    spec = {"loss": "cross_entropy", "sizes": [2, 4, 3], "activations": ["tanh", "softmax"],
            "data": {"input": [0.0, 0.0], "target": [1.0, 0.0, 0.0]}}
    body = client.post("/api/train", json={"spec": spec, "dataset": "gaussians", "steps": 5,
                                           "grid": 4}).json()
    assert body["grid"]["kind"] == "class"


def test_notation_options_limits_openapi_and_the_page(client: TestClient) -> None:
    assert client.get("/api/notation").json()["delta"]["text"] == "δ{l}"
    options = client.get("/api/options").json()
    assert "sigmoid" in options["activations"] and "circles" in options["datasets"]
    assert client.get("/api/limits").json()["train_steps"] == limits.MAX_TRAIN_STEPS
    assert "/api/step" in client.get("/openapi.json").json()["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    assert 'src="/static/app.js"' in page.text
    assert client.get("/static/mathml.js").status_code == 200


def test_no_file_system_access_through_static(client: TestClient) -> None:
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/%2e%2e/app.py").status_code == 404


# ---- bad requests ------------------------------------------------------------------------------

def post_raw(client: TestClient, path: str, text: str) -> Any:
    return client.post(path, content=text.encode(), headers={"content-type": "application/json"})


def test_malformed_json(client: TestClient) -> None:
    loc, message = error_of(post_raw(client, "/api/step", '{"loss": '), 422)
    assert loc == ["body"] and message.startswith("request body: malformed JSON at character")


def test_body_that_is_not_an_object(client: TestClient) -> None:
    _, message = error_of(client.post("/api/step", json=[1, 2]), 422)
    assert "valid dictionary" in message


def test_wrong_shapes_name_the_field(client: TestClient, seed: dict[str, Any]) -> None:
    layers = [seed["layers"][0], {**seed["layers"][1], "weights": [[0.3, 0.9, 1.0]]}]
    loc, message = error_of(client.post("/api/step", json={**seed, "layers": layers}), 422)
    assert "layers[1].weights has shape (1, 3)" in message and "expected shape (1, 2)" in message
    ragged = [{**seed["layers"][0], "weights": [[0.2, 0.2], [0.3]]}, seed["layers"][1]]
    loc, message = error_of(client.post("/api/step", json={**seed, "layers": ragged}), 422)
    assert loc == ["body", "layers", 0, "weights"] and "different lengths" in message
    data = {"input": [0.35, 0.7, 1.0], "target": [0.5]}
    _, message = error_of(client.post("/api/step", json={**seed, "data": data}), 422)
    assert "data.input has 3 values a sample; the network takes 2 inputs" in message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_are_refused(client: TestClient, seed: dict[str, Any],
                                           literal: str) -> None:
    text = json.dumps({**seed, "learning_rate": 0.5}).replace("0.5,", f"{literal},", 1)
    loc, message = error_of(post_raw(client, "/api/step", text), 422)
    assert loc == ["body", "learning_rate"] and "finite number" in message
    bad = json.dumps(seed).replace("0.35", literal)
    loc, message = error_of(post_raw(client, "/api/step", bad), 422)
    assert loc[:3] == ["body", "data", "input"] and "finite" in message


def test_unknown_activation_suggests_the_closest(client: TestClient, seed: dict[str, Any]) -> None:
    layers = [{**seed["layers"][0], "activation": "sigmod"}, seed["layers"][1]]
    loc, message = error_of(client.post("/api/step", json={**seed, "layers": layers}), 422)
    assert loc == ["body", "layers", 0, "activation"]
    assert message.startswith("layers[0].activation: unknown activation 'sigmod'; did you mean "
                              "'sigmoid'?")


def test_unknown_dataset_and_nested_spec_errors(client: TestClient, seed: dict[str, Any]) -> None:
    loc, message = error_of(client.post("/api/train", json={"spec": seed, "dataset": "xr"}), 422)
    assert loc == ["body", "dataset"] and "did you mean 'xor'?" in message
    bad = {**seed, "loss": "hinge"}
    loc, message = error_of(client.post("/api/train", json={"spec": bad}), 422)
    assert loc == ["body", "spec", "loss"] and message.startswith("spec.loss: unknown loss 'hinge'")
    loc, _ = error_of(client.post("/api/train", json={"spec": seed, "points": 1}), 422)
    assert loc == ["body", "points"]
    loc, _ = error_of(client.post("/api/train", json={"spec": seed, "extra": 1}), 422)
    assert loc == ["body", "extra"]


def test_network_that_does_not_fit_the_dataset(client: TestClient) -> None:
    spec = {"sizes": [3, 2, 1], "data": {"input": [1.0, 2.0, 3.0], "target": [1.0]}}
    loc, message = error_of(client.post("/api/train", json={"spec": spec}), 422)
    assert loc == ["body", "spec"] and "make the input layer 2 units wide" in message


def test_step_without_data(client: TestClient) -> None:
    loc, message = error_of(client.post("/api/step", json={"sizes": [2, 1]}), 422)
    assert loc == ["body", "data"] and "add data.input" in message


def test_divergence_is_a_readable_error(client: TestClient) -> None:
    spec = xor_net(client, [2, 8, 1], ["relu", "sigmoid"])
    spec = {**spec, "loss": "half_sse", "activations": ["relu", "linear"], "learning_rate": 1e6}
    loc, message = error_of(client.post("/api/train", json={"spec": spec, "steps": 200,
                                                            "grid": 0}), 422)
    assert loc == ["body", "spec", "learning_rate"] and "lower the learning rate" in message


# ---- limits ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "loc"), [
    ({"steps": limits.MAX_TRAIN_STEPS + 1}, ["body", "steps"]),
    ({"points": limits.MAX_POINTS + 1}, ["body", "points"]),
    ({"grid": limits.MAX_GRID + 1}, ["body", "grid"]),
])
def test_train_caps(client: TestClient, seed: dict[str, Any], body: dict[str, Any],
                    loc: list[Any]) -> None:
    got, message = error_of(client.post("/api/train", json={"spec": seed, **body}), 413)
    assert got == loc and "capped at" in message


def test_step_caps(client: TestClient, seed: dict[str, Any]) -> None:
    loc, message = error_of(client.post("/api/step", json={**seed, "steps": 1000}), 413)
    assert loc == ["body", "steps"] and "use /api/train" in message
    wide = {"sizes": [2, limits.MAX_UNITS + 1, 1], "data": seed["data"]}
    loc, message = error_of(client.post("/api/step", json=wide), 413)
    assert loc == ["body", "sizes", 1] and f"capped at {limits.MAX_UNITS}" in message
    deep = {"sizes": [2] * (limits.MAX_LAYERS + 2), "data": {"input": [1, 2], "target": [1, 2]}}
    loc, _ = error_of(client.post("/api/step", json=deep), 413)
    assert loc == ["body", "sizes"]
    batch = {**seed, "data": {"input": [[0.1, 0.2]] * (limits.MAX_BATCH + 1),
                              "target": [[0.5]] * (limits.MAX_BATCH + 1)}}
    loc, _ = error_of(client.post("/api/step", json=batch), 413)
    assert loc == ["body", "data", "input"]
    wide_train = {"spec": {"sizes": [2, 500, 1]}}
    loc, _ = error_of(client.post("/api/train", json=wide_train), 413)
    assert loc == ["body", "spec", "sizes", 1]


def test_body_size_cap(client: TestClient) -> None:
    text = '{"name": "' + "x" * (limits.MAX_BODY_BYTES + 10) + '"}'
    _, message = error_of(post_raw(client, "/api/step", text), 413)
    assert "request body of" in message


# ---- the offline copy ----------------------------------------------------------------------------

def test_standalone_page_inlines_everything(client: TestClient, seed: dict[str, Any]) -> None:
    trace = client.post("/api/step", json=seed).json()
    html = render_interactive(trace)
    assert 'id="gt-embedded"' in html and "<style>" in html
    assert 'src="/static' not in html and 'href="/static' not in html
    assert "import " not in html.split('<script type="module">')[1]
    # the only URL is the SVG namespace, which names a vocabulary and is never fetched
    assert set(re.findall(r"https?://[^\s\"']+", html)) == {"http://www.w3.org/2000/svg"}
