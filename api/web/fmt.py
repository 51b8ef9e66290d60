"""French formatting for the web pages: ``lun. 3 mars``, ``1 234,5``, ``12,30 €``."""

from __future__ import annotations

import re

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
_EXPECTED = (
    ("a date YYYY-MM-DD or DD/MM/YYYY", "une date AAAA-MM-JJ ou JJ/MM/AAAA"),
    ("a timestamp YYYY-MM-DDTHH:MM or DD/MM/YYYY HH:MM", "une date et heure JJ/MM/AAAA HH:MM"),
    ("a time HH:MM", "une heure HH:MM"),
    ("an integer", "un nombre entier"),
    ("a number", "un nombre"),
    ("true or false", "vrai ou faux (true, false)"),
    ("weekdays like", "des jours comme"),
    ("one of", "l'une des valeurs"),
    (">=", "≥"),
    ("<=", "≤"),
    (" and ", " et "),
)
_MESSAGES = (
    (re.compile(r"^is empty; expected (.+)$"), "case vide ; attendu : {0}"),
    (re.compile(r"^expected (.+)$"), "attendu : {0}"),
    (re.compile(r"^unknown (\w+) \(not in (\w+)\)$"), "{0} inconnu (absent de la table {1})"),
    (
        re.compile(r"^duplicate id \(must be unique\)$"),
        "identifiant en double (il doit être unique)",
    ),
    (
        re.compile(r"^required column is missing \(header is line 1; columns found: (.*)\)$"),
        "colonne obligatoire absente (l'en-tête est la ligne 1 ; colonnes trouvées : {0})",
    ),
)


def message_fr(message: str) -> str:
    """The French text of a cell check's message from ``core.tables`` (unknown messages are
    returned as they are)."""
    for pattern, template in _MESSAGES:
        found = pattern.match(message)
        if found:
            parts = []
            for part in found.groups():
                for english, french in _EXPECTED:
                    part = part.replace(english, french)
                parts.append(part)
            return template.format(*parts)
    return message


def install(env) -> None:
    """Register the filters on a Jinja2 environment."""
    env.filters.update(
        date_fr=date_fr, day_fr=day_fr, num=num_fr, eur=eur, pct=pct, action_fr=action_fr
    )
    env.globals.update(status_fr=STATUS_FR, kind_fr=KIND_FR)
    from api.web.messages import job_error_fr, text_fr

    env.filters.update(fr=text_fr, job_error_fr=job_error_fr)
