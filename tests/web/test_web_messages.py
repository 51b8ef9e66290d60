"""French text of the engines' English messages inside the pages (the API keeps English)."""

from __future__ import annotations

import re
from pathlib import Path

from api.web.messages import error_fr, job_error_fr, text_fr
from core.errors import InputError, RowError

ROOT = Path(__file__).resolve().parents[2]


def _literals(path: Path, pattern: str) -> set[str]:
    return set(re.findall(pattern, path.read_text(encoding="utf-8")))


def test_every_cross_check_of_the_territory_has_its_french_text():
    # the messages core/territory.py gives _check (the last argument, on its own line)
    found = _literals(
        ROOT / "core" / "territory.py",
        r'\n\s+"((?:must|the|closing|shift|has|duplicate)[^"]+)",\n\s+\)',
    )
    assert len(found) >= 8, found
    untranslated = {m for m in found if text_fr(m) == m}
    assert not untranslated, untranslated


def test_every_reason_the_planner_gives_has_its_french_text():
    from planner import readback

    # the reasons written as one literal (not followed by a continuation literal)
    reasons_in_one_literal = _literals(
        ROOT / "planner" / "readback.py",
        r'"((?:land|labour|rotation|budget|no suitable farm): [^"]+)"(?!\s*\n\s*")',
    )
    assert len(reasons_in_one_literal) >= 6, reasons_in_one_literal
    reasons = set(readback._FLOOR_REASONS.values()) | {readback._STORAGE_REASON}
    for reason in reasons | reasons_in_one_literal:
        assert text_fr(reason) != reason, reason


def test_every_reason_a_stop_is_left_off_has_its_french_text():
    from routing.model import REASONS

    assert all(text_fr(r) != r for r in REASONS)


def test_a_jobs_stored_error_reads_in_french_problem_by_problem():
    error = (
        "InputError: availability.csv row 3, column 'site_id': must be a farm (its confirmed "
        "supply) or the hub (its stock); got 'S1'; body, column 'week': no order in week "
        "2025-W10"
    )
    text = job_error_fr(error)
    assert text.startswith("Données refusées : availability.csv, ligne 3, champ « site_id »")
    assert "doit être une ferme" in text and "reçu « S1 »" in text
    assert "aucune commande dans la semaine 2025-W10" in text
    assert job_error_fr("internal error (KeyError: 'x')").startswith("Erreur interne")
    one = error_fr(
        InputError(
            [
                RowError(
                    file="body",
                    row=None,
                    column="sharing",
                    message="must be maxmin or proportional",
                    value="x",
                )
            ]
        )
    )
    assert one == "champ « sharing » : doit être « maxmin » ou « proportional » ; reçu « x »"
