"""The planner's status line in French: its status words, the steps of its search and what
stopped it (``planner.solve``'s ``"<steps>; stopped by <reason>"``)."""

from __future__ import annotations

import re

#: how a plan's search ended (``planner.budget.StoppedBy``) and its status words
_STOPPED_BY_FR = {
    "gap": "l'écart demandé est atteint",
    "work_budget": "le travail prévu est fait",
    "time_limit": "le temps demandé est écoulé",
    "time_cap": "le plafond de temps de sécurité (résultat non reproductible)",
}
_STEPS_FR = {
    "LP bound": "borne de la relaxation",
    "RENS": "arrondi guidé (RENS)",
    "branch and cut": "séparation et évaluation",
    "LNS": "recherche à grand voisinage (LNS)",
}
PLAN_STATUS_FR = {"optimal": "optimal", "feasible": "réalisable", "no_plan": "aucun plan"}


def plan_message_fr(found: re.Match) -> str:
    said = found["steps"]
    for english, french in _STEPS_FR.items():  # "branch and cut" before the " and " below
        said = said.replace(english, french)
    said = said.replace(" and ", " et ")
    return f"{said} ; arrêt : {_STOPPED_BY_FR.get(found['by'], found['by'])}"


PLAN_MESSAGE = re.compile(r"^(?P<steps>[^;]+); stopped by (?P<by>\w+)$")
