"""The page in headless Chromium (Debian's binary, driven by Playwright): step, edit, train.

Screenshots go to test-artifacts/. No request may leave localhost and the console must stay clean.
"""

from __future__ import annotations

import json
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
from local_server import running  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running(create_app()) as port:
        yield f"http://127.0.0.1:{port}"


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
    page = open_page(watched, base_url, "#example=seed")
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
    page = open_page(watched, base_url, "#example=seed")
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
    page = open_page(watched, base_url, "#example=seed")
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


def open_offline_copy(watched: Watched, tmp_path: Path) -> tuple[Any, Path]:
    """The seed's offline page (--format html --interactive) opened from a file:// URL; the page
    and the file."""
    spec = load_spec("seed")
    X, Y = spec.arrays()
    trace, _ = trace_steps(spec.build_mlp(), X, Y, learning_rate=spec.learning_rate, name="seed")
    path = tmp_path / "seed.html"
    path.write_text(render_interactive(to_dict(trace)), encoding="utf-8")
    page = watched.page
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    return page, path


def test_the_offline_copy_works_from_a_file_url(watched: Watched, tmp_path: Path) -> None:
    page, path = open_offline_copy(watched, tmp_path)
    assert page.is_visible("[data-testid=offline-note]")
    step_to(page, "a2")
    assert result_value(page)[0][0] == pytest.approx(0.66507364, abs=1e-8)
    step_to(page, "W1_new")
    assert "0.199045" in page.text_content("[data-testid=result]")
    watched.check_clean((path.as_uri(), "data:"))
    watched.requests.clear()


# ---- issue #10: the page at Playground's level -------------------------------------------------

def wait_idle(page: Any) -> None:
    """Until a run has ended (Play enabled again) and the step is traced."""
    page.wait_for_function("() => !document.querySelector('[data-testid=play]').disabled")
    page.wait_for_function("() => document.querySelector('[data-testid=quantity]').dataset.key")


def steps_done(page: Any) -> int:
    return int(page.get_attribute("[data-testid=train-status]", "data-steps") or 0)


def canvas_url(page: Any, testid: str) -> str:
    url: str = page.evaluate(f"document.querySelector('[data-testid={testid}]').toDataURL()")
    return url


