"""The page in headless Chromium (Debian's binary, driven by Playwright): step, edit, train.

Screenshots go to test-artifacts/. No request may leave localhost and the console must stay clean.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
playwright_api = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")

from gradtrace.spec import load_spec  # noqa: E402  (after the skips above)
from gradtrace.trace.json import to_dict  # noqa: E402
from gradtrace.trace.record import trace_steps  # noqa: E402
from gradtrace.web import create_app  # noqa: E402
from gradtrace.web.standalone import render_interactive  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


class Watched:
    """A page with its console errors and every request URL recorded."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))

    def check_clean(self, allowed: tuple[str, ...]) -> None:
        assert self.errors == []
        outside = [url for url in self.requests if not url.startswith(allowed)]
        assert outside == [], f"requests left localhost: {outside}"


@pytest.fixture
def watched(browser: Any, base_url: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    result = Watched(page)
    yield result
    context.close()
    result.check_clean((base_url, "data:", "blob:"))


def open_page(watched: Watched, base_url: str, fragment: str = "") -> Any:
    page = watched.page
    page.goto(f"{base_url}/{fragment}")
    page.wait_for_selector("body[data-ready=true]")
    return page


def step_to(page: Any, key: str) -> None:
    """Walk with the arrow keys: forward to ``key``, or back to it from the end."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for arrow, end in (("ArrowRight", "next"), ("ArrowLeft", "prev")):
        for _ in range(200):
            if page.get_attribute("[data-testid=quantity]", "data-key") == key:
                return
            if page.is_disabled(f"[data-testid={end}]"):
                break
            page.keyboard.press(arrow)
    raise AssertionError(f"never reached {key}")


def result_value(page: Any) -> Any:
    return json.loads(page.get_attribute("[data-testid=result]", "data-value"))


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_step_through_the_seed_example_to_the_update(watched: Watched, base_url: str) -> None:
    page = open_page(watched, base_url)
    assert page.text_content("[data-testid=position]") == "1 / 18"  # ∂C/∂a1 is one of the 18
    step_to(page, "a2")
    assert result_value(page)[0][0] == pytest.approx(0.66507364, abs=1e-8)
    assert "0.665074" in page.text_content("[data-testid=result]")
    assert "σ" in page.text_content("[data-testid=formula]")
    assert "0.685987" in page.text_content("[data-testid=numbers]")
    assert "current" in (page.get_attribute("[data-testid=node-2-1]", "class") or "")
    shoot(page, "seed-a2.png")
    step_to(page, "W1_new")
    W1 = result_value(page)
    assert W1[0] == pytest.approx([0.199045344, 0.198090689], abs=1e-9)
    assert W1[1] == pytest.approx([0.297175, 0.29435], abs=1e-9)
    assert "0.199045" in page.text_content("[data-testid=result]")
    step_to(page, "W2_new")
    assert result_value(page)[0] == pytest.approx([0.27969149, 0.87874292], abs=1e-8)
    assert "current" in (page.get_attribute("[data-testid=edge-2-1-2]", "class") or "")
    page.click("[data-testid=prev]")
    assert page.get_attribute("[data-testid=quantity]", "data-key") == "b1_new"
    page.check("[data-testid=view-neuron]")
    step_to(page, "W1_new")
    assert page.locator("[data-testid=equation]").count() == 4
    shoot(page, "seed-update-neuron-view.png")


def test_click_an_edge_and_edit_its_weight(watched: Watched, base_url: str) -> None:
    page = open_page(watched, base_url)
    step_to(page, "a2")
    before = result_value(page)[0][0]
    page.click("[data-testid=edge-2-1-1]")
    assert "W2[1,1]" in page.text_content("[data-testid=inspector]")
    page.fill("[data-testid=edit-weight]", "-0.5")
    page.press("[data-testid=edit-weight]", "Enter")
    page.wait_for_function("([old]) => document.querySelector('[data-testid=result]')"
                           ".dataset.value !== old", arg=[json.dumps([[before]])])
    after = result_value(page)[0][0]
    assert after < before  # a smaller weight on a positive activation lowers y_hat
    assert page.get_attribute("[data-testid=quantity]", "data-key") == "a2"
    assert page.url.split("#")[1].startswith("spec=")  # the state is in the URL
    # a neuron shows its quantities, and the layer editor changes the shape
    page.click("[data-testid=node-1-2]")
    assert "δ1[2]" in page.text_content("[data-testid=inspector]")
    page.click("[data-testid=add-unit-1]")
    page.wait_for_selector("[data-testid=node-1-3]")
    page.select_option("[data-testid=activation-1]", "tanh")
    page.wait_for_function("() => document.querySelector('[data-testid=diagram]').textContent"
                           ".includes('a1 tanh')")
    page.select_option("[data-testid=activation-1]", "relu")
    assert page.is_hidden("[data-testid=error]")
    shoot(page, "edited.png")
    # the shared link restores the same state in a fresh page
    link = page.url
    page.goto("about:blank")
    page.goto(link)
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("[data-testid=node-1-3]").count() == 1


def test_a_bad_edit_shows_the_servers_message(watched: Watched, base_url: str) -> None:
    page = open_page(watched, base_url)
    page.select_option("[data-testid=activation-1]", "softmax")
    page.wait_for_selector("[data-testid=error]:not([hidden])")
    assert "softmax is only supported on the output layer" in page.text_content(
        "[data-testid=error]")
    assert page.text_content("[data-testid=position]") == "1 / 18"  # the old trace stays
    watched.errors.clear()  # the 422 response itself is logged by Chromium as a failed load


def test_play_training_on_xor_lowers_the_loss(watched: Watched, base_url: str) -> None:
    page = open_page(watched, base_url)
    page.select_option("[data-testid=example]", "xor")
    page.click("[data-testid=load-example]")
    page.wait_for_function("() => document.querySelector('[data-testid=units-1]').textContent.trim()"
                           " === '3'")
    page.click("[data-testid=add-unit-1]")
    page.wait_for_selector("[data-testid=node-1-4]")
    page.select_option("[data-testid=dataset]", "xor")
    page.fill("[data-testid=frame-steps]", "25")
    page.click("[data-testid=play]")
    page.wait_for_function("() => Number(document.querySelector('[data-testid=train-status]')"
                           ".dataset.steps || 0) >= 400", timeout=30_000)
    page.click("[data-testid=pause]")
    page.wait_for_function("() => !document.querySelector('[data-testid=play]').disabled")
    status = page.locator("[data-testid=train-status]")
    assert "accuracy" in status.text_content()
    loss = float(status.get_attribute("data-loss"))
    assert loss < 0.5  # XOR's untrained loss is about ln 2 = 0.69
    page.wait_for_function("() => document.querySelector('[data-testid=quantity]').dataset.key")
    step_to(page, "delta1")
    shoot(page, "xor-training.png")


def test_the_offline_copy_works_from_a_file_url(watched: Watched, tmp_path: Path) -> None:
    spec = load_spec("seed")
    X, Y = spec.arrays()
    trace, _ = trace_steps(spec.build_mlp(), X, Y, learning_rate=spec.learning_rate, name="seed")
    path = tmp_path / "seed.html"
    path.write_text(render_interactive(to_dict(trace)), encoding="utf-8")
    page = watched.page
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    assert page.is_visible("[data-testid=offline-note]")
    step_to(page, "a2")
    assert result_value(page)[0][0] == pytest.approx(0.66507364, abs=1e-8)
    step_to(page, "W1_new")
    assert "0.199045" in page.text_content("[data-testid=result]")
    watched.check_clean((path.as_uri(), "data:"))
    watched.requests.clear()
