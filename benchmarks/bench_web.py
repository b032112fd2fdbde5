"""Benchmark of the web page's play loop: one /api/train request, timed on the server.

100 full-batch SGD steps of a 2-8-8-1 tanh/sigmoid network on 200 xor points, plus a 50x50
decision-boundary grid. Prints the median server time (the handler's own clock, ``server_ms``) and
the median round trip through the ASGI test client (JSON encoding included).

    PYTHONPATH=src python benchmarks/bench_web.py
"""

from __future__ import annotations

import statistics
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from gradtrace.web import create_app

REPEATS = 30
REQUEST = {
    "spec": {"loss": "binary_cross_entropy", "learning_rate": 0.5, "sizes": [2, 8, 8, 1],
             "activations": ["tanh", "tanh", "sigmoid"], "seed": 1},
    "dataset": "xor", "points": 200, "steps": 100, "grid": 50,
}


def main() -> None:
    client = TestClient(create_app(), base_url="http://127.0.0.1")  # the server's Host check
    client.post("/api/train", json=REQUEST)  # warm up imports and caches
    server, round_trip = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.post("/api/train", json=REQUEST)
        round_trip.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        server.append(response.json()["server_ms"])
    print(f"/api/train, 100 steps, 2-8-8-1, 200 points, 50x50 grid: "
          f"server {statistics.median(server):.2f} ms (median of {REPEATS}), "
          f"round trip {statistics.median(round_trip):.2f} ms; target < 20 ms")


if __name__ == "__main__":
    main()