def test_the_first_play_learns_xor_with_everything_in_view(browser: Any, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    watched = Watched(page)
    page.goto(base_url)
    page.wait_for_selector("body[data-ready=true]")
    # the data is drawn before any step, and the untrained loss is shown
    page.wait_for_function("() => document.querySelector('[data-testid=train-status]')"
                           ".dataset.steps === '0'")
    blank = page.evaluate("(() => { const c = document.createElement('canvas');"
                          " const b = document.querySelector('[data-testid=boundary]');"
                          " c.width = b.width; c.height = b.height; return c.toDataURL(); })()")
    assert canvas_url(page, "boundary") != blank
    # network (with a heat map per unit), loss curve and boundary on one laptop screen
    for testid in ("diagram", "thumb-3-1", "loss-curve", "boundary", "play"):
        box = page.locator(f"[data-testid={testid}]").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 720 and box["x"] >= 0, testid
        assert box["x"] + box["width"] <= 1280, testid
    assert page.locator("[data-testid^=thumb-]").count() == 2 + 4 + 4 + 1
    first = page.get_attribute("[data-testid=thumb-2-1]", "data-bytes")
    page.click("[data-testid=play]")
    page.wait_for_function("() => Number(document.querySelector('[data-testid=train-status]')"
                           ".dataset.steps || 0) >= 100")
    # live during Play: the thumbnails (and the edges) are redrawn from each frame
    assert page.is_disabled("[data-testid=play]")
    assert page.get_attribute("[data-testid=thumb-2-1]", "data-bytes") != first
    page.wait_for_function("() => Number(document.querySelector('[data-testid=train-status]')"
                           ".dataset.steps || 0) >= 600", timeout=40_000)
    page.click("[data-testid=pause]")
    wait_idle(page)
    status = page.locator("[data-testid=train-status]")
    assert float(status.get_attribute("data-loss")) < 0.45  # untrained: ln 2 = 0.69
    assert float(status.get_attribute("data-test-loss")) < 0.5  # the held-out half too
    # the test loss is plotted (dashed blue) beside the training loss
    blue = page.evaluate("""(() => { const c = document.querySelector('[data-testid=loss-curve]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 80 && d[i + 2] > 140) n += 1;
        return n; })()""")
    assert blue > 30
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-1280x720.png"))
    context.close()
    watched.check_clean((base_url, "data:", "blob:"))


def test_a_training_error_stays_until_the_user_acts(watched: Watched, base_url: str) -> None:
    page = open_page(watched, base_url)
    page.click("[data-testid=add-unit-0]")  # 3 inputs, while the dataset gives x1, x2
    page.wait_for_selector("[data-testid=node-0-3]")
    page.click("[data-testid=train-step]")
    wait_idle(page)
    page.wait_for_timeout(600)  # the old page cleared it within 130 ms of the run's end
    assert page.is_visible("[data-testid=error]")
    assert "gives 2 input features" in page.text_content("[data-testid=error]")
    watched.errors.clear()  # the 422 responses are logged by Chromium as failed loads


def test_the_loss_history_is_bounded_and_draws_any_length(watched: Watched, base_url: str) -> None:
    page = open_page(watched, base_url)
    result = page.evaluate("""async () => {
        const { thin, drawLoss, HISTORY } = await import('/static/train.js');
        let history = [];
        for (let step = 1; step <= 300000; step += 1) {
          history.push({ step, train: 1 / step, test: 2 / step });
          history = thin(history);
        }
        const canvas = document.createElement('canvas');
        const long = Array.from({ length: 200000 }, (_, i) => ({ step: i, train: 1, test: null }));
        drawLoss(canvas, long);  // Math.max(...200000 numbers) threw here before
        drawLoss(canvas, history);
        return [history.length, HISTORY, history[0].step, history[history.length - 1].step];
    }""")
    length, limit, first, last = result
    assert length <= limit and first == 1 and last == 300000


@pytest.mark.parametrize("fragment", ["", "#example=seed"])
def test_no_horizontal_scroll_on_a_phone(browser: Any, base_url: str, fragment: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    page.goto(f"{base_url}/{fragment}")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function("() => document.querySelector('[data-testid=train-status]')"
                           ".dataset.steps === '0'")
    step_to(page, "delta1")  # a wide equation
    page.check("[data-testid=view-neuron]")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    for testid in ("loss-curve", "boundary", "diagram", "play", "reset-weights"):
        box = page.locator(f"[data-testid={testid}]").bounding_box()
        assert box["x"] + box["width"] <= 390, testid
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone{fragment.replace('#', '-').replace('=', '-')}.png"),
                    full_page=True)
    context.close()


def test_the_offline_copy_shows_only_what_works(watched: Watched, tmp_path: Path) -> None:
    page, _ = open_offline_copy(watched, tmp_path)
    for testid in ("load-example", "example", "save-json", "save-toml", "share", "upload",
                   "play", "editor"):
        assert page.locator(f"[data-testid={testid}]").is_hidden(), testid
    assert page.is_visible("[data-testid=next]") and page.is_visible("[data-testid=diagram]")
    watched.requests.clear()


def base64url(text: str) -> str:
    import base64
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(("fragment", "said"), [
    ("#spec=eyJub3QganNvbg", "damaged"),  # '{"not json', cut short
    ("#spec=ab%21cd", "damaged"),  # a character base64url never has
    ("#spec=" + base64url('{"layers": 5}'), "the link's spec is not valid: layers"),
    ("#example=sede", "did you mean 'seed'"),
])
def test_a_bad_link_says_what_is_wrong_and_shows_the_default(watched: Watched, base_url: str,
                                                            fragment: str, said: str) -> None:
    page = open_page(watched, base_url, fragment)
    page.wait_for_timeout(300)
    assert page.is_visible("[data-testid=error]")
    message = page.text_content("[data-testid=error]")
    assert said in message and "showing the default network" in message
    assert page.locator("[data-testid=node-2-4]").count() == 1  # the default network, drawn
    assert page.text_content("[data-testid=position]").startswith("1 / ")
    watched.errors.clear()  # the 422/404 responses are logged by Chromium as failed loads


def test_nothing_is_requested_off_host(browser: Any, base_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith((base_url, "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", guard)
    page.goto(base_url)
    page.wait_for_selector("body[data-ready=true]")
    page.click("[data-testid=train-step]")
    wait_idle(page)
    context.close()
    assert outside == []


def test_controls_change_what_they_should(watched: Watched, base_url: str) -> None:
    page = open_page(watched, base_url)
    page.wait_for_function("() => document.querySelector('[data-testid=train-status]')"
                           ".dataset.steps === '0'")
    # reset weights: new starting weights, same architecture
    before = page.text_content("[data-testid=edge-1-1-1] title")
    page.click("[data-testid=reset-weights]")
    page.wait_for_function("([old]) => document.querySelector('[data-testid=edge-1-1-1] title')"
                           ".textContent !== old", arg=[before])
    assert page.locator("[data-testid=node-2-4]").count() == 1
    # regenerate: other points
    drawn = canvas_url(page, "boundary")
    page.click("[data-testid=regenerate]")
    page.wait_for_function("([old]) => document.querySelector('[data-testid=boundary]')"
                           ".toDataURL() !== old", arg=[drawn])
    # show test data and discretize redraw the plane
    for toggle in ("show-test", "discrete"):
        drawn = canvas_url(page, "boundary")
        page.check(f"[data-testid={toggle}]")
        assert canvas_url(page, "boundary") != drawn, toggle
    # noise: the points move
    drawn = canvas_url(page, "boundary")
    page.fill("[data-testid=noise]", "0.6")
    page.dispatch_event("[data-testid=noise]", "change")
    page.wait_for_function("([old]) => document.querySelector('[data-testid=boundary]')"
                           ".toDataURL() !== old", arg=[drawn])
    # learning rate, L2: into the spec (the traced step shows them); batch size, L1: training
    page.fill("[data-testid=train-learning-rate]", "0.05")
    page.press("[data-testid=train-learning-rate]", "Enter")
    page.wait_for_function("() => document.querySelector('[data-testid=learning-rate]')"
                           ".value === '0.05'")
    page.fill("[data-testid=l2]", "0.01")
    page.press("[data-testid=l2]", "Enter")
    step_to(page, "W1_new")
    assert "λ" in page.text_content("[data-testid=explanation]")
    page.fill("[data-testid=batch]", "5")
    page.fill("[data-testid=l1]", "0.001")
    page.fill("[data-testid=frame-steps]", "3")
    page.click("[data-testid=train-step]")
    wait_idle(page)
    assert steps_done(page) == 3
    assert page.is_hidden("[data-testid=error]")
    # every control has a name a screen reader can say
    unnamed = page.evaluate("""[...document.querySelectorAll('input, select, button')]
        .filter((e) => e.offsetParent !== null && !e.labels?.length && !e.getAttribute('aria-label')
                 && !e.textContent.trim() && !e.title).map((e) => e.outerHTML)""")
    assert unnamed == []


def test_features_change_the_input_layer_and_a0(watched: Watched, base_url: str) -> None:
    page = open_page(watched, base_url)
    page.check("[data-testid='feature-x1*x2']")
    page.wait_for_selector("[data-testid=node-0-3]")
    step_to(page, "a0")
    a0 = result_value(page)  # (3 features, 4 samples)
    assert len(a0) == 3
    for x1, x2, product in zip(*a0, strict=True):
        assert product == pytest.approx(x1 * x2, abs=1e-3)
    assert "x₁·x₂" in page.text_content("[data-testid=diagram]")
    page.click("[data-testid=train-step]")
    wait_idle(page)
    assert page.is_hidden("[data-testid=error]")
    page.uncheck("[data-testid=feature-x1]")
    page.wait_for_function("() => !document.querySelector('[data-testid=node-0-3]')")
    assert page.is_hidden("[data-testid=error]")


def test_a_regression_dataset_gets_a_linear_output_and_mse(watched: Watched,
                                                           base_url: str) -> None:
    page = open_page(watched, base_url)
    page.select_option("[data-testid=dataset]", "plane")
    page.wait_for_function("() => document.querySelector('[data-testid=loss]').value === 'mse'")
    assert page.input_value("[data-testid=activation-3]") == "linear"
    page.click("[data-testid=train-step]")
    wait_idle(page)
    assert page.is_hidden("[data-testid=error]")
    assert "accuracy" not in page.text_content("[data-testid=train-status]")
    # and back: a sigmoid output with binary cross-entropy, on the dataset's 0/1 targets
    page.select_option("[data-testid=dataset]", "xor")
    page.wait_for_function("() => document.querySelector('[data-testid=loss]').value"
                           " === 'binary_cross_entropy'")
    page.click("[data-testid=train-step]")
    wait_idle(page)
    assert page.is_hidden("[data-testid=error]")


def test_symbols_keyboard_and_text_alternatives(watched: Watched, base_url: str) -> None:
    page = open_page(watched, base_url, "#example=seed")
    names = page.locator("[data-testid=quantity-list] button").all_text_contents()
    assert "δ2" in names and "∂C/∂W2" in names and "C" in names
    assert not [n for n in names if "_" in n or n == "cost"]
    step_to(page, "delta2")
    assert page.text_content("[data-testid=quantity]") == "δ2"
    label = page.get_attribute("[data-testid=formula] math", "aria-label")
    assert label.startswith("δ2 = ") and "⊙" in label
    # edges are reachable with Tab and open with Enter; an edit keeps the focus
    page.focus("[data-testid=edge-2-1-1]")
    page.keyboard.press("Enter")
    assert "W2[1,1]" in page.text_content("[data-testid=inspector]")
    page.fill("[data-testid=edit-weight]", "0.25")
    page.press("[data-testid=edit-weight]", "Enter")
    page.wait_for_function("() => document.querySelector('[data-testid=edge-2-1-1] title')"
                           ".textContent.includes('0.25')")
    assert page.evaluate("document.activeElement.dataset.testid") == "edit-weight"
    # the highlight colour is readable: contrast >= 3:1 against white
    accent = page.evaluate("getComputedStyle(document.documentElement)"
                           ".getPropertyValue('--accent').trim()")
    channels = [int(accent[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    assert 1.05 / (luminance + 0.05) >= 3


def test_crowded_edge_labels_show_on_hover_only(watched: Watched, base_url: str) -> None:
    page = open_page(watched, base_url)  # 2-4-4-1: labels would overlap
    label = "[data-testid=edge-2-1-1] .edge-label"
    assert page.locator(label).is_hidden()
    box = page.evaluate("document.querySelector('[data-testid=edge-2-1-1] line.hit')"
                        ".getBoundingClientRect().toJSON()")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.locator(label).is_visible()
    page.mouse.move(0, 0)
    assert page.locator(label).is_hidden()
    page.focus("[data-testid=edge-2-1-1]")  # and while focused, for the keyboard
    assert page.locator(label).is_visible()
    page.goto(f"{base_url}/#example=seed")  # 2-2-1: room for every label
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator(label).is_visible()
