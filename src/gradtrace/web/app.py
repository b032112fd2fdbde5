"""The FastAPI app: a JSON API over the engine, and the static page that consumes it.

Every number the page shows comes from here. Errors are JSON ``{"message": one line, "detail":
[{"loc", "msg", "type"}]}``: 422 for a bad request (field path, what was wrong, how to fix it),
413 for a request over a documented cap (web/limits.py), 404 for an unknown example.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from gradtrace import notation
from gradtrace.core.activations import ACTIVATIONS
from gradtrace.core.losses import LOSSES
from gradtrace.data.synthetic import GENERATORS
from gradtrace.errors import (
    GradtraceError,
    LimitError,
    NumericalError,
    SpecError,
    UnknownNameError,
    unknown_name,
)
from gradtrace.spec import (
    Spec,
    describe_validation_error,
    example_names,
    example_text,
    field_path,  # the same field paths as spec files' messages
    parse_text,
)
from gradtrace.trace.json import to_dict
from gradtrace.web import limits
from gradtrace.web.specs import explicit_spec, to_toml
from gradtrace.web.training import SPEC_DATA, TrainInputError, TrainSettings, train
from gradtrace.workflow import trace_spec

STATIC = Path(str(resources.files("gradtrace.web").joinpath("static")))
DATASETS = (*GENERATORS, SPEC_DATA)
# The page loads nothing from anywhere but this server (no CDN, works offline).
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'")


class RequestError(GradtraceError):
    """A request the API refuses: ``status``, the field path and a one-line message."""

    def __init__(self, status: int, field: str, message: str, kind: str = "value_error") -> None:
        self.status, self.field, self.kind = status, field, kind
        super().__init__(f"{field}: {message}" if field else message)


class TrainRequest(BaseModel):
    """POST /api/train: the spec to start from, the dataset, and how far to train."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    spec: dict[str, Any] = Field(description="a spec's fields, as POST /api/step takes them")
    dataset: str = Field("xor", description=f"one of {', '.join(DATASETS)}")
    points: int = Field(200, ge=4, description=f"dataset size (at most {limits.MAX_POINTS})")
    noise: float | None = Field(None, ge=0.0, le=5.0, description="None: the dataset's default")
    seed: int = Field(0, ge=0, description="the dataset's random seed")
    steps: int = Field(100, ge=1, description=f"optimiser steps (at most {limits.MAX_TRAIN_STEPS})")
    grid: int = Field(50, ge=0, description=f"boundary grid side, 0 for none (≤ {limits.MAX_GRID})")

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str) -> str:
        if value not in DATASETS:
            raise ValueError(unknown_name("dataset", value, DATASETS))
        return value


SpecBody = Annotated[dict[str, Any], Body(description="a spec's fields (README 'Spec format')")]


class SpecText(BaseModel):
    """POST /api/spec/text: a spec file's text and its format."""

    model_config = ConfigDict(extra="forbid")

    text: str
    format: Literal["toml", "json", "yaml", "yml"] = "toml"


def validate_spec(data: Any, prefix: str = "") -> Spec:
    """A Spec from request JSON, or a RequestError with spec.py's message and field path."""
    if not isinstance(data, dict):
        raise RequestError(422, prefix.rstrip("."), f"expected a JSON object of spec fields, "
                           f"found {type(data).__name__}")
    try:
        spec = Spec.model_validate(data)
    except ValidationError as error:
        field = field_path(error.errors()[0]["loc"])
        message = describe_validation_error(error).removeprefix(f"{field}: ")
        raise RequestError(422, prefix + field if field else prefix.rstrip("."), message) from None
    try:
        limits.check_spec(spec, prefix)
    except limits.WebLimitError as error:
        raise RequestError(413, error.field, str(error).removeprefix(f"{error.field}: "),
                           "limit") from None
    return spec


def _limit(field: str, value: int, cap: int, what: str, hint: str = "") -> None:
    try:
        limits.check_count(field, value, cap, what, hint)
    except limits.WebLimitError as error:
        raise RequestError(413, field, str(error).removeprefix(f"{field}: "), "limit") from None


def _error_response(status: int, loc: list[str | int], message: str, kind: str) -> JSONResponse:
    return JSONResponse(
        {"message": message, "detail": [{"loc": loc, "msg": message, "type": kind}]},
        status_code=status,
    )


def _loc(field: str, where: str = "body") -> list[str | int]:
    """"layers[0].weights" -> ["body", "layers", 0, "weights"], as FastAPI writes locations."""
    parts: list[str | int] = [where]
    for name in field.replace("[", ".[").split(".") if field else []:
        if name:
            parts.append(int(name[1:-1]) if name.startswith("[") else name)
    return parts


