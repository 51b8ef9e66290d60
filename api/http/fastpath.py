"""Serve hot stored results without the framework: an ASGI layer in front of FastAPI.

The read endpoints that logistics and producers poll (a plan's result, a producer's contract,
route sheets, a week's GeoJSON) answer from memory once warm. This layer answers a GET only
when everything it needs is already cached by the normal endpoints — the key (verified
before), the succeeded job, the stored bytes — and the caller's role allows it by the same
rules; in every other case (cold cache, unknown key, a 403, a bad parameter) the request goes
on to FastAPI, which answers it and warms the cache.
"""

from __future__ import annotations

import re

from api.http.access import producer_visible, territory_visible
from api.http.deps import READ_RESULTS, KeyCache, ResultCache

_ROUTES = (
    (re.compile(r"^/v1/plans/([^/]{1,36})$"), "plan"),
    (re.compile(r"^/v1/plans/([^/]{1,36})/contracts/([^/]{1,64})$"), "contract"),
    (re.compile(r"^/v1/routes/([^/]{1,36})$"), "routes"),
    (re.compile(r"^/v1/routes/([^/]{1,36})/geojson$"), "geojson"),
    (re.compile(r"^/v1/routes/([^/]{1,36})/sheets/([^/]{1,64})/([^/]{1,64})$"), "sheet"),
)
_FORMATS = {b"": "csv", b"format=csv": "csv", b"format=html": "html"}


def _route(path: str) -> tuple[re.Match, str] | None:
    for pattern, kind in _ROUTES:
        match = pattern.match(path)
        if match:
            return match, kind
    return None


class CachedReads:
    """ASGI middleware answering warm read requests straight from the result cache (the app's
    ``state.keys`` and ``state.results``, read at each request)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET":
            state = scope["app"].state
            hit = self._lookup(scope, state.keys, state.results)
            if hit is not None:
                body, media_type = hit
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", media_type.encode()),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _lookup(self, scope, keys: KeyCache, results: ResultCache) -> tuple[bytes, str] | None:
        found = _route(scope["path"])
        if found is None:
            return None
        match, kind = found
        fmt = _FORMATS.get(scope.get("query_string", b""))
        if (
            fmt is None
            or (fmt == "html" and kind not in ("contract", "sheet"))
            or (scope.get("query_string") and kind not in ("contract", "sheet"))
        ):
            return None
        caller = _caller(scope, keys)
        if caller is None:
            return None
        job_id = match.group(1)
        job = results.get(("job", job_id))
        wanted = "plan" if kind in ("plan", "contract") else "routes"
        if job is None or job.kind != wanted:
            return None
        if not territory_visible(caller, job.territory_id):
            return None  # FastAPI answers the 404
        if kind == "contract":
            producer_id = match.group(2)
            if not producer_visible(caller, producer_id):
                return None  # FastAPI answers the 404
            files = (results.get(("contracts", job_id)) or {}).get(producer_id)
            if not files or fmt not in files:
                return None
            return results.get(("art", job_id, files[fmt]))
        if caller.role not in READ_RESULTS:
            return None
        if kind in ("plan", "routes"):
            body = results.get(("summary", job_id))
            return None if body is None else (body, "application/json")
        if kind == "geojson":
            return results.get(("art", job_id, "routes.geojson"))
        day, vehicle = match.group(2), match.group(3)
        return results.get(("art", job_id, f"sheets/{day}_{vehicle}.{fmt}"))


def _caller(scope, keys: KeyCache):
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token:
                return None
            caller = keys.peek(token.strip())
            return caller if caller is not None and caller.scoped else None
    return None
