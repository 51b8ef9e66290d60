"""The plan's status line in French: how the search ended, in the words of the console."""

from __future__ import annotations

import pytest

from api.commands.plan import text_of_status
from core.i18n import text, text_fr


@pytest.mark.parametrize(
    ("message", "french"),
    [
        (
            "LP bound, RENS, branch and cut, LNS; stopped by work_budget",
            "borne de la relaxation, arrondi guidé (RENS), séparation et évaluation, recherche à "
            "grand voisinage (LNS) ; arrêt : le travail prévu est fait",
        ),
        (
            "LP bound, RENS and LNS; stopped by time_cap",
            "borne de la relaxation, arrondi guidé (RENS) et recherche à grand voisinage (LNS) ; "
            "arrêt : le plafond de temps de sécurité (résultat non reproductible)",
        ),
    ],
)
def test_the_search_message_is_said_in_french(message, french):
    assert text_fr(message) == french
    assert text(message, "en") == message


def test_status_words():
    assert text_of_status("feasible", "fr") == "réalisable"
    assert text_of_status("feasible", "en") == "feasible"
