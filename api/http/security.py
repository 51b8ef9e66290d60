"""Response headers that make served files inert, and Swagger UI served from local assets.

Every response gets ``X-Content-Type-Options: nosniff``; every HTML response a Content
Security Policy with ``frame-ancestors 'none'``. Result pages (contracts, route sheets, maps)
need no script: their policy allows none, so even a name that slipped past escaping cannot
run. The web pages (``api/web``, outside ``/v1``) run only this server's scripts and styles.
``/docs`` loads Swagger UI from the ``swagger-ui-bundle`` package (works offline).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_ASSETS = "/docs/assets"
#: Result files: no script, no plugin, no frame, styles and inline images only.
CSP_FILES = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"
)
#: Swagger UI: its own scripts and its inline start-up script, from this server only.
CSP_DOCS = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def web_csp() -> str:
    """The web pages' policy: scripts, styles and fetches from this server only (vendored
    libraries, no CDN); images also from the configured tile server, if any."""
    from api.settings import settings

    tiles = settings().tile_url
    origin = ""
    if tiles:
        scheme, _, rest = tiles.partition("://")
        origin = " " + scheme + "://" + rest.split("/", 1)[0].replace("{s}", "*")
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data:{origin}; connect-src 'self'; font-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


class SecurityHeaders:
    """ASGI middleware adding nosniff to every response and a CSP to HTML ones."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        docs = path.startswith("/docs")
        # the web pages (api/web): everything except the API, its docs and stored results
        web = not docs and not path.startswith("/v1")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"x-content-type-options", b"content-security-policy")
                ]
                headers.append((b"x-content-type-options", b"nosniff"))
                media = dict(headers).get(b"content-type", b"").lower()
                if media.startswith((b"text/html", b"image/svg")):
                    csp = CSP_DOCS if docs else web_csp() if web else CSP_FILES
                    headers.append((b"content-security-policy", csp.encode()))
                    headers.append((b"x-frame-options", b"DENY"))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` with its JavaScript and CSS from the local package."""
    import swagger_ui_bundle

    app.mount(
        DOCS_ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets"
    )

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        # request.app, not a closure over app: FastAPI caches endpoints by identity, and a
        # closure would keep every app ever built alive (tests build hundreds)
        served = request.app
        return get_swagger_ui_html(
            openapi_url=served.openapi_url or "/openapi.json",
            title=f"{served.title} — API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )
