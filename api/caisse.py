"""The caisse stage of the pipeline (``api.pipeline.run_caisse``): every caisse of a
territory — balance, contributions, solidarity by means, the conventionnement grid."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from core.csvio import DEFAULT_LANG, Lang, write_user_csv
from core.errors import InputError
from core.territory import Territory


@dataclass(frozen=True, slots=True, kw_only=True)
class CaisseStage:
    """Every caisse of a territory: balance, contributions, solidarity by means, grid."""

    caisses: dict[str, Any]  # caisse id → demand.caisses.Caisse
    balance: pd.DataFrame
    contributions: pd.DataFrame
    solidarity: pd.DataFrame
    grid: pd.DataFrame
    runs_out: dict[str, str | None]
    territory: Territory  # what it was computed from (credits and what-ifs read it again)


def run_caisse(territory: Territory) -> CaisseStage:
    """The caisses' month-by-month balance (from each caisse's start to its last payment or
    co-funding), contributions against the minimum, and the conventionnement grid."""
    from demand.caisse import normalise_transactions
    from demand.caisses import (
        balance,
        caisses_of,
        contribution_check,
        members_of,
        runs_out,
        solidarity_by_band,
    )
    from demand.grid import verdicts

    caisses = caisses_of(territory.caisses, territory.caisse_rule)
    if not caisses or territory.households is None:
        raise InputError(
            "this territory has no caisse (caisses.csv or caisse_rule.csv, and households.csv)"
        )
    tx = territory.caisse_transactions
    if tx is not None and len(tx):
        currencies = tuple(c.currency for c in caisses.values())
        tx, _ = normalise_transactions(tx, rule=None, currencies=currencies)
    books = {
        cid: balance(c, members_of(territory.households, caisses, cid), tx, territory.funders)
        for cid, c in caisses.items()
    }
    check = contribution_check(territory.households, caisses)
    grid = (
        verdicts(
            territory.caisse_criteria,
            territory.shop_assessments,
            {cid: c.approval_threshold_pct for cid, c in caisses.items()},
        )
        if territory.caisse_criteria is not None and territory.shop_assessments is not None
        else pd.DataFrame()
    )
    return CaisseStage(
        territory=territory,
        caisses=caisses,
        balance=pd.concat(books.values(), ignore_index=True),
        contributions=check,
        solidarity=solidarity_by_band(check, caisses),
        grid=grid,
        runs_out={cid: runs_out(book) for cid, book in books.items()},
    )


def write_caisse(stage: CaisseStage, out_dir: Path, *, lang: Lang = DEFAULT_LANG) -> list[Path]:
    """The caisse stage's tables as user CSVs with their ``.xlsx`` twins, and the printable
    French report ``caisse_report.html`` (A4)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for name, frame in (
        ("caisse_balance", stage.balance),
        ("caisse_contributions", stage.contributions.drop(columns="row")),
        ("caisse_solidarity", stage.solidarity),
        ("caisse_grid", stage.grid),
    ):
        files += write_user_csv(frame, out_dir / f"{name}.csv", lang=lang)
    from api.caisse_print import caisse_html

    report = out_dir / "caisse_report.html"
    report.write_text(caisse_html(stage, lang), encoding="utf-8")
    return [*files, report]
