"""French formatting of the pages: dates, numbers, euros, stop actions."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from api.web.fmt import action_fr, date_fr, day_fr, eur, num_fr, pct


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.date(2025, 3, 3), "lun. 3 mars"),
        ("2026-01-05", "lun. 5 janv."),
        (pd.Timestamp("2025-08-14"), "jeu. 14 août"),
        (dt.datetime(2025, 12, 28, 9, 30), "dim. 28 déc."),
    ],
)
def test_dates_read_like_french_calendars(value, text):
    assert date_fr(value) == text


def test_dates_with_year_and_text_that_is_not_a_date():
    assert date_fr("2025-02-11", year=True) == "mar. 11 févr. 2025"
    assert date_fr("semaine 3") == "semaine 3" and date_fr(None) == ""


def test_numbers_use_a_decimal_comma_and_narrow_spaces():
    assert num_fr(1234.5, 1) == "1\u202f234,5"
    assert num_fr(-0.25, 2) == "-0,25"
    assert num_fr(float("nan")) == "–" and num_fr("abc") == "abc"
    assert eur(1234.5) == "1\u202f234,50\u00a0€"
    assert eur(12, 0) == "12\u00a0€"
    assert pct(95.3) == "95,3\u00a0%"


def test_days_and_actions_in_french():
    assert day_fr("thu") == "jeudi" and day_fr("xyz") == "xyz"
    assert action_fr("pickup+deliver") == "enlèvement + livraison"
    assert action_fr("start") == "départ"


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("expected a number >= 0 and <= 100000", "attendu : un nombre ≥ 0 et ≤ 100000"),
        ("is empty; expected an integer", "case vide ; attendu : un nombre entier"),
        ("unknown site_id (not in sites)", "site_id inconnu (absent de la table sites)"),
        ("expected a date YYYY-MM-DD or DD/MM/YYYY", "attendu : une date AAAA-MM-JJ ou JJ/MM/AAAA"),
        ("duplicate id (must be unique)", "identifiant en double (il doit être unique)"),
        (
            "required column is missing (header is line 1; columns found: date, site_id)",
            "colonne obligatoire absente (l'en-tête est la ligne 1 ; colonnes trouvées : date, "
            "site_id)",
        ),
        ("something new", "something new"),
    ],
)
def test_cell_messages_in_french(english, french):
    from api.web.fmt import message_fr

    assert message_fr(english) == french