async def _request_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestError)
    where = "path" if error.kind == "not_found" else "body"
    return _error_response(error.status, _loc(error.field, where), str(error), error.kind)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's own body checks (malformed JSON, wrong types) as one readable line."""
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    loc = list(first["loc"])
    if first["type"] == "json_invalid":
        reason = first.get("ctx", {}).get("error", "syntax error")
        message = f"request body: malformed JSON at character {loc[-1]}: {reason}"
        return _error_response(422, ["body"], message, "json_invalid")
    field = field_path(tuple(loc[1:]))
    msg = str(first["msg"]).removeprefix("Value error, ")
    found = "" if first["type"] == "value_error" else f" (found {json.dumps(first.get('input'))})"
    message = f"{field}: {msg}{found}" if field else f"request body: {msg}{found}"
    return _error_response(422, loc, message, str(first["type"]))


class _BodyCap(BaseHTTPMiddleware):
    """413 for a request body declared larger than MAX_BODY_BYTES, before it is read."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limits.MAX_BODY_BYTES:
            return _error_response(413, ["body"], f"request body of {int(declared):,} bytes; "
                                   f"the cap is {limits.MAX_BODY_BYTES:,}", "limit")
        return await call_next(request)


def create_app(initial_spec: dict[str, Any] | None = None) -> FastAPI:
    """The app; ``initial_spec`` (a spec mapping) is what the page opens with (default: seed)."""
    app = FastAPI(title="gradtrace", summary="Backpropagation, step by step, in the browser",
                  version="1")
    app.add_middleware(_BodyCap)
    app.add_exception_handler(RequestError, _request_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": CSP})

    @app.get("/api/session")
    def session() -> dict[str, Any]:
        """What the page opens with: the spec given to ``gradtrace serve`` (or null)."""
        return {"spec": initial_spec}

    @app.get("/api/notation")
    def symbols() -> dict[str, dict[str, str]]:
        """The symbol table (gradtrace.notation): each quantity's text, LaTeX and words."""
        return {kind: {"text": n.text, "latex": n.latex, "words": n.words}
                for kind, n in notation.SYMBOLS.items()}

    @app.get("/api/options")
    def options() -> dict[str, list[str]]:
        """The names the page offers: activations, losses, datasets."""
        return {"activations": sorted(ACTIVATIONS), "losses": sorted(LOSSES),
                "datasets": list(DATASETS)}

    @app.get("/api/limits")
    def caps() -> dict[str, int]:
        """The documented per-request caps."""
        return {name.lower().removeprefix("max_"): getattr(limits, name)
                for name in dir(limits) if name.startswith("MAX_")}

    @app.get("/api/examples")
    def examples() -> list[dict[str, Any]]:
        """The built-in examples: name and description."""
        return [{"name": name, "description": _example(name).get("description")}
                for name in example_names()]

    @app.get("/api/examples/{name}")
    def example(name: str) -> dict[str, Any]:
        """One built-in example's spec, as the JSON form of its TOML file."""
        return _example(name)

    @app.post("/api/spec")
    def normalise(payload: SpecBody) -> dict[str, Any]:
        """Validate a spec; return it with explicit weights, and as TOML text."""
        spec = validate_spec(payload)
        explicit = explicit_spec(spec)
        return {"spec": explicit, "toml": to_toml(explicit)}

    @app.post("/api/spec/text")
    def from_text(request: SpecText) -> dict[str, Any]:
        """Read an uploaded spec file's text (TOML, JSON or YAML); the same as POST /api/spec."""
        try:
            data = parse_text(request.text, request.format, "upload")
        except SpecError as error:
            raise RequestError(422, "text", str(error).removeprefix("upload: ")) from None
        return normalise(data)

    @app.post("/api/step")
    def step(payload: SpecBody) -> dict[str, Any]:
        """Trace ``steps`` training steps of the spec: the ``gradtrace.trace/1`` JSON."""
        spec = validate_spec(payload)
        _limit("steps", spec.steps, limits.MAX_STEP_STEPS, "steps", "; use /api/train for more")
        if spec.data is None:
            raise RequestError(422, "data", "the spec has no data; add data.input and data.target")
        try:
            trace = trace_spec(spec)
        except LimitError as error:
            raise RequestError(413, "", str(error), "limit") from None
        except NumericalError as error:  # JSON has no inf or NaN; the message names the quantity
            raise RequestError(422, "", str(error).removeprefix(f"{spec.source}: ")) from None
        return to_dict(trace)

    @app.post("/api/train")
    def train_endpoint(request: TrainRequest) -> dict[str, Any]:
        """Train a copy of the spec's network: new spec, loss history, boundary grid."""
        spec = validate_spec(request.spec, "spec.")
        _limit("steps", request.steps, limits.MAX_TRAIN_STEPS, "steps", "; ask again to continue")
        _limit("points", request.points, limits.MAX_POINTS, "points")
        _limit("grid", request.grid, limits.MAX_GRID, "grid points a side")
        settings = TrainSettings(request.dataset, request.points, request.noise, request.seed,
                                 request.steps, request.grid)
        try:
            return train(spec, settings)
        except TrainInputError as error:
            raise RequestError(422, error.field, str(error)) from None
        except SpecError as error:
            raise RequestError(422, "spec.data", str(error)) from None

    return app


def _example(name: str) -> dict[str, Any]:
    try:
        return parse_text(example_text(name), "toml", name)
    except UnknownNameError as error:
        raise RequestError(404, "name", str(error), "not_found") from None
