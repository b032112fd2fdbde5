"""What the local server refuses before the app sees a request: other hosts, other origins, big bodies.

- Host: only loopback names (127.0.0.1, localhost, [::1]) and the ``--host`` given, any port.
  A web page that rebinds its own DNS name to 127.0.0.1 (DNS rebinding) still sends its own name
  as Host, so it is refused and cannot read the user's spec. Bound to a wildcard (0.0.0.0, ::),
  any IP literal is allowed too: rebinding needs a name, never an address.
- Origin: a state-changing request (POST, PUT, PATCH, DELETE) whose Origin is present must come
  from the page's own scheme://host:port, and ``Sec-Fetch-Site`` must not say another site. No
  CORS headers are ever sent, so other origins cannot read answers either.
- Body: a declared Content-Length over MAX_BODY_BYTES is refused before reading; any body
  (chunked too) is counted while the app reads it, and the read stops with a 413 at the cap: the
  rest is never read, so no request can make the server hold more than the cap.

Starlette's TrustedHostMiddleware is not used: it cuts the Host at its first ':' (so "[::1]:8765"
never matches) and answers in plain text, not the API's JSON errors.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradtrace.web import limits
from gradtrace.web.responses import RequestError, error_response

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})
DEFAULT_PORTS = {"http": "80", "https": "443"}


class BodyTooLargeError(RequestError):
    """Raised by the counting ``receive`` when a body goes over MAX_BODY_BYTES while read."""

    def __init__(self) -> None:
        super().__init__(413, "", f"request body over the {limits.MAX_BODY_BYTES:,}-byte cap; "
                         "send a smaller spec", "limit")


def host_name(host: str) -> str:
    """The name or address of a Host header, without its port: "[::1]:8765" -> "::1"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """Pure ASGI middleware: 400 for a Host not allowed, 403 for another origin, 413 for a big body."""

    def __init__(self, app: ASGIApp, listen_host: str = "127.0.0.1") -> None:
        self.app = app
        self.listen_host = listen_host.strip("[]").lower()
        self.hosts = LOOPBACK_HOSTS | {self.listen_host}
        self.any_address = self.listen_host in WILDCARD_HOSTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.host_refusal(headers) or self.origin_refusal(scope, headers) or \
            self.size_refusal(headers)
        if refusal is not None:
            status, loc, message, kind = refusal
            await error_response(status, loc, message, kind)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limits.MAX_BODY_BYTES:
                    raise BodyTooLargeError
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLargeError as error:  # the app answers RequestError itself; this is a fallback
            if started:
                raise
            await error_response(error.status, error.loc, str(error), error.kind)(scope, receive,
                                                                                   send)

    def allowed_host(self, name: str) -> bool:
        if name in self.hosts:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        return self.any_address or address.is_loopback

    def host_refusal(self, headers: Headers) -> tuple[int, list[str | int], str, str] | None:
        host = headers.get("host")
        if host is None:
            return 400, ["header", "host"], "the request has no Host header; send one (HTTP/1.1)", \
                "host"
        if self.allowed_host(host_name(host)):
            return None
        return 400, ["header", "host"], (
            f"Host {host!r} is not this server: gradtrace answers only to 127.0.0.1, localhost, "
            f"[::1]{'' if self.listen_host in LOOPBACK_HOSTS else ' and ' + self.listen_host}; "
            "open the page through one of them"), "host"

    def origin_refusal(self, scope: Scope,
                       headers: Headers) -> tuple[int, list[str | int], str, str] | None:
        if scope["method"] not in STATE_CHANGING:
            return None
        site = headers.get("sec-fetch-site")
        origin = headers.get("origin")
        if origin is not None:
            own = _origin(scope.get("scheme", "http"), headers.get("host", ""))
            if _normalised(origin) != own:
                return 403, ["header", "origin"], (
                    f"a {scope['method']} from origin {origin!r} is refused: only the page served "
                    f"at {own} may change anything; open it there"), "origin"
        if site is not None and site.lower() not in SAME_SITE_FETCHES:
            return 403, ["header", "sec-fetch-site"], (
                f"a {scope['method']} from another site (Sec-Fetch-Site: {site}) is refused; "
                "use the page this server serves"), "origin"
        return None

    def size_refusal(self, headers: Headers) -> tuple[int, list[str | int], str, str] | None:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limits.MAX_BODY_BYTES:
            return 413, ["body"], (f"request body of {int(declared):,} bytes; the cap is "
                                   f"{limits.MAX_BODY_BYTES:,} bytes"), "limit"
        return None


def _origin(scheme: str, host: str) -> str:
    return _normalised(f"{scheme}://{host}")


def _normalised(origin: str) -> str:
    """Lower case, without the scheme's default port: "HTTP://Localhost:80" -> "http://localhost"."""
    origin = origin.strip().lower().rstrip("/")
    scheme, _, authority = origin.partition("://")
    port = DEFAULT_PORTS.get(scheme)
    if port and authority.endswith(f":{port}"):
        authority = authority.removesuffix(f":{port}")
    return f"{scheme}://{authority}"
