"""Practice mode in headless Chromium: answers typed, graded by POST /api/grade, hints, progress.

Every number typed here is computed from the engine (the trace's exact values, or grade's engine
with a mistake switched on), written to the exercise's 4 decimals as a learner would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import test_web_browser as page_tests  # skips, as it does, without playwright
from gradtrace.exercise import make_variants
from gradtrace.grade import engine, grade
from gradtrace.grade.judge import network_of
from gradtrace.grade.keys import true_values
from gradtrace.spec import Spec
from gradtrace.workflow import trace_spec

# the page's fixtures and helpers, shared with its other browser tests
base_url, browser, watched = page_tests.base_url, page_tests.browser, page_tests.watched
Watched, open_page, open_offline_copy = (page_tests.Watched, page_tests.open_page,
                                         page_tests.open_offline_copy)
ARTIFACTS, CHROMIUM = page_tests.ARTIFACTS, page_tests.CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
SEED = 7  # GET /api/exercise?seed=7: the link #exercise=7
DECIMALS = 4  # the exercise's decimals (the route's default, as the CLI's)


def written(value: Any) -> list[str]:
    """A value as a learner writes it: each entry to DECIMALS places, row by row."""
    return [f"{x:.{DECIMALS}f}" for x in np.ravel(np.asarray(value, dtype=np.float64))]


@pytest.fixture(scope="module")
def exercise() -> tuple[Spec, dict[str, Any]]:
    """The exercise #exercise=7 opens (the route's own code path) and its exact values."""
    spec = make_variants(SEED, 1, DECIMALS)[0].spec
    return spec, true_values(trace_spec(spec, steps=1).steps[0])


def answer(page: Any, label: str, values: list[str]) -> str:
    """Type ``values`` into the item's fields, press Check, and return the feedback sentence."""
    item = page.get_by_test_id(f"item-{label}")
    for n, text in enumerate(values, start=1):
        item.get_by_test_id(f"field-{n}").fill(text)
    with graded(page):
        item.get_by_test_id("check").click()
    return str(item.get_by_test_id("feedback").text_content())


@contextmanager
def graded(page: Any) -> Iterator[None]:
    """Until the page has shown the grader's reply to the check made inside (data-checked)."""
    before = page.get_by_test_id("practice").get_attribute("data-checked") or "0"
    yield
    page.wait_for_function("(before) => (document.querySelector('[data-testid=practice]')"
                           ".dataset.checked || '0') !== before", arg=before)


def score(page: Any) -> str:
    return str(page.get_by_test_id("score").text_content())


