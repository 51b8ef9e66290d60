"""The web pages (French) served by the API's app at ``/``; the API stays under ``/v1``.

Server-rendered Jinja2 pages over the same store, jobs and pipeline as the API; small plain
scripts (``static/js``) for live progress, maps and drag and drop; vendored libraries in
``static/vendor`` (versions and licences in its README). Nothing is fetched from elsewhere.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from api.web.base import HERE, PageError, render
from api.web.session import CsrfFailed, SignedOut

STATIC = HERE / "static"


def install(app: FastAPI) -> None:
    """Mount the pages, their static files and their error pages on ``app``."""
    from api.web import (
        availability,
        editing,
        imports,
        jobs_view,
        logistics,
        mutual,
        pages,
        planner,
        producer,
        sweep,
        week,
        whatif,
    )

    # scripts and styles compressed (Leaflet: 148 → 43 KB); the API's answers are untouched
    static = GZipMiddleware(StaticFiles(directory=str(STATIC)), minimum_size=1024)
    app.mount("/static", static, name="web-static")
    modules = (
        pages,
        jobs_view,
        producer,
        availability,
        logistics,
        week,
        editing,
        planner,
        whatif,
        mutual,
        imports,
        sweep,
    )
    for module in modules:
        app.include_router(module.router)

    @app.exception_handler(SignedOut)
    async def _signed_out(request: Request, exc: SignedOut):
        if request.method == "GET" and "json" not in request.headers.get("accept", ""):
            return RedirectResponse("/connexion", status_code=303)
        return render(request, "error.html", status_code=401, message="Session expirée.")

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed):
        return render(
            request,
            "error.html",
            status_code=403,
            message="Le formulaire a expiré ou ne vient pas de cette page : rechargez la page "
            "et recommencez.",
        )

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError):
        return render(request, "error.html", status_code=exc.status, message=exc.message)

    _html_errors_on_pages(app)


API_PREFIXES = ("/v1", "/docs", "/openapi.json", "/static")
PAGE_ERRORS = {404: "Cette page n'existe pas.", 405: "Cette action n'existe pas ici."}


def _html_errors_on_pages(app: FastAPI) -> None:
    """The API's errors stay problem+json; on the pages, the same errors are an HTML page
    (a wrapper around each of the API's handlers)."""
    from starlette.exceptions import HTTPException

    from api.store.territories import NotFound
    from api.web.messages import error_fr
    from core.errors import VivresError

    for cls in (NotFound, VivresError, HTTPException):
        api_handler = app.exception_handlers.get(cls)
        if api_handler is None:
            continue

        async def handler(request: Request, exc: Exception, _api=api_handler):
            if request.url.path.startswith(API_PREFIXES):
                return await _api(request, exc)
            if isinstance(exc, HTTPException):
                status = exc.status_code
                message = PAGE_ERRORS.get(status, "La requête n'a pas pu aboutir.")
            elif isinstance(exc, NotFound):
                status, message = 404, "Cette page n'existe pas."
            else:
                status, message = 422, error_fr(exc)
            return render(request, "error.html", status_code=status, message=message)

        app.add_exception_handler(cls, handler)
