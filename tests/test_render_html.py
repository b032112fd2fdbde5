"""The HTML page in a real browser (Debian's chromium): MathML and the SVG diagram render."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gradtrace.render.html import render
from gradtrace.render.options import RenderOptions
from gradtrace.spec import load_spec
from gradtrace.workflow import trace_spec

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def seed_html() -> str:
    return render(trace_spec(load_spec("seed")), RenderOptions(view="both"))


def test_html_is_self_contained() -> None:
    page = seed_html()
    assert page.startswith("<!DOCTYPE html>")
    # nothing fetched: no src/href/url()/@import pointing at the network (xmlns names are not fetched)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//|@import", page, re.IGNORECASE)
    assert "<script" not in page
    assert page.count("<math") >= 20 and page.count("<svg") == 2
    assert "0.878743" in page


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_chromium_renders_math_and_diagram(tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "seed.html"
    path.write_text(seed_html(), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(path.as_uri())
            sizes = page.eval_on_selector_all(
                "math", "els => els.map(e => { const r = e.getBoundingClientRect();"
                        " return [r.width, r.height, e.namespaceURI]; })")
            svg = page.eval_on_selector_all(
                "figure.diagram svg", "els => els.map(e => { const r = e.getBoundingClientRect();"
                                      " return [r.width, r.height, e.querySelectorAll('text').length]; })")
            raw = page.evaluate("document.body.innerText.includes('\\\\begin')")
            page.screenshot(path=str(ARTIFACTS / "seed-html.png"))
            page.emulate_media(media="print")
            page.screenshot(path=str(ARTIFACTS / "seed-html-print.png"), full_page=True)
            shot = page.screenshot()
        finally:
            browser.close()
    assert [url for url in requests if not url.startswith("file:")] == []
    assert len(sizes) >= 20
    assert all(w > 5 and h > 5 and ns == "http://www.w3.org/1998/Math/MathML"
               for w, h, ns in sizes), sizes
    assert len(svg) == 2 and all(w > 300 and h > 150 and texts > 10 for w, h, texts in svg)
    assert not raw  # maths rendered, not shown as LaTeX source
    assert _distinct_colours(shot) > 8  # not a blank page


def _distinct_colours(png: bytes) -> int:
    """Colours in a screenshot, read with matplotlib (already a dependency)."""
    import io

    import numpy as np
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(png), format="png")
    flat = (pixels[..., :3].reshape(-1, 3) * 255).astype(np.uint8)
    return len(np.unique(flat, axis=0))
