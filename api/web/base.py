"""What the web pages share: templates, the signed-in caller per territory, menus, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.http.access import producer_visible, territory_visible
from api.web import fmt
from api.web.session import WebUser, current_user

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
fmt.install(templates.env)

ROLE_NAMES = {"planner": "planification", "logistics": "logistique", "producer": "producteur"}


class PageError(Exception):
    """An error page (404 for what lies outside the caller's scope, 403 for another role)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def not_found(what: str = "Cette page n'existe pas.") -> PageError:
    return PageError(404, what)


def menu(user: WebUser, territory_id: str) -> list[tuple[str, str]]:
    """(label, url) of the caller's role menu."""
    base = f"/t/{territory_id}"
    if user.role == "producer":
        own = f"{base}/producteurs/{user.principal.producer_id}"
        return [
            ("Mes engagements", f"{own}/engagements"),
            ("Mes disponibilités", f"{own}/disponibilites"),
        ]
    items = [("Accueil", f"{base}/")]
    if user.role == "planner":
        items += [
            ("Demande", f"{base}/demande"),
            ("Plan de saison", f"{base}/plan"),
            ("Caisse", f"{base}/caisse"),
            ("Scénarios", f"{base}/scenarios"),
            ("Sensibilité", f"{base}/sensibilite"),
            ("Mutualisation", f"{base}/mutualisation"),
            ("Importer", f"{base}/import"),
        ]
    items += [
        ("Commandes", f"{base}/commandes"),
        ("Semaine réelle", f"{base}/semaine"),
        ("Tournées", f"{base}/tournees"),
    ]
    return items


def territory_user(request: Request, territory_id: str, *roles: str) -> WebUser:
    """The signed-in caller if the territory lies in its key's scope (404 otherwise) and its
    role is one of ``roles`` (403 otherwise)."""
    user = current_user(request)
    if not territory_visible(user.principal, territory_id):
        raise not_found()
    if roles and user.role not in roles:
        raise PageError(403, f"Cette page n'est pas ouverte au rôle {ROLE_NAMES[user.role]}.")
    return user


def producer_user(request: Request, territory_id: str, producer_id: str) -> WebUser:
    """A caller who may see this producer's pages: its own producer key, or planning and
    logistics staff; another producer's page answers 404."""
    user = territory_user(request, territory_id)
    if not producer_visible(user.principal, producer_id):
        raise not_found()
    return user


def render(
    request: Request,
    template: str,
    *,
    user: WebUser | None = None,
    territory_id: str | None = None,
    status_code: int = 200,
    **context,
) -> HTMLResponse:
    """A page of ``template`` with the layout's context (menu, CSRF token, role)."""
    from api.settings import settings

    context.update(
        user=user,
        territory_id=territory_id,
        menu=menu(user, territory_id) if user and territory_id else [],
        csrf=user.csrf if user else context.get("csrf", ""),
        role_name=ROLE_NAMES.get(user.role, "") if user else "",
        tile_url=settings().tile_url,
        path=request.url.path,
        status_code=status_code,
    )
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def queue_job(
    request: Request,
    user: WebUser,
    territory_id: str,
    kind: str,
    params: dict,
    check: Callable[[dict], object],
) -> Response:
    """Check a job's options the way its door does (``check``), queue it and go to its
    progress page; a refused option shows the error page (422), nothing queued."""
    from fastapi.responses import RedirectResponse

    from api import jobs
    from api.web.messages import error_fr
    from core.errors import VivresError

    try:
        check(params)
        job = jobs.submit(request.app.state.store, territory_id, kind, params)
    except VivresError as exc:
        return render(
            request,
            "error.html",
            user=user,
            territory_id=territory_id,
            status_code=422,
            message=error_fr(exc),
        )
    return RedirectResponse(f"/t/{territory_id}/travaux/{job.job_id}", status_code=303)


def field_refused(error: dict) -> str:
    """A request field the API's model refused, in French."""
    return f"champ « {'.'.join(map(str, error['loc']))} » : valeur refusée"


def checked(check: Callable[[], dict], field_fr: Callable[[dict], str] | None = None):
    """Run a door's checks of a form (``check`` builds its request and checks it as the API
    does): ``(params, [])``, or ``({}, problems in French)`` for the form page."""
    from pydantic import ValidationError

    from api.store.territories import NotFound
    from api.web.messages import errors_fr
    from core.errors import VivresError

    try:
        return check(), []
    except ValidationError as exc:
        return {}, [(field_fr or field_refused)(dict(e)) for e in exc.errors()]
    except (VivresError, NotFound) as exc:
        return {}, errors_fr(exc)
