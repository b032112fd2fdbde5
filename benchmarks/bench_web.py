"""Benchmark of the web page's play loop: the server's time per /api/train frame, and frames per
second in headless Chromium.

A frame is what the page asks for while playing: 10 optimiser steps (batches of 10 points) of the
default 2-4-4-1 tanh/tanh/sigmoid network on 200 xor points, half held out for the test loss, a
40x40 boundary grid and a 16x16 heat map per unit, both as bytes, the points left out (the page
has them from its first request). Prints the median server time (the handler's
own clock, ``server_ms``), the median round trip through the ASGI test client (JSON encoding
included) and the reply's size; then, when Debian's chromium and Playwright are there, the frames
per second of Play on the page itself (5 s of playing, the page's own step counter).
The old frame (100 full-batch steps of a 2-8-8-1 network, a 50x50 grid) is timed beside it.

    PYTHONPATH=src python benchmarks/bench_web.py
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from gradtrace.web import create_app
from gradtrace.web.specs import PLAYGROUND

REPEATS = 30
FRAME = {"spec": PLAYGROUND, "dataset": "xor", "points": 200, "steps": 10, "batch_size": 10,
         "test_ratio": 0.5, "grid": 40, "thumbnail": 16, "noise": 0.1, "send_points": False,
         "compact": True}
OLD = {
    "spec": {"loss": "binary_cross_entropy", "learning_rate": 0.5, "sizes": [2, 8, 8, 1],
             "activations": ["tanh", "tanh", "sigmoid"], "seed": 1},
    "dataset": "xor", "points": 200, "steps": 100, "grid": 50,
}
CHROMIUM = Path("/usr/bin/chromium")


def server_times(client: TestClient, request: dict[str, Any]) -> tuple[float, float, int]:
    client.post("/api/train", json=request)  # warm up imports and caches
    server, round_trip, size = [], [], 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.post("/api/train", json=request)
        round_trip.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        server.append(response.json()["server_ms"])
        size = len(response.content)
    return statistics.median(server), statistics.median(round_trip), size


def browser_fps(seconds: float = 5.0) -> float | None:
    """Frames a second of Play on the page served by ``gradtrace serve`` in its own process, as
    a user runs it (None without chromium or Playwright)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not CHROMIUM.exists():
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "gradtrace", "serve", "--port", str(port),
                               "--no-browser"], stderr=subprocess.DEVNULL)
    steps = "Number(document.querySelector('[data-testid=train-status]').dataset.steps || 0)"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("body[data-ready=true]")
            page.click("[data-testid=play]")
            page.wait_for_function(f"() => {steps} >= 20")
            first, started = page.evaluate(steps), time.perf_counter()
            time.sleep(seconds)
            last, ended = page.evaluate(steps), time.perf_counter()
            page.click("[data-testid=pause]")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return (last - first) / 10 / (ended - started)


def main() -> None:
    client = TestClient(create_app(), base_url="http://127.0.0.1")  # the server's Host check
    server, round_trip, size = server_times(client, FRAME)
    print(f"page frame (10 steps of 10 points, 2-4-4-1, 200 points half held out, 40x40 grid, "
          f"16x16 heat map per unit): server {server:.2f} ms, round trip {round_trip:.2f} ms "
          f"(medians of {REPEATS}), reply {size / 1024:.1f} KiB; target < 20 ms")
    server, round_trip, size = server_times(client, OLD)
    print(f"old frame (100 full-batch steps, 2-8-8-1, 200 points, 50x50 grid): server "
          f"{server:.2f} ms, round trip {round_trip:.2f} ms, reply {size / 1024:.1f} KiB")
    fps = browser_fps()
    if fps is not None:
        print(f"Play in headless Chromium, 1280x720, 10 steps a frame: {fps:.1f} frames/s "
              "(target >= 30)")


if __name__ == "__main__":
    main()
