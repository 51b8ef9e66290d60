"""RFC 9457 problem details: every error the API returns is ``application/problem+json``.

One place maps exceptions to problems: input errors name the file, row and column; request
validation errors name the field (``query.limit``, ``body.week``); anything unexpected is
logged and answered with a generic 500 problem (never a traceback).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.store.territories import NotFound
from core.errors import InputError, InputTooLarge, SolverError, VivresError
from core.safety import scrub_paths, short_repr

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:vivres:problem:"


class ProblemField(BaseModel):
    """One bad field, cell or row."""

    field: str | None = Field(None, description="request field path, e.g. query.limit")
    file: str | None = None
    row: int | None = Field(None, description="line in the file (the header is line 1)")
    column: str | None = None
    message: str
    value: Any = None


class Problem(BaseModel):
    """An RFC 9457 problem details body."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    instance: str | None = None
    errors: list[ProblemField] = Field(default_factory=list)


class ProblemError(Exception):
    """Raise from an endpoint to answer with a problem."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        slug: str | None = None,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.slug, self.errors, self.headers = slug, errors or [], headers


def unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "Unauthorized",
        detail,
        slug="unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="vivres"'},
    )


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "Forbidden", detail, slug="forbidden")


def conflict(detail: str) -> ProblemError:
    return ProblemError(409, "Conflict", detail, slug="conflict")


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    *,
    slug: str | None = None,
    errors: list[dict] | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body = {
        "type": TYPE_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": scrub_paths(detail) or "",
        "errors": errors or [],
    }
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _jsonable(value: Any) -> Any:
    """A value safe to echo: JSON-serialisable, finite, and short (never a huge repr)."""
    return short_repr(value)


def input_errors(exc: InputError, *, limit: int = 1000) -> list[dict]:
    """The rows of an InputError as problem fields."""
    return [
        {
            "file": scrub_paths(e.file),
            "row": e.row,
            "column": e.column,
            "message": scrub_paths(e.message),
            "value": _jsonable(e.value),
        }
        for e in exc.errors[:limit]
    ]


def install(app: FastAPI) -> None:
    """Register the exception handlers that turn every error into a problem."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            slug=exc.slug,
            errors=exc.errors,
            instance=request.url.path,
            headers=exc.headers,
        )

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        n = len(exc.errors)
        detail = str(exc) if n <= 1 else f"{n} problems; first: {exc.errors[0]}"
        return problem_response(
            422,
            "Invalid input",
            detail,
            slug="invalid-input",
            errors=input_errors(exc),
            instance=request.url.path,
        )

    @app.exception_handler(InputTooLarge)
    async def _too_large(request: Request, exc: InputTooLarge) -> JSONResponse:
        return problem_response(
            413,
            "Content Too Large",
            str(exc),
            slug="too-large",
            errors=input_errors(exc),
            instance=request.url.path,
        )

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem_response(
            404,
            "Not Found",
            str(exc.args[0] if exc.args else exc),
            slug="not-found",
            instance=request.url.path,
        )

    @app.exception_handler(SolverError)
    async def _solver(request: Request, exc: SolverError) -> JSONResponse:
        return problem_response(
            422, "Solver failure", str(exc), slug="solver", instance=request.url.path
        )

    @app.exception_handler(VivresError)
    async def _vivres(request: Request, exc: VivresError) -> JSONResponse:
        return problem_response(
            400, "Bad Request", str(exc), slug="bad-request", instance=request.url.path
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors()[:100]:
            loc = [str(p) for p in err.get("loc", ())]
            errors.append(
                {
                    "field": ".".join(loc),
                    "message": short_repr(err.get("msg", "invalid"), 300),
                    "value": _jsonable(err.get("input")) if err.get("type") != "missing" else None,
                }
            )
        first = errors[0] if errors else {"field": "request", "message": "invalid"}
        return problem_response(
            422,
            "Invalid request",
            f"{first['field']}: {first['message']}",
            slug="invalid-request",
            errors=errors,
            instance=request.url.path,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        from http import HTTPStatus

        try:
            title = HTTPStatus(exc.status_code).phrase
        except ValueError:
            title = "Error"
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # list every method of the path, not just the first route's
            headers = {**(headers or {}), "Allow": ", ".join(_allowed(request))}
        return problem_response(
            exc.status_code, title, detail, instance=request.url.path, headers=headers
        )

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return problem_response(
            500,
            "Internal Server Error",
            "an unexpected error happened; it has been logged",
            slug="internal",
            instance=request.url.path,
        )


def _allowed(request: Request) -> list[str]:
    """Every documented method of the requested path (from the OpenAPI paths)."""
    import re

    table = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = []
        for template, operations in request.app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\{name\\}$", ".+", re.escape(template))  # files/{name:path}
            pattern = re.sub(r"\\{\w+\\}", "[^/]+", pattern)
            table.append((re.compile(f"^{pattern}$"), {m.upper() for m in operations}))
        request.app.state.allowed_methods = table
    methods: set[str] = set()
    for pattern, operations in table:
        if pattern.match(request.url.path):
            methods |= operations
    return sorted(methods)


def responses(*codes: int) -> dict[int | str, dict]:
    """OpenAPI documentation of the problem responses an operation may return."""
    described = {
        400: "Bad request",
        401: "No or unknown API key",
        403: "Outside the key's role",
        404: "Not found",
        409: "The job has not finished",
        413: "Body too large",
        415: "Unsupported media type",
        422: "Invalid input (names the field or row)",
    }
    return {
        code: {
            "description": described[code],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }
