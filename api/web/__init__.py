"""The web pages (French) served by the API's app at ``/``; the API stays under ``/v1``.

Server-rendered Jinja2 pages over the same store, jobs and pipeline as the API; small plain
scripts (``static/js``) for live progress, maps and drag and drop; vendored libraries in
``static/vendor`` (versions and licences in its README). Nothing is fetched from elsewhere.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.web.base import HERE, PageError, render
from api.web.session import CsrfFailed, SignedOut

STATIC = HERE / "static"


def install(app: FastAPI) -> None:
    """Mount the pages, their static files and their error pages on ``app``."""
    from api.web import editing, jobs_view, logistics, pages, planner, producer, whatif

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="web-static")
    for module in (pages, jobs_view, producer, logistics, editing, planner, whatif):
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
