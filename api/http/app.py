"""``create_app``: the FastAPI application over the store, the jobs and the pipeline."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.datastructures import State

from api.http import caisse, results, scenarios, territories
from api.http import interop as interop_routes
from api.http import jobs as jobs_routes
from api.http import mutual as mutual_routes
from api.http import sweep as sweep_routes
from api.http import week as week_routes
from api.http.access import scoped
from api.http.deps import Caller, KeyCache, ResultCache, reject_unknown_query
from api.http.fastpath import CachedReads
from api.http.problems import MEDIA_TYPE, Problem, install, problem_response
from api.http.ratelimit import RateLimit, RateLimiter, limits_from_env
from api.http.schemas import KeyOut
from api.http.security import SecurityHeaders, install_docs
from api.jobs import QuotaExceeded
from api.limits import ENV_MAX_BODY
from api.settings import settings
from api.store.db import Store


class BodyTooLarge(Exception):
    """The request body exceeds the configured limit."""


class BodyLimit:
    """ASGI middleware: 413 problem for bodies over ``max_bytes`` (declared or streamed)."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes or declared < 0:
                    return await self._reject(scope, receive, send, declared)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge()
            return message

        return await self.app(scope, limited, send)

    async def _reject(self, scope, receive, send, declared: int):
        detail = (
            f"the body is larger than the limit of {self.max_bytes >> 20} MiB ({ENV_MAX_BODY})"
            if declared >= 0
            else "invalid Content-Length"
        )
        status = 413 if declared >= 0 else 400
        response = problem_response(
            status,
            "Content Too Large" if status == 413 else "Bad Request",
            detail,
            slug="too-large" if status == 413 else "bad-request",
        )
        await response(scope, receive, send)


class HeadAsGet:
    """ASGI middleware: ``HEAD`` answers as ``GET`` (status, headers, Content-Length) without
    the body, instead of FastAPI's 405 (RFC 9110 §9.3.2)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message):
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        return await self.app(dict(scope, method="GET"), receive, headers_only)


def _openapi(app: FastAPI) -> dict:
    """The schema, with every 4xx documented as problem+json (FastAPI's 422 replaced)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in components["Problem"].pop("$defs", {}).items():
        components[name] = sub
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    problem = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            answers = operation.setdefault("responses", {})
            for code in list(answers):
                if str(code).startswith("4"):
                    answers[code] = {
                        "description": answers[code].get("description", "error"),
                        "content": problem,
                    }
            answers.setdefault("422", {"description": "Invalid request", "content": problem})
            answers.setdefault("413", {"description": "Body too large", "content": problem})
            answers.setdefault("400", {"description": "Bad request", "content": problem})
            answers.setdefault(
                "429",
                {
                    "description": "Too many requests from this key (or "
                    "jobs in this territory); see Retry-After",
                    "content": problem,
                },
            )
    app.openapi_schema = schema
    return schema


def bind_state(app: FastAPI, store: Store, *, rate_limit: tuple[int, int] | None = None) -> None:
    """Give ``app`` a new state over ``store``: the store, its key cache, an empty result cache
    and a rate limiter; whatever the app kept before (a session secret…) is dropped."""
    app.state = State()
    app.state.store = store
    app.state.keys = KeyCache(store)
    app.state.results = ResultCache()
    app.state.rate_limiter = RateLimiter(*(rate_limit or limits_from_env()))


def create_app(
    store: Store | None = None,
    *,
    database_url: str | None = None,
    max_body_mb: float | None = None,
    rate_limit: tuple[int, int] | None = None,
) -> FastAPI:
    """Build the API over ``store`` (or a store opened at ``database_url``, migrated).

    ``rate_limit`` is ``(requests a minute, burst)`` per key (``(0, 0)``: none); by default
    from ``VIVRES_RATE_LIMIT_PER_MIN`` and ``VIVRES_RATE_LIMIT_BURST``.
    """
    if store is None:
        store = Store.open(database_url)
    if max_body_mb is None:
        max_body_mb = settings().max_body_mb
    app = FastAPI(
        title="vivres",
        version="1",
        description="Supply planning and shared-truck logistics for mutualised solidarity food "
        "hubs: territories, demand, season plans and producer contracts, weekly routes. Every "
        "error is an RFC 9457 problem (application/problem+json).",
        docs_url=None,
        redoc_url=None,  # /docs from local assets: install_docs
        dependencies=[Depends(reject_unknown_query)],
    )
    bind_state(app, store, rate_limit=rate_limit)
    install(app)
    install_docs(app)

    @app.exception_handler(QuotaExceeded)
    async def _quota(request: Request, exc: QuotaExceeded):
        response = problem_response(
            429, "Too Many Requests", str(exc), slug="job-quota", instance=request.url.path
        )
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge):
        return problem_response(
            413,
            "Content Too Large",
            f"the body is larger than the limit of {int(max_body_mb)} MiB ({ENV_MAX_BODY})",
            slug="too-large",
            instance=request.url.path,
        )

    @app.get(
        "/v1/health",
        tags=["service"],
        responses={503: {"description": "The supervised job worker is not running"}},
    )
    def health(request: Request) -> JSONResponse:
        """Liveness without a key: the job worker (when ``vivres serve`` supervises one), the
        queue length and the age of its oldest job; 503 when the worker is down."""
        from api.jobs import queue_stats
        from api.supervisor import worker_pid

        num_queued, oldest_s = queue_stats(request.app.state.store)
        supervised = settings().worker_pidfile is not None
        pid = worker_pid() if supervised else None
        worker = "not supervised here" if not supervised else "alive" if pid is not None else "dead"
        body = {
            "status": "ok" if worker != "dead" else "worker down",
            "worker": worker,
            "worker_pid": pid,
            "queued_jobs": num_queued,
            "oldest_queued_s": None if oldest_s is None else round(oldest_s, 1),
        }
        return JSONResponse(body, status_code=200 if worker != "dead" else 503)

    @app.get(
        "/v1/me",
        response_model=KeyOut,
        tags=["service"],
        responses={401: {"description": "No or unknown API key"}},
    )
    async def me(caller: Caller) -> KeyOut:
        """The calling key's role (and producer)."""
        return KeyOut(
            key_id=caller.key_id, role=caller.role, producer_id=caller.producer_id, name=caller.name
        )

    # every territory, job and producer named in a path must lie in the key's scope (404)
    in_scope = [Depends(scoped)]
    app.include_router(territories.router, dependencies=in_scope)
    app.include_router(jobs_routes.router, dependencies=in_scope)
    # before results: /plans/compare ≠ /plans/{job_id}
    app.include_router(scenarios.router, dependencies=in_scope)
    app.include_router(results.router, dependencies=in_scope)
    app.include_router(week_routes.router, dependencies=in_scope)
    app.include_router(mutual_routes.router, dependencies=in_scope)
    app.include_router(caisse.router, dependencies=in_scope)
    app.include_router(sweep_routes.router, dependencies=in_scope)
    app.include_router(interop_routes.router, dependencies=in_scope)
    from api.web import install as install_web

    install_web(app)  # the French web pages at / (cookie sessions; api/web)
    app.add_middleware(BodyLimit, max_bytes=int(max_body_mb * 1024 * 1024))
    app.add_middleware(CachedReads)
    app.add_middleware(RateLimit)  # warm reads count too
    app.add_middleware(SecurityHeaders)  # covers the fast path's answers too
    app.add_middleware(HeadAsGet)  # outermost: HEAD sees exactly what GET would
    app.openapi = lambda: _openapi(app)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (``vivres serve``): the database from the environment."""
    return create_app()
