"""French formatting for the web pages: ``lun. 3 mars``, ``1 234,5``, ``12,30 €``."""

from __future__ import annotations

from core.fmt import (  # noqa: F401  (moved to core; re-exported for the pages)
    ACTIONS_FR,
    CLASS_FR,
    DAY_CODES,
    DAY_NAMES,
    DAYS,
    MONTHS,
    NBSP,
    _as_date,
    action_fr,
    date_fr,
    day_fr,
    eur,
    num_fr,
    pct,
)
from core.i18n import message_fr  # noqa: F401  (re-exported for the pages)

STATUS_FR = {
    "queued": "en attente",
    "running": "en cours",
    "succeeded": "terminé",
    "failed": "échoué",
    "cancelled": "annulé",
    "interrupted": "interrompu",
}
KIND_FR = {
    "demand": "demande",
    "plan": "plan de saison",
    "routes": "tournées",
    "week": "semaine réelle",
    "mutualisation": "économies de la mutualisation",
    "sweep": "sensibilité (plusieurs plans)",
}


def install(env) -> None:
    """Register the filters on a Jinja2 environment."""
    env.filters.update(
        date_fr=date_fr, day_fr=day_fr, num=num_fr, eur=eur, pct=pct, action_fr=action_fr
    )
    env.globals.update(status_fr=STATUS_FR, kind_fr=KIND_FR)
    from api.web.messages import job_error_fr, text_fr

    env.filters.update(fr=text_fr, job_error_fr=job_error_fr)
