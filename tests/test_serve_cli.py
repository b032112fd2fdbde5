"""``gradtrace serve`` as a user runs it: help, and one-line errors with exit code 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gradtrace.cli.serve import is_loopback

SRC = str(Path(__file__).resolve().parents[1] / "src")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "gradtrace", "serve", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_help_names_the_options() -> None:
    result = run("--help")
    assert result.returncode == 0
    for option in ("--port", "--host", "--no-browser"):
        assert option in result.stdout


@pytest.mark.parametrize(("args", "expected"), [
    (["--port", "99999", "--no-browser"], "--port '99999' is not a port"),
    (["--port", "http", "--no-browser"], "--port 'http' is not a port"),
    (["--host", "no such host!", "--no-browser"], "--host 'no such host!' is not an address"),
    (["sed", "--no-browser"], "did you mean 'seed'?"),
    (["missing.toml", "--no-browser"], "missing.toml: no such file"),
])
def test_bad_arguments_are_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradtrace: error: ") and expected in lines[0]


def test_a_port_in_use_is_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("--port", str(port), "--no-browser")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def time_wait_port() -> int:
    """A port whose only trace is a connection in TIME_WAIT: the server side closed first."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's listener
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port: int = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = listener.accept()
            accepted.close()  # the side that closes first keeps the port in TIME_WAIT
            client.recv(1)  # sees the close
    return port


def test_a_port_in_time_wait_can_be_served() -> None:
    port = time_wait_port()
    with socket.socket() as plain, pytest.raises(OSError):  # the state the old check refused
        plain.bind(("127.0.0.1", port))
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    server = subprocess.Popen([sys.executable, "-m", "gradtrace", "serve", "--port", str(port),
                               "--no-browser"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        assert f"serving on http://127.0.0.1:{port}/" in line, line
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/session", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.1)
        assert answer.json() == {"spec": None}
    finally:
        server.terminate()
        server.wait(timeout=30)