def test_practice_session_grades_diagnoses_hints_and_survives_a_reload(
        watched: Watched, base_url: str, exercise: tuple[Spec, dict[str, Any]]) -> None:
    spec, truth = exercise
    page = open_page(watched, base_url, f"#exercise={SEED}")
    assert page.is_visible("[data-testid=practice]") and page.is_checked("[data-testid=practice-switch]")
    # the computed values are hidden, the givens shown: inputs on the diagram, no activations
    frozen = make_variants(SEED, 1, DECIMALS)[0].seed
    assert f"seed {SEED} (frozen seed {frozen})" in str(page.get_by_test_id("exercise-seed")
                                                        .text_content())
    assert page.is_hidden("#step-panel") and page.is_hidden("[data-testid=editor]")
    assert "=" not in str(page.get_by_test_id("node-1-1").get_attribute("aria-label"))
    assert "=" in str(page.get_by_test_id("node-0-1").get_attribute("aria-label"))
    assert page.get_by_test_id("givens").locator("math").count() == 3 + 2 * len(spec.layer_sizes()[1:])
    assert page.get_by_test_id("stage-2").get_by_test_id("check").first.is_disabled()

    for key in ("z1", "a1", "z2", "a2"):
        assert answer(page, key, written(truth[key])).startswith("✓ Correct")
    assert page.get_by_test_id("stage-2").get_by_test_id("check").first.is_enabled()
    for key in ("cost", "grad_a2", "delta2"):
        assert answer(page, key, written(truth[key])).startswith("✓ Correct")

    # δ1 worked with the updated W2 (a textbook habit, wrong here): the diagnosis is shown
    variants = engine.compute("delta1", truth, network_of(spec), mistakes=True)
    mistaken = written(next(v.value for v in variants if v.mistake == "updated_weights"))
    said = answer(page, "delta1", mistaken)
    report = grade(spec, {"delta1": mistaken}).to_dict()
    entry = next(e for e in report["entries"] if e["key"] == "delta1")
    assert entry["note"] == "delta1:updated_weights"
    assert said.startswith("✗ Not right.")
    assert entry["mistakes"][0]["explanation"][1:] in said
    assert score(page).startswith("Solved 7 / 17 · hints used 0")

    # three hint levels on ∂C/∂a1: formula, numbers, answer (shown, not solved)
    item = page.get_by_test_id("item-grad_a1")
    hints = item.get_by_test_id("hints")
    item.get_by_test_id("hint").click()
    assert hints.get_by_test_id("formula").is_visible()
    assert hints.get_by_test_id("numbers").count() == 0 and hints.get_by_test_id("result").count() == 0
    item.get_by_test_id("hint").click()
    assert hints.get_by_test_id("numbers").is_visible() and hints.get_by_test_id("result").count() == 0
    with page.expect_response(lambda r: r.url.endswith("/api/grade")):
        item.get_by_test_id("hint").click()
    hints.get_by_test_id("result").wait_for()
    page.wait_for_function("() => document.querySelector('[data-testid=score]').textContent"
                           ".includes('answer shown')")
    shown = [float(item.get_by_test_id(f"field-{n}").input_value()) for n in (1, 2)]
    assert shown == pytest.approx(np.ravel(truth["grad_a1"]).tolist(), abs=1e-12)
    assert "not count as solved" in str(item.get_by_test_id("feedback").text_content())
    # the shown ∂C/∂a1 is done, but δ1 is wrong: the gradients stay locked
    assert page.get_by_test_id("stage-5").get_by_test_id("check").first.is_disabled()
    assert score(page).startswith("Solved 7 / 17 · hints used 3 (1 answer shown)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "practice-desktop.png"), full_page=True)

    # a reload keeps the answers, the hints and the stage; the grader judges them again
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function("() => document.querySelector('[data-testid=score]')"
                           ".textContent.startsWith('Solved 7')")
    assert page.url.endswith(f"#exercise={SEED}")
    assert page.get_by_test_id("item-z1").get_by_test_id("field-1").input_value() == written(
        truth["z1"])[0]
    assert "✗ Not right." in str(page.get_by_test_id("item-delta1").get_by_test_id("feedback")
                                 .text_content())
    assert score(page).startswith("Solved 7 / 17 · hints used 3 (1 answer shown)")

    # New exercise: another seed in the link, and its own (empty) progress
    page.get_by_test_id("new-exercise").click()
    page.wait_for_function(f"() => location.hash.startsWith('#exercise=') && location.hash !== "
                           f"'#exercise={SEED}'")
    page.wait_for_function("() => document.querySelector('[data-testid=score]')"
                           ".textContent.startsWith('Solved 0')")


def fresh_exercise(watched: Watched, base_url: str) -> Any:
    """The page on #exercise=SEED with no progress kept from an earlier test."""
    page = open_page(watched, base_url, f"#exercise={SEED}")
    page.evaluate("localStorage.clear()")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    return page


def test_carried_names_the_earlier_answer_it_used(watched: Watched, base_url: str,
                                                  exercise: tuple[Spec, dict[str, Any]]) -> None:
    spec, truth = exercise
    page = fresh_exercise(watched, base_url)
    answer(page, "z1", written(truth["z1"]))
    wrong_a1 = np.ravel(truth["a1"]) + 0.1  # a slip in a1 ...
    assert answer(page, "a1", written(wrong_a1)).startswith("✗")
    mlp = spec.build_mlp()  # ... and z2 worked rightly from it
    z2 = mlp.layers[1].W @ np.asarray([float(x) for x in written(wrong_a1)]) + mlp.layers[1].b
    said = answer(page, "z2", written(z2))
    assert said.startswith("↪ Carried forward") and "a1" in said


def test_neuron_view_asks_entry_by_entry(watched: Watched, base_url: str,
                                        exercise: tuple[Spec, dict[str, Any]]) -> None:
    _, truth = exercise
    page = fresh_exercise(watched, base_url)
    page.get_by_test_id("practice-view-neuron").check()
    page.wait_for_selector("[data-testid='item-z1[2]']")
    assert page.get_by_test_id("item-z1").count() == 0
    first, second = written(truth["z1"])
    assert answer(page, "z1[1]", [first]).startswith("✓ Correct")
    assert answer(page, "z1[2]", [first]).startswith("✗")  # z1[1]'s value typed again
    assert answer(page, "z2[1]", written(truth["z2"])).startswith("✓ Correct")
    assert page.get_by_test_id("stage-2").get_by_test_id("check").first.is_disabled()
    assert answer(page, "z1[2]", [second]).startswith("✓ Correct")
    assert score(page).startswith("Solved 3 / ")
    page.get_by_test_id("practice-view-matrix").check()  # each view keeps its own answers
    page.wait_for_selector("[data-testid=item-z1]")
    assert score(page).startswith("Solved 0 / 17")


@pytest.mark.parametrize(("fragment", "words"), [
    ("#exercise=7x", "#exercise= part is damaged"),
    ("#exercise=7&sizes=9,9", "sizes: each layer has 1 to 8 units"),
])
def test_a_bad_exercise_link_says_what_is_wrong(watched: Watched, base_url: str, fragment: str,
                                                words: str) -> None:
    page = open_page(watched, base_url, fragment)
    error = str(page.get_by_test_id("error").text_content())
    assert words in error and "showing the default network instead" in error
    watched.errors.clear()  # the browser logs the 422 it was answered


def test_phone_width_keyboard_only(browser: Any, base_url: str,
                                   exercise: tuple[Spec, dict[str, Any]]) -> None:
    _, truth = exercise
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    page.goto(f"{base_url}/#exercise={SEED}")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("[data-testid=item-z1]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    item = page.get_by_test_id("item-z1")
    for testid in ("field-1", "field-2", "check", "hint"):
        box = item.get_by_test_id(testid).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, testid
    # keyboard only: type, Tab to the next entry, Enter checks
    first, second = written(truth["z1"])
    item.get_by_test_id("field-1").focus()
    page.keyboard.type(first)
    page.keyboard.press("Tab")
    page.keyboard.type(second)
    with graded(page):
        page.keyboard.press("Enter")
    assert str(item.get_by_test_id("feedback").text_content()).startswith("✓ Correct")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "a1[1]"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "practice-phone.png"), full_page=True)
    context.close()


