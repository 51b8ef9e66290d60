"""French (and English) formatting of what people read: ``lun. 3 mars``, ``1 234,5``,
``12,30 €``; the storage classes, weekdays and stop actions in words.

The engines import only core: the web pages (``api/web/fmt.py`` re-exports these), the route
sheets and the week's sheets all format through here."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

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


def _as_date(value: Any) -> dt.date | None:
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


def date_fr(value: Any, *, year: bool = False) -> str:
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


def num_fr(value: Any, digits: int = 0) -> str:
    """A number with a decimal comma and narrow-space thousands: ``1 234,5``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if math.isnan(number):
        return "–"
    text = f"{number:,.{digits}f}"
    return text.replace(",", NBSP).replace(".", ",")


def eur(value: Any, digits: int = 2) -> str:
    """``1 234,50 €``."""
    text = num_fr(value, digits)
    return f"{text}\u00a0€" if text not in ("", "–") else text


def pct(value: Any, digits: int = 1) -> str:
    """Percentage points shown as ``95,3 %``."""
    text = num_fr(value, digits)
    return f"{text}\u00a0%" if text not in ("", "–") else text


def action_fr(action: str) -> str:
    """A stop's action (``pickup+delivery``) in French."""
    return " + ".join(ACTIONS_FR.get(a, a) for a in str(action).split("+"))


CLASS_FR = {
    "ambient": "sec",
    "fresh": "frais",
    "chilled": "réfrigéré",
    "frozen": "surgelé",
    "cold": "froid",
    "dry": "non réfrigéré",
}
CLASS_EN = {"ambient": "dry", "fresh": "fresh", "chilled": "chilled", "frozen": "frozen"}
ACTIONS_EN = {
    "start": "start",
    "end": "back",
    "pickup": "pickup",
    "deliver": "delivery",
    "unload": "unload",
    "load": "load",
    "break": "break",
}


def num(value: Any, digits: int = 0, lang: str = "fr") -> str:
    """A number for a printed sheet: ``1 234,5`` in French, ``1,234.5`` in English."""
    if lang == "fr":
        return num_fr(value, digits)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    return "–" if math.isnan(number) else f"{number:,.{digits}f}"


def kg(value: Any, lang: str = "fr") -> str:
    """Kilos as a person weighs them (0.1 kg): ``1 234,5 kg``."""
    return f"{num(value, 1, lang)}\u00a0kg"


def date_words(value: Any, lang: str = "fr") -> str:
    """``lun. 3 mars`` in French, ``Mon 3 Mar`` in English."""
    if lang == "fr":
        return date_fr(value)
    day = _as_date(value)
    return "" if day is None else day.strftime("%a %-d %b")


def storage_class(code: str, lang: str = "fr") -> str:
    """``fresh`` → ``frais``."""
    return (CLASS_FR if lang == "fr" else CLASS_EN).get(str(code), str(code))


def action_words(action: str, lang: str = "fr") -> str:
    """A stop's action (``pickup+deliver``) in words."""
    names = ACTIONS_FR if lang == "fr" else ACTIONS_EN
    return " + ".join(names.get(a, a) for a in str(action).split("+"))


#: Why a stop is left unserved (``routing.model.REASONS``), in French.
REASONS_FR = {
    "time window": "créneau impossible (aucun véhicule n'arrive pendant l'ouverture)",
    "capacity": "capacité (trop lourd pour tout véhicule compatible)",
    "compatibility": "froid (aucun véhicule réfrigéré ce jour-là)",
    "no vehicle that day": "aucun véhicule ce jour-là",
    "closed": "fermé (moins de jours d'ouverture que de livraisons)",
    "fleet full": "flotte pleine (plus de place ni de temps ce jour-là)",
}


def reason_words(reason: str, lang: str = "fr") -> str:
    """An unserved stop's reason in words."""
    return REASONS_FR.get(str(reason), str(reason)) if lang == "fr" else str(reason)


def short_amount(value: float, lang: str = "fr") -> str:
    """An amount for narrow terminals: ``950``, ``46.0k``, ``1.23M`` in English, ``46,0 k``,
    ``1,23 M`` in French (the files hold the exact figures)."""
    space = " " if lang == "fr" else ""
    if abs(value) >= 1e6:
        return f"{num(value / 1e6, 2, lang)}{space}M"
    if abs(value) >= 1e4:
        return f"{num(value / 1e3, 1, lang)}{space}k"
    return num(value, 0, lang)
