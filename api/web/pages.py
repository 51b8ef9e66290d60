"""Sign-in, sign-out, the territory choice and each role's home page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.http.access import territories_of
from api.store import territories as store_t
from api.store.keys import hash_token
from api.web.base import render, territory_user
from api.web.session import (
    PRE_COOKIE,
    SignedOut,
    check_csrf,
    check_login_csrf,
    current_user,
    login_token,
    set_cookie,
    sign_in,
    sign_out,
)

router = APIRouter(include_in_schema=False)


@router.get("/connexion", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


def _login_page(request: Request, error: str | None = None) -> HTMLResponse:
    token, fresh = login_token(request)
    response = render(
        request, "login.html", csrf=token, error=error, status_code=401 if error else 200
    )
    if fresh is not None:
        set_cookie(request, response, PRE_COOKIE, fresh, max_age=3600)
    return response


@router.post("/connexion", response_class=HTMLResponse)
def login(
    request: Request,
    key: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Exchange an API key for a session cookie (the key is never echoed nor logged)."""
    check_login_csrf(request, csrf)
    key = key.strip()
    principal = request.app.state.keys.lookup(key) if key else None
    if principal is None or not principal.scoped:
        return _login_page(
            request,
            "Clé inconnue, révoquée ou sans territoire. Vérifiez-la auprès de votre pôle "
            "(elle commence par vvr_).",
        )
    response = RedirectResponse("/", status_code=303)
    sign_in(request, response, hash_token(key))
    return response


@router.post("/deconnexion")
def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> RedirectResponse:
    user = current_user(request)
    check_csrf(user, csrf)
    response = RedirectResponse("/connexion", status_code=303)
    sign_out(request, response)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request):
    """The territories of the key: straight to the only one, else a list."""
    try:
        user = current_user(request)
    except SignedOut:
        return RedirectResponse("/connexion", status_code=303)
    rows, _ = store_t.list_territories(
        request.app.state.store, limit=200, offset=0, within=territories_of(user.principal)
    )
    if len(rows) == 1:
        return RedirectResponse(f"/t/{rows[0].territory_id}/", status_code=303)
    return render(request, "territories.html", user=user, territories=rows)


@router.get("/t/{territory_id}/", response_class=HTMLResponse)
def territory_home(request: Request, territory_id: str):
    user = territory_user(request, territory_id)
    if user.role == "producer":
        return RedirectResponse(
            f"/t/{territory_id}/producteurs/{user.principal.producer_id}/engagements",
            status_code=303,
        )
    try:
        row = store_t.territory_row(request.app.state.store, territory_id)
    except store_t.NotFound:
        from api.web.base import not_found

        raise not_found("Ce territoire n'a pas encore de données.") from None
    from api.web.jobs_view import recent_jobs

    return render(
        request,
        "home.html",
        user=user,
        territory_id=territory_id,
        territory=row,
        jobs=recent_jobs(request, territory_id, limit=8),
    )
