"""``gradtrace serve``: the interactive page on a local server (loopback unless told otherwise)."""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import webbrowser
from typing import Annotated

import typer

from gradtrace.cli.app import app
from gradtrace.errors import GradtraceError
from gradtrace.spec import load_spec

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_port(text: str) -> int:
    """The port number, or a GradtraceError saying what a port is."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise GradtraceError(f"--port {text!r} is not a port; give a number from 1 to 65535")
    return int(text)


def check_bindable(host: str, port: int) -> None:
    """Raise GradtraceError when ``host:port`` cannot be listened on (unknown host, port in use).

    The probe sets SO_REUSEADDR, as uvicorn's own socket does: a port whose last connection is in
    TIME_WAIT (a server stopped a minute ago) is free to listen on, and only a listener refuses it.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise GradtraceError(f"--host {host!r} is not an address of this machine ({error}); "
                             "use 127.0.0.1 (the default)") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise GradtraceError(f"cannot listen on {host}:{port} ({error.strerror}); pick another "
                                 "--port, or another --host") from None


@app.command()
def serve(
    spec: Annotated[str | None, typer.Argument(
        help="A spec file or built-in example to open (default: the seed example).",
        show_default=False)] = None,
    port: Annotated[str, typer.Option(metavar="PORT", help="Port to listen on.")] = "8765",
    host: Annotated[str, typer.Option(
        help="Address to listen on. Anything but loopback exposes the server to your network.")
    ] = "127.0.0.1",
    no_browser: Annotated[bool, typer.Option(
        "--no-browser", help="Do not open the page in a web browser.")] = False,
) -> None:
    """Serve the interactive page: step through backprop, edit the network, train and watch."""
    number = parse_port(port)
    initial = None if spec is None else load_spec(spec).model_dump(mode="json", exclude_none=True)
    check_bindable(host, number)
    if not is_loopback(host):
        print(f"gradtrace: warning: listening on {host}, not loopback: anyone who can reach this "
              "machine can use the server", file=sys.stderr)
    import uvicorn  # late: the other commands need not load the server

    from gradtrace.web import create_app

    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{number}/"
    print(f"gradtrace: serving on {url} (Ctrl+C stops it)", file=sys.stderr)
    if not no_browser:
        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    uvicorn.run(create_app(initial, listen_host=host), host=host, port=number, log_level="warning")
