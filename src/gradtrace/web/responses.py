"""JSON in and out of the API: the one place request bodies are decoded, and error bodies are built.

Every error body is ``{"message": one line, "detail": [{"loc", "msg", "type"}]}`` and is bounded
(MAX_MESSAGE_CHARS, MAX_LOC_PARTS parts of MAX_LOC_PART_CHARS), whatever the message echoes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from gradtrace.errors import GradtraceError
from gradtrace.spec import field_path

MAX_MESSAGE_CHARS = 600
MAX_LOC_PARTS = 12
MAX_LOC_PART_CHARS = 80
MAX_JSON_DEPTH = 32  # a spec nests 4 levels (layers[0].weights[0][0]); 32 leaves room, not a stack
JSON_TYPES = ("application/json",)  # and any application/*+json
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def shorten(text: str, limit: int) -> str:
    """``text`` if short enough, else its start and end around a count of what was left out."""
    if len(text) <= limit:
        return text
    keep = max(limit - 40, 2)
    return f"{text[:keep // 2]}…[{len(text) - keep:,} characters left out]…{text[-(keep // 2):]}"


def shown(value: Any, limit: int = 60) -> str:
    """A user's value as JSON for a message, bounded; never fails (bytes, surrogates, anything)."""
    if isinstance(value, bytes | bytearray):
        return f"{len(value):,} bytes that are not JSON"
    try:
        text = json.dumps(value, ensure_ascii=True, allow_nan=True, default=repr)
    except (ValueError, TypeError, RecursionError):
        text = type(value).__name__
    return shorten(text, limit)


class RequestError(GradtraceError):
    """A request the API refuses: ``status``, the field path and a one-line message.

    ``loc`` is the location as FastAPI writes it (``["body", "layers", 0, "weights"]``); by default
    it is read from ``field``.
    """

    def __init__(self, status: int, field: str, message: str, kind: str = "value_error",
                 loc: Sequence[str | int] | None = None) -> None:
        self.status, self.field, self.kind = status, field, kind
        self.loc = list(loc) if loc is not None else field_loc(field)
        super().__init__(f"{field}: {message}" if field else message)


class JSON(JSONResponse):
    """JSON that refuses inf and NaN (no silent ``null``) and survives lone surrogates (escaped)."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:  # a lone surrogate the user sent and we echo: escape it
            return json.dumps(content, ensure_ascii=True, allow_nan=False,
                              separators=(",", ":")).encode("ascii")


def error_response(status: int, loc: Sequence[str | int], message: str, kind: str,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The API's error body, bounded in size whatever ``message`` and ``loc`` hold."""
    message = shorten(" ".join(message.split()), MAX_MESSAGE_CHARS)  # one line
    parts = [part if isinstance(part, int) else shorten(str(part), MAX_LOC_PART_CHARS)
             for part in list(loc)[:MAX_LOC_PARTS]]
    body = {"message": message, "detail": [{"loc": parts, "msg": message, "type": kind[:40]}]}
    return JSON(body, status_code=status, headers=dict(headers or {}))


def field_loc(field: str, where: str = "body") -> list[str | int]:
    """"layers[0].weights" -> ["body", "layers", 0, "weights"], as FastAPI writes locations."""
    parts: list[str | int] = [where]
    for name in field.replace("[", ".[").split(".") if field else []:
        if name:
            parts.append(int(name[1:-1]) if name.startswith("[") and name[1:-1].isdigit() else name)
    return parts


def invalid(errors: Sequence[Mapping[str, Any]], prefix: Sequence[str | int] = ()) -> RequestError:
    """A pydantic error list as a 422 RequestError: the first error's field path, message, value."""
    first = errors[0]
    loc = [*prefix, *first["loc"]]
    field = field_path(tuple(loc))
    msg = str(first["msg"]).removeprefix("Value error, ")
    found = "" if first["type"] == "value_error" else f" (found {shown(first.get('input'))})"
    more = f" [+{len(errors) - 1} more]" if len(errors) > 1 else ""
    message = f"{msg}{found}{more}" if field else f"request body: {msg}{found}{more}"
    return RequestError(422, field, message, str(first["type"]), ["body", *loc])


