"""The FastAPI app: a JSON API over the engine, and the static page that consumes it.

Every number the page shows comes from here. Errors are JSON ``{"message": one line, "detail":
[{"loc", "msg", "type"}]}`` (web/responses.py, bounded in size): 422 for a bad request (field path,
what was wrong, how to fix it), 413 for a request over a documented cap (web/limits.py), 415 for a
body that is not JSON, 404 for an unknown example or path, 400/403 for another host or origin
(web/guard.py). Bad input never gets a 500.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.exceptions import HTTPException

from gradtrace import notation
from gradtrace.core.activations import ACTIVATIONS
from gradtrace.core.losses import LOSSES
from gradtrace.data.features import DEFAULT_FEATURES, FEATURES, check_features
from gradtrace.data.synthetic import GENERATORS, REGRESSIONS
from gradtrace.errors import (
    LimitError,
    NumericalError,
    SpecError,
    UnknownNameError,
    unknown_name,
)
from gradtrace.spec import (
    Spec,
    describe_validation_error,
    error_field,
    example_names,
    example_text,
    parse_text,
)
from gradtrace.trace.json import to_dict
from gradtrace.web import limits
from gradtrace.web.exercises import exercise_reply, read_query
from gradtrace.web.grading import grade_reply, read_request
from gradtrace.web.guard import Guard
from gradtrace.web.responses import (
    JSON,
    RequestError,
    error_response,
    exact_json_body,
    invalid,
    json_body,
    shown,
)
from gradtrace.web.specs import PLAYGROUND, explicit_spec, to_toml
from gradtrace.web.training import SPEC_DATA, TrainInputError, TrainSettings, train
from gradtrace.workflow import trace_spec

STATIC = Path(str(resources.files("gradtrace.web").joinpath("static")))
DATASETS = (*GENERATORS, *REGRESSIONS, SPEC_DATA)
# The page loads nothing from anywhere but this server (no CDN, works offline), and no other
# site may frame it (clickjacking).
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


class TrainRequest(BaseModel):
    """POST /api/train: the spec to start from, the dataset, and how far to train."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    spec: dict[str, Any] = Field(description="a spec's fields, as POST /api/step takes them")
    dataset: str = Field("xor", description=f"one of {', '.join(DATASETS)}")
    points: int = Field(200, ge=4, description=f"dataset size (at most {limits.MAX_POINTS})")
    noise: float | None = Field(None, ge=0.0, le=5.0, description="None: the dataset's default")
    seed: int = Field(0, ge=0, lt=2**32, description="the dataset's random seed")
    steps: int = Field(100, ge=0, description=f"optimiser steps (at most "
                       f"{limits.MAX_TRAIN_STEPS}); 0 draws the data and the untrained network")
    grid: int = Field(50, ge=0, description=f"boundary grid side, 0 for none (≤ {limits.MAX_GRID})")
    batch_size: int | None = Field(None, ge=1, description="points a step; None: all (one step "
                                   "an epoch)")
    test_ratio: float = Field(0.0, ge=0.0, le=0.9, description="share of the points held out")
    features: list[str] = Field(list(DEFAULT_FEATURES), description=f"input features, of "
                                f"{', '.join(FEATURES)}")
    l1: float = Field(0.0, ge=0.0, le=1.0, description="L1 strength λ₁ for training")
    thumbnail: int = Field(0, ge=0, le=limits.MAX_THUMBNAIL, description="each unit's heat-map "
                           "side, 0 for none")
    start: int = Field(0, ge=0, lt=2**32, description="steps played so far (seeds shuffling)")
    send_points: bool = Field(True, description="false: leave the points out of the reply")
    compact: bool = Field(False, description="the grid as base64 bytes with their range")

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str) -> str:
        if value not in DATASETS:
            raise ValueError(unknown_name("dataset", value, DATASETS))
        return value

    @field_validator("features")
    @classmethod
    def _known_features(cls, value: list[str]) -> list[str]:
        return list(check_features(value))


class SpecText(BaseModel):
    """POST /api/spec/text: a spec file's text and its format."""

    model_config = ConfigDict(extra="forbid")

    text: str
    format: Literal["toml", "json", "yaml", "yml"] = "toml"


Body = Annotated[Any, Depends(json_body)]  # decoded in one place: web/responses.py
ExactBody = Annotated[Any, Depends(exact_json_body)]  # numbers as written (Decimal)