def test_the_offline_page_says_practice_needs_the_server(watched: Watched, tmp_path: Any) -> None:
    page, _ = open_offline_copy(watched, tmp_path)
    assert page.is_hidden("[data-testid=practice-offline]")
    assert page.is_hidden("[data-testid=new-exercise]")
    page.get_by_test_id("practice-switch").click()
    note = page.get_by_test_id("practice-offline")
    assert note.is_visible() and "gradtrace serve" in str(note.text_content())
    assert not page.is_checked("[data-testid=practice-switch]")
    assert page.is_hidden("[data-testid=practice]") and page.is_visible("[data-testid=next]")
    watched.requests.clear()


def test_an_x_w_example_is_practised_in_the_view_the_page_prints(watched: Watched,
                                                                  base_url: str) -> None:
    """Han & Kamber's example is written X·W with Err = −∂C/∂z: the page prints its matrices in
    the column view and its Err values, so those, typed as printed, are all correct."""
    page = open_page(watched, base_url, "#example=hankamber")
    page.evaluate("localStorage.clear()")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    explained = page.evaluate("""async () => {
        const spec = await (await fetch('/api/examples/hankamber')).json();
        const trace = await (await fetch('/api/step', {method: 'POST',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify(spec)})).json();
        return trace.steps[0].explanation.map(q => [q.key, q.value === undefined ?
            q.matrix.value : q.value]);
    }""")
    assert page.get_by_test_id("error").text_content() == ""  # loaded, traced, no complaint
    assert page.input_value("[data-testid=example]") == "hankamber"  # the menu names it
    assert "this network takes 3" in str(page.get_by_test_id("train-status").text_content())
    page.get_by_test_id("practice-switch").click()
    page.wait_for_selector("[data-testid=item-z1]")
    asked = 0
    for key, value in explained:
        if page.get_by_test_id(f"item-{key}").count() == 0:
            continue  # a given (a0, W1, ...) is not asked
        said = answer(page, key, written(value))
        assert said.startswith("✓ Correct"), (key, said)
        asked += 1
    assert asked >= 10  # z, a, cost, ∂C/∂a, Err, gradients and both layers' new W and b
