"""French formatting for the web pages: ``lun. 3 mars``, ``1 234,5``, ``12,30 €``."""

from __future__ import annotations

import datetime as dt
import math
import re

DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
#: the routing's day codes (``mon`` …) in French
DAY_CODES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
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
}
ACTIONS_FR = {
    "start": "départ",
    "end": "retour",
    "pickup": "enlèvement",
    "deliver": "livraison",
    "unload": "déchargement",
    "load": "chargement",
    "break": "pause",
}
NBSP = "\u202f"  # narrow no-break space: the French thousands separator


def _as_date(value) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date") and callable(value.date):  # pandas Timestamp
        return value.date()
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def date_fr(value, *, year: bool = False) -> str:
    """``lun. 3 mars`` (``lun. 3 mars 2026`` with ``year``); the input as text when it is not
    a date."""
    day = _as_date(value)
    if day is None:
        return "" if value is None else str(value)
    text = f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def day_fr(code: str) -> str:
    """``mon`` → ``lundi``."""
    index = DAY_CODES.get(str(code).lower())
    return DAY_NAMES[index] if index is not None else str(code)


def num_fr(value, digits: int = 0) -> str:
    """A number with a decimal comma and narrow-space thousands: ``1 234,5``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if math.isnan(number):
        return "–"
    text = f"{number:,.{digits}f}"
    return text.replace(",", NBSP).replace(".", ",")


def eur(value, digits: int = 2) -> str:
    """``1 234,50 €``."""
    text = num_fr(value, digits)
    return f"{text}\u00a0€" if text not in ("", "–") else text


def pct(value, digits: int = 1) -> str:
    """Percentage points shown as ``95,3 %``."""
    text = num_fr(value, digits)
    return f"{text}\u00a0%" if text not in ("", "–") else text


def action_fr(action: str) -> str:
    """A stop's action (``pickup+delivery``) in French."""
    return " + ".join(ACTIONS_FR.get(a, a) for a in str(action).split("+"))


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
