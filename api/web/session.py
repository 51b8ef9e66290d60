"""Web sign-in: an API key exchanged for a signed session cookie, CSRF tokens, the caller.

The cookie holds the key's *hash* (the stored form, never the key), a random session nonce
and its issue time, signed with HMAC-SHA256 (``VIVRES_SESSION_SECRET``). Each request looks
the hash up through the API's key cache, so a revoked or re-scoped key ends its sessions
within half a second. The cookie is HttpOnly, SameSite=Strict, Secure when served over TLS.

Every form (and every script's POST) carries a CSRF token: the HMAC of the session nonce
(sign-in: of a pre-session nonce in its own cookie). A missing or wrong token is a 403 page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_session(secret: bytes, key_hash: str, *, now: float | None = None) -> str:
    """A signed cookie value for a key (by its hash)."""
    body = {"k": key_hash, "n": secrets.token_urlsafe(16), "t": int(now or time.time())}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, 'session', payload)}"


def decode_session(secret: bytes, value: str | None, *, now: float | None = None) -> dict | None:
    """The cookie's content when its signature holds and it has not expired, else None."""
    if not value or value.count(".") != 1 or len(value) > 1024:
        return None
    payload, mac = value.split(".")
    if not hmac.compare_digest(mac, _mac(secret, "session", payload)):
        return None
    try:
        body = json.loads(_unb64(payload))
        issued = int(body["t"])
        key_hash, nonce = str(body["k"]), str(body["n"])
    except (ValueError, KeyError, TypeError):
        return None
    if not 0 <= (now or time.time()) - issued <= MAX_AGE_S:
        return None
    return {"k": key_hash, "n": nonce, "t": issued}


def current_user(request: Request) -> WebUser:
    """The signed-in caller, or ``SignedOut`` (no cookie, bad signature, expired, revoked)."""
    secret = app_secret(request.app)
    body = decode_session(secret, request.cookies.get(COOKIE))
    if body is None:
        raise SignedOut()
    principal = request.app.state.keys.lookup_hash(body["k"])
    if principal is None or not principal.scoped:
        raise SignedOut()
    return WebUser(principal=principal, csrf=_mac(secret, "csrf", body["n"]))


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
    """Set the session cookie for a key and drop the pre-session cookie."""
    value = encode_session(app_secret(request.app), key_hash)
    set_cookie(request, response, COOKIE, value, max_age=MAX_AGE_S)
    response.delete_cookie(PRE_COOKIE, path="/")


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