async def json_body(request: Request) -> Any:
    """The request body as JSON (a FastAPI dependency): 415 for another type, 422 if unreadable."""
    _check_content_type(request)
    return decode_json(await request.body())


async def exact_json_body(request: Request) -> Any:
    """As ``json_body``, but every JSON number with a fraction or exponent is read as the Decimal
    it is written as, so ``0.5780`` keeps its four decimals (POST /api/grade judges by them)."""
    _check_content_type(request)
    return decode_json(await request.body(), exact=True)


def _check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media not in JSON_TYPES and not (media.startswith("application/") and media.endswith("+json")):
        raise RequestError(415, "", f"request body: expected Content-Type application/json, found "
                           f"{shorten(media or 'none', 60)!r}; send the spec as JSON",
                           "content_type")


def decode_json(raw: bytes, exact: bool = False) -> Any:
    """JSON from bytes, or a RequestError: bad UTF-8, syntax, depth, huge integers, surrogates.

    ``exact``: numbers with a fraction or an exponent become ``Decimal`` as written, not floats.
    """
    if not raw.strip():
        raise RequestError(422, "", "request body: empty; send a JSON object", "json_invalid")
    try:
        text = raw.decode("utf-8")  # RFC 8259: JSON between systems is UTF-8
    except UnicodeDecodeError as error:
        raise RequestError(422, "", f"request body: not UTF-8 (byte {error.start:,} is "
                           f"0x{raw[error.start]:02x}); send the JSON as UTF-8 text",
                           "json_invalid") from None
    try:
        value = json.loads(text, parse_float=Decimal) if exact else json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(422, "", f"request body: malformed JSON at character {error.pos}: "
                           f"{error.msg}", "json_invalid") from None
    except RecursionError:
        raise RequestError(422, "", f"request body: JSON nested too deep to read; a spec nests "
                           f"at most {MAX_JSON_DEPTH} levels", "json_invalid") from None
    except ValueError:  # Python refuses integers of more than 4300 digits (CVE-2020-10735)
        raise RequestError(422, "", "request body: a number with more than 4300 digits; no "
                           "field takes one", "json_invalid") from None
    check_tree(value, surrogates=_SURROGATE_ESCAPE.search(text) is not None)
    return value


def check_tree(value: Any, surrogates: bool = True) -> None:
    """Raise RequestError for nesting deeper than MAX_JSON_DEPTH or a lone surrogate in a string.

    Walks with an explicit stack: the depth check must not itself recurse.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, loc = stack.pop()
        if len(loc) > MAX_JSON_DEPTH:
            raise RequestError(422, field_path(loc[:MAX_JSON_DEPTH]),
                               f"nested more than {MAX_JSON_DEPTH} levels deep; no spec field "
                               "nests that deep", "json_invalid", ["body", *loc[:MAX_JSON_DEPTH]])
        if isinstance(item, dict):
            for key, child in item.items():
                if surrogates and _lone_surrogate(key):
                    raise _surrogate_error(loc, key)
                stack.append((child, (*loc, key)))
        elif isinstance(item, list):
            stack.extend((child, (*loc, i)) for i, child in enumerate(item)
                         if isinstance(child, dict | list | str))
        elif surrogates and isinstance(item, str) and _lone_surrogate(item):
            raise _surrogate_error(loc, item)


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _surrogate_error(loc: tuple[str | int, ...], text: str) -> RequestError:
    shown_text = text.encode("utf-8", "backslashreplace").decode("ascii", "replace")
    return RequestError(422, field_path(loc), f"'{shorten(shown_text, 60)}' holds a lone UTF-16 "
                        "surrogate (\\ud800-\\udfff), which is not text; remove it",
                        "string_unicode", ["body", *loc])
