"""Web sign-in: an API key exchanged for a session cookie, CSRF tokens, the caller.

The cookie holds a random token; the database (``web_sessions``, migration 0004) keeps its
sha256, the key it was opened with (by hash, never the key), the session's CSRF token and its
end (12 h). Signing out deletes the row: a copied cookie stops working at once, in every HTTP
process. Each request also looks the key up through the API's key cache, so a revoked or
re-scoped key ends its sessions within half a second. The cookie is HttpOnly,
SameSite=Strict, Secure when served over TLS.

Every form (and every script's POST) carries the session's CSRF token; the sign-in form's
token is the HMAC of a pre-session cookie's nonce (``VIVRES_SESSION_SECRET``). A missing or
wrong token is a 403 page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request, Response

from api.store.keys import Principal

COOKIE = "vivres_session"
PRE_COOKIE = "vivres_pre"
MAX_AGE_S = 12 * 3600
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class SignedOut(Exception):
    """No valid session: the page redirects to the sign-in form."""


class CsrfFailed(Exception):
    """A POST without the session's CSRF token."""


@dataclass(frozen=True, slots=True)
class WebUser:
    """A signed-in caller: the key's principal and the session's CSRF token."""

    principal: Principal
    csrf: str

    @property
    def role(self) -> str:
        return self.principal.role


def app_secret(app) -> bytes:
    """The signing secret: ``VIVRES_SESSION_SECRET``, else one made for this app."""
    secret = getattr(app.state, "session_secret", None)
    if secret is None:
        from api.settings import settings

        configured = settings().session_secret
        secret = configured.encode() if configured else secrets.token_bytes(32)
        app.state.session_secret = secret
    return secret


def _mac(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(store, key_hash: str, *, now: datetime | None = None) -> str:
    """Store a new session for a key (by hash); return the cookie's token. Sessions past
    their end are deleted on the way."""
    from sqlalchemy import delete

    from api.store.models import WebSession, utcnow

    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with store.session() as session:
        session.execute(delete(WebSession).where(WebSession.expires_at < now))
        session.add(
            WebSession(
                token_hash=_token_hash(token),
                key_hash=key_hash,
                csrf=secrets.token_hex(32),
                created_at=now,
                expires_at=now + timedelta(seconds=MAX_AGE_S),
            )
        )
    return token


def find_session(store, token: str | None):
    """The live session of a cookie's token (None: unknown, signed out or past its end)."""
    from api.store.models import WebSession, utcnow

    if not token or len(token) > 128:
        return None
    with store.sessions() as session:
        row = session.get(WebSession, _token_hash(token))
    if row is None or row.expires_at <= utcnow():
        return None
    return row


def close_session(store, token: str | None) -> None:
    """Sign out: delete the session."""
    from sqlalchemy import delete

    from api.store.models import WebSession

    if token and len(token) <= 128:
        with store.session() as session:
            session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))


def current_user(request: Request) -> WebUser:
    """The signed-in caller, or ``SignedOut`` (no cookie, unknown or ended session, revoked
    key)."""
    row = find_session(request.app.state.store, request.cookies.get(COOKIE))
    if row is None:
        raise SignedOut()
    principal = request.app.state.keys.lookup_hash(row.key_hash)
    if principal is None or not principal.scoped:
        raise SignedOut()
    return WebUser(principal=principal, csrf=row.csrf)


def login_token(request: Request) -> tuple[str, str | None]:
    """The sign-in form's token and, when the pre-session cookie is missing, the new nonce
    to set in it."""
    nonce = request.cookies.get(PRE_COOKIE)
    fresh = None
    if not nonce or len(nonce) > 64:
        nonce = fresh = secrets.token_urlsafe(16)
    return _mac(app_secret(request.app), "login", nonce), fresh


def check_login_csrf(request: Request, token: str | None) -> None:
    nonce = request.cookies.get(PRE_COOKIE)
    expected = _mac(app_secret(request.app), "login", nonce) if nonce else None
    if not token or expected is None or not hmac.compare_digest(token, expected):
        raise CsrfFailed()


def check_csrf(user: WebUser, token: str | None) -> None:
    """Raise ``CsrfFailed`` unless ``token`` is the session's CSRF token."""
    if not token or not hmac.compare_digest(token, user.csrf):
        raise CsrfFailed()


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int):
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def sign_in(request: Request, response: Response, key_hash: str) -> None:
    """Open a session for a key and set its cookie (the pre-session cookie is dropped)."""
    token = open_session(request.app.state.store, key_hash)
    set_cookie(request, response, COOKIE, token, max_age=MAX_AGE_S)
    response.delete_cookie(PRE_COOKIE, path="/")


def sign_out(request: Request, response: Response) -> None:
    """End the session on the server and in the browser."""
    close_session(request.app.state.store, request.cookies.get(COOKIE))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