def _body_doc(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI text for a JSON body the route decodes itself (FastAPI cannot see it)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


SPEC_DOC = _body_doc({"type": "object", "description": "a spec's fields (README 'Spec format')"})
GRADE_DOC = _body_doc({"type": "object", "required": ["spec", "answers"], "description":
                       "an answers file as JSON (README 'Check your hand work'): spec (fields or "
                       "an example name), answers ({key: number as a string, e.g. \"0.5780\"}), "
                       "conventions; forgive_last_digit, tolerance"})


def validate_spec(data: Any, prefix: str = "") -> Spec:
    """A Spec from request JSON, or a RequestError with spec.py's message and field path."""
    if not isinstance(data, dict):
        where = "" if prefix else "request body "
        raise RequestError(422, prefix.rstrip("."), f"{where}should be a valid dictionary: a JSON "
                           f"object of spec fields (found {shown(data)})", "dict_type")
    try:
        spec = Spec.model_validate(data)
    except ValidationError as error:
        field = error_field(error)
        message = describe_validation_error(error).removeprefix(f"{field}: ")
        raise RequestError(422, prefix + field if field else prefix.rstrip("."), message) from None
    try:
        limits.check_spec(spec, prefix)
    except limits.WebLimitError as error:
        raise RequestError(413, error.field, str(error).removeprefix(f"{error.field}: "),
                           "limit") from None
    return spec


def _model(model: type[TrainRequest] | type[SpecText], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid(error.errors()) from None


def _limit(field: str, value: int, cap: int, what: str, hint: str = "") -> None:
    try:
        limits.check_count(field, value, cap, what, hint)
    except limits.WebLimitError as error:
        raise RequestError(413, field, str(error).removeprefix(f"{field}: "), "limit") from None


async def _request_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestError)
    loc = ["path", *error.loc[1:]] if error.kind == "not_found" else error.loc
    return error_response(error.status, loc, str(error), error.kind)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's own parameter checks, as the same one readable line as the body's."""
    assert isinstance(error, RequestValidationError)
    first = invalid(list(error.errors()))
    return error_response(422, first.loc[1:] or ["body"], str(first), first.kind)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own answers (unknown path, wrong method) in the API's error format."""
    assert isinstance(error, HTTPException)
    message = f"{request.method} {request.url.path}: {error.detail}"
    allow = {k.lower(): v for k, v in (error.headers or {}).items()}.get("allow")
    if allow:
        message += f"; this path takes {allow}"
    return error_response(error.status_code, ["path"], message, "http", error.headers)


async def _server_error(_: Request, error: Exception) -> JSONResponse:
    """A bug, not bad input: a JSON 500 that names nothing of the server's insides."""
    return error_response(500, [], f"internal error ({type(error).__name__}) in gradtrace; "
                          "please report it with the request that caused it", "internal")


def create_app(initial_spec: dict[str, Any] | None = None,
               listen_host: str = "127.0.0.1") -> FastAPI:
    """The app; ``initial_spec`` (a spec mapping) is what the page opens with (default:
    web/specs.py PLAYGROUND; ``/#example=seed`` opens a built-in example).

    ``listen_host`` is the address ``gradtrace serve --host`` listens on: the Host header may name
    it besides the loopback names (web/guard.py).
    """
    # No /docs or /redoc: FastAPI loads them from a CDN, and nothing may load from the internet.
    app = FastAPI(title="gradtrace", summary="Backpropagation, step by step, in the browser",
                  version="1", docs_url=None, redoc_url=None, default_response_class=JSON)
    app.add_middleware(Guard, listen_host=listen_host)
    app.add_exception_handler(RequestError, _request_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": CSP})

    @app.get("/api/session")
    def session() -> dict[str, Any]:
        """What the page opens with: the spec given to ``gradtrace serve`` (or null)."""
        return {"spec": initial_spec}

    @app.get("/api/default")
    def default() -> dict[str, Any]:
        """The network the page opens with when no spec is given: one that learns xor on Play."""
        return PLAYGROUND

    @app.get("/api/notation")
    def symbols() -> dict[str, dict[str, str]]:
        """The symbol table (gradtrace.notation): each quantity's text, LaTeX and words."""
        return {kind: {"text": n.text, "latex": n.latex, "words": n.words}
                for kind, n in notation.SYMBOLS.items()}

    @app.get("/api/options")
    def options() -> dict[str, Any]:
        """The names the page offers: activations, losses, datasets (regression ones named),
        input features with their printed symbols."""
        return {"activations": sorted(ACTIVATIONS), "losses": sorted(LOSSES),
                "datasets": list(DATASETS), "regression": list(REGRESSIONS),
                "features": [{"name": f.name, "symbol": f.symbol} for f in FEATURES.values()]}

    @app.get("/api/limits")
    def caps() -> dict[str, float]:
        """The documented per-request caps (train_seconds: the compute budget of /api/train)."""
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

    @app.get("/api/exercise")
    def exercise(request: Request) -> JSON:
        """A generated hand-friendly exercise, tested as ``gradtrace exercise`` tests it:
        ``?seed=7&sizes=2,2,1&activations=sigmoid&loss=half_sse&decimals=4`` (all optional) ->
        {seed, frozen_seed, sizes, activations, loss, decimals, spec}."""
        reply = exercise_reply(read_query(request.query_params))
        validate_spec(reply["spec"], "spec.")  # the page's caps, as for every spec it is sent
        return JSON(reply)

    # The POST routes return JSON themselves: FastAPI's own serialisation would turn an inf or NaN
    # into a silent null; JSON.render refuses them instead.
    def normalise(data: Any) -> JSON:
        explicit = explicit_spec(validate_spec(data))
        return JSON({"spec": explicit, "toml": to_toml(explicit)})

    @app.post("/api/spec", openapi_extra=SPEC_DOC)
    def spec_route(body: Body) -> JSON:
        """Validate a spec; return it with explicit weights, and as TOML text."""
        return normalise(body)

    @app.post("/api/spec/text", openapi_extra=_body_doc(SpecText.model_json_schema()))
    def from_text(body: Body) -> JSON:
        """Read an uploaded spec file's text (TOML, JSON or YAML); the same as POST /api/spec."""
        request: SpecText = _model(SpecText, body)
        try:
            data = parse_text(request.text, request.format, "upload")
        except SpecError as error:
            raise RequestError(422, "text", str(error).removeprefix("upload: ")) from None
        return normalise(data)

    @app.post("/api/step", openapi_extra=SPEC_DOC)
    def step(body: Body) -> JSON:
        """Trace ``steps`` training steps of the spec: the ``gradtrace.trace/1`` JSON."""
        spec = validate_spec(body)
        _limit("steps", spec.steps, limits.MAX_STEP_STEPS, "steps", "; use /api/train for more")
        if spec.data is None:
            raise RequestError(422, "data", "the spec has no data; add data.input and data.target")
        try:
            trace = trace_spec(spec)
        except LimitError as error:
            raise RequestError(413, "", str(error), "limit") from None
        except NumericalError as error:  # JSON has no inf or NaN; the message names the quantity
            raise RequestError(422, "", str(error).removeprefix(f"{spec.source}: ")) from None
        return JSON(to_dict(trace))

    @app.post("/api/grade", openapi_extra=GRADE_DOC)
    def grade_endpoint(body: ExactBody) -> JSON:
        """Grade a learner's answers on the spec's step(s): the ``gradtrace.grade/1`` JSON.

        Each number is judged at its written precision: send it as a string ("0.5780") or a JSON
        number (read as written, not as a float). web/grading.py says what is a 422.
        """
        spec_data, sheet, options = read_request(body)
        spec = _grade_spec(spec_data)
        _limit("answers", sheet.steps, limits.MAX_STEP_STEPS, "steps")
        if spec.data is None:
            raise RequestError(422, "spec.data", "the spec has no data; add data.input and "
                               "data.target")
        try:
            report = grade_reply(spec, sheet, options)
        except LimitError as error:
            raise RequestError(413, "spec", str(error), "limit") from None
        except NumericalError as error:
            raise RequestError(422, "spec", str(error).removeprefix(f"{spec.source}: ")) from None
        return JSON(report.to_dict())

    @app.post("/api/train", openapi_extra=_body_doc(TrainRequest.model_json_schema()))
    def train_endpoint(body: Body) -> JSON:
        """Train a copy of the spec's network: new spec, train/test losses, boundary grid, each
        unit's thumbnail, and a few training points as a traced batch.

        One request computes for at most limits.MAX_TRAIN_SECONDS; over it, a 413 names the budget.
        """
        request: TrainRequest = _model(TrainRequest, body)
        spec = validate_spec(request.spec, "spec.")
        _limit("steps", request.steps, limits.MAX_TRAIN_STEPS, "steps", "; ask again to continue")
        _limit("points", request.points, limits.MAX_POINTS, "points")
        _limit("grid", request.grid, limits.MAX_GRID, "grid points a side")
        settings = TrainSettings(request.dataset, request.points, request.noise, request.seed,
                                 request.steps, request.grid, request.batch_size,
                                 request.test_ratio, tuple(request.features), request.l1,
                                 request.thumbnail, request.start, request.send_points,
                                 request.compact)
        try:
            return JSON(train(spec, settings))
        except TrainInputError as error:
            raise RequestError(422, error.field, str(error)) from None
        except limits.WebLimitError as error:
            raise RequestError(413, error.field, str(error).removeprefix(f"{error.field}: "),
                               "limit") from None
        except SpecError as error:
            raise RequestError(422, "spec.data", str(error)) from None

    return app


def _grade_spec(data: Any) -> Spec:
    """POST /api/grade's spec: its fields, or a built-in example's name (never a server path)."""
    if isinstance(data, str):
        if data not in example_names():
            raise RequestError(422, "spec", unknown_name("example", data, example_names())
                               + "; or send the spec's fields as an object")
        data = _example(data)
    return validate_spec(data, "spec.")


def _example(name: str) -> dict[str, Any]:
    try:
        return parse_text(example_text(name), "toml", name)
    except UnknownNameError as error:
        raise RequestError(404, "name", str(error), "not_found") from None
