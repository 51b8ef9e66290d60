"""The caisse report a coordinator prints: one A4 page per table, in French (English on
request) — each caisse's
balance month by month, contributions and the solidarity transfer by band of means, the
conventionnement grid's verdicts with what would make each refused shop approvable, and the
sizing of the co-funding received."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import pandas as pd

from api.week_outputs import _document, _num
from core.errors import InputError


def _fr(value: float, digits: int = 1, lang: str = "fr") -> str:
    """A number the report's way (``1 234,5`` in French); empty when missing."""
    return _num(value, lang, digits)


if TYPE_CHECKING:
    from api.caisse import CaisseStage

BALANCE_FR = {
    "month": "mois",
    "households": "ménages",
    "members": "personnes",
    "opening_cash_eur": "trésorerie d'ouverture €",
    "contributions_eur": "cotisations €",
    "cofunding_eur": "cofinancement €",
    "credited_eur": "crédité €",
    "spent_eur": "dépensé €",
    "returned_eur": "non dépensé rendu €",
    "closing_cash_eur": "trésorerie de clôture €",
    "outstanding_credit_eur": "crédit restant aux ménages €",
}
#: The grid's reasons (demand.grid.verdicts), in French for the printed page.
WHY_FR = (
    (re.compile(r"(\d+) needed \(eliminatory\)"), r"\1 requis (éliminatoire)"),
    (re.compile(r"score ([\d.]+) % below ([\d.]+) %"), r"score \1 % sous le seuil de \2 %"),
    (re.compile("furthest from full marks"), "les plus loin du maximum"),
    (re.compile(r"(\d+)\.(\d) %"), r"\1,\2 %"),
)
UNSPENT_FR = {"carry": "gardé par le ménage", "expire": "rendu à la caisse en fin de mois"}
#: the report's words in English (``--lang en``): French label → English
EN = {
    **dict(
        zip(
            BALANCE_FR.values(),
            (
                "month",
                "households",
                "people",
                "opening cash €",
                "contributions €",
                "co-funding €",
                "credited €",
                "spent €",
                "unspent returned €",
                "closing cash €",
                "credit left to households €",
            ),
            strict=True,
        )
    ),
    "gardé par le ménage": "kept by the household",
    "rendu à la caisse en fin de mois": "returned to the caisse at the end of the month",
    "caisse": "caisse",
    "tranche de moyens (reste à vivre par UC)": "band of means (income left per consumption unit)",
    "allocations €": "allocations €",
    "cotisations €": "contributions €",
    "transfert solidaire €": "solidarity transfer €",
    "non renseigné": "not given",
    "commerce": "shop",
    "score %": "score %",
    "seuil %": "threshold %",
    "conventionné": "approved",
    "oui": "yes",
    "non": "no",
    "pourquoi": "why",
    "ce qui le rendrait conventionnable (points → points nécessaires)": (
        "what would make it approvable (points → points needed)"
    ),
    "évalué le": "assessed on",
    "inatteignable, même avec tous les points": "out of reach, even with every point",
    "cofinancement reçu €": "co-funding received €",
    "ménages inscrits": "households enrolled",
    "mois d'allocations des ménages inscrits": "months of allocations of the enrolled households",
    "ménages portés 12 mois": "households carried 12 months",
    "personnes portées 12 mois": "people carried 12 months",
    "allocations par mois €": "allocations per month €",
    "Cotisations et transfert solidaire": "Contributions and solidarity transfer",
    "Grille de conventionnement": "Approval grid",
    "Dimensionnement": "Sizing",
    "Caisses communes — rapport": "Caisses communes — report",
    "— trésorerie mois par mois": "— cash month by month",
}


def _w(french: str, lang: str) -> str:
    """A word or label of the report in ``lang``."""
    return EN.get(french, french) if lang == "en" else french


def _money_columns(frame: pd.DataFrame) -> tuple[str, ...]:
    return tuple(c for c in frame.columns if c.endswith("€"))


def _page(
    title: str, subtitle: str, frame: pd.DataFrame, numeric: tuple[str, ...], lang: str = "fr"
) -> str:
    """One A4 page: a title, a sentence and the table (amounts to the cent, counts whole);
    ``frame``'s columns and ``numeric`` are the French labels, said in ``lang``."""
    digits = {
        c: 2 if c.endswith("€") else 1 if c.endswith("%") or "mois" in c else 0 for c in numeric
    }
    head = "".join(f"<th>{html.escape(_w(str(c), lang))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = [
            f'<td class="n">{_fr(float(value), digits[col], lang)}</td>'
            if col in digits and pd.notna(value)
            else f"<td>{html.escape(_w(str(value), lang))}</td>"
            for col, value in zip(frame.columns, row, strict=True)
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<section class="page"><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></section>"
    )


def _balance_page(stage: CaisseStage, caisse_id: str, lang: str = "fr") -> str:
    caisse = stage.caisses[caisse_id]
    book = stage.balance.loc[stage.balance["caisse_id"] == caisse_id].drop(columns="caisse_id")
    table = book.rename(columns=BALANCE_FR)
    out = stage.runs_out[caisse_id]
    first = _fr(caisse.rule.first_person_eur, 0, lang)
    more = _fr(caisse.rule.additional_person_eur, 0, lang)
    unspent = _w(UNSPENT_FR[caisse.unspent], lang)
    if lang == "en":
        start = f", since {caisse.start:%m/%Y}" if caisse.start is not None else ""
        verdict = f"Cash negative from {out}." if out else "Cash stays positive over the period."
        subtitle = (
            f"{caisse.area or caisse_id} — currency {caisse.currency}{start}; allocation "
            f"{first} € + {more} € per further person; unspent credit: {unspent}. {verdict}"
        )
    else:
        start = f", depuis {caisse.start:%m/%Y}" if caisse.start is not None else ""
        verdict = (
            f"Trésorerie négative à partir de {out}."
            if out
            else "La trésorerie reste positive sur la période."
        )
        subtitle = (
            f"{caisse.area or caisse_id} — monnaie {caisse.currency}{start} ; allocation "
            f"{first} € + {more} € par personne en plus ; crédit non dépensé : {unspent}. "
            f"{verdict}"
        )
    numeric = (*_money_columns(table), "ménages", "personnes")
    title = f"{caisse.name} {_w('— trésorerie mois par mois', lang)}"
    return _page(title, subtitle, table, numeric, lang)


def _contributions_page(stage: CaisseStage, lang: str = "fr") -> str:
    solidarity = stage.solidarity.rename(
        columns={
            "caisse_id": "caisse",
            "means_band": "tranche de moyens (reste à vivre par UC)",
            "households": "ménages",
            "allocations_eur": "allocations €",
            "contributions_eur": "cotisations €",
            "transfer_eur": "transfert solidaire €",
        }
    ).replace({"tranche de moyens (reste à vivre par UC)": {"unknown": "non renseigné"}})
    under = stage.contributions.loc[stage.contributions["under_minimum"]]
    names = ", ".join(
        f"{r.household_id} ({_fr(r.contribution_eur, 0, lang)} € < {_fr(r.minimum_eur, 0, lang)} €)"
        for r in under.itertuples()
    )
    if lang == "en":
        subtitle = (
            "Per month, enrolled households. Households choose their contribution: vivres "
            "compares it with their caisse's minimum per person and never changes it. "
            + (
                f"{len(under)} household(s) under the minimum: {names}."
                if len(under)
                else "No household under the minimum."
            )
        )
    else:
        subtitle = (
            "Par mois, ménages inscrits. Les cotisations sont choisies par les ménages : vivres "
            "les compare au minimum par personne de leur caisse et ne les change jamais. "
            + (
                f"{len(under)} ménage(s) sous le minimum : {names}."
                if len(under)
                else "Aucun ménage sous le minimum."
            )
        )
    numeric = ("ménages", *_money_columns(solidarity))
    title = _w("Cotisations et transfert solidaire", lang)
    return _page(title, subtitle, solidarity, numeric, lang)


def _why_fr(why: str) -> str:
    for pattern, french in WHY_FR:
        why = pattern.sub(french, why)
    return why


def _grid_page(stage: CaisseStage, lang: str = "fr") -> str:
    from demand.grid import to_approve

    territory = stage.territory
    names = territory.sites.set_index("site_id")["name"]
    rows = []
    for verdict in stage.grid.itertuples():
        change = ""
        if not verdict.approved:
            try:
                plan = to_approve(
                    territory.caisse_criteria,
                    territory.shop_assessments,
                    verdict.caisse_id,
                    verdict.site_id,
                    verdict.threshold_pct,
                )
                change = "; ".join(
                    f"{r.label}: {r.points} → {r.needed_points}" for r in plan.itertuples()
                )
            except InputError:
                change = "inatteignable, même avec tous les points"
        rows.append(
            {
                "caisse": verdict.caisse_id,
                "commerce": f"{names.get(verdict.site_id, verdict.site_id)} ({verdict.site_id})",
                "score %": verdict.score_pct,
                "seuil %": verdict.threshold_pct,
                "conventionné": "oui" if verdict.approved else "non",
                "pourquoi": verdict.why if lang == "en" else _why_fr(verdict.why),
                "ce qui le rendrait conventionnable (points → points nécessaires)": change,
                "évalué le": verdict.assessed_on,
            }
        )
    table = pd.DataFrame(rows)
    approved = int(stage.grid["approved"].sum())
    if lang == "en":
        subtitle = (
            f"{approved} shop(s) approved of {len(stage.grid)} assessed. Score = sum of weights "
            "× points / maximum points, as a % of the sum of weights; an eliminatory criterion "
            "under its minimum refuses whatever the score."
        )
    else:
        subtitle = (
            f"{approved} commerce(s) conventionné(s) sur {len(stage.grid)} évalué(s). Score = "
            "somme des poids × points / points maximum, en % de la somme des poids ; un critère "
            "éliminatoire sous son minimum refuse quel que soit le score."
        )
    title = _w("Grille de conventionnement", lang)
    return _page(title, subtitle, table, ("score %", "seuil %"), lang)


def _sizing_page(stage: CaisseStage, lang: str = "fr") -> str:
    from demand.caisses import members_of, months_for_budget, size_for_budget

    territory = stage.territory
    funders = territory.funders
    rows = []
    for caisse_id, caisse in stage.caisses.items():
        members = members_of(territory.households, stage.caisses, caisse_id)
        received = (
            float(funders.loc[funders["caisse_id"] == caisse_id, "amount_eur"].sum())
            if funders is not None
            else 0.0
        )
        if not len(members):
            continue
        sized = size_for_budget(received, caisse.rule, 12, members["size"])
        rows.append(
            {
                "caisse": caisse_id,
                "cofinancement reçu €": received,
                "ménages inscrits": len(members),
                "mois d'allocations des ménages inscrits": months_for_budget(
                    received, caisse.rule, members["size"]
                ),
                "ménages portés 12 mois": sized.households,
                "personnes portées 12 mois": sized.people,
                "allocations par mois €": sized.allocation_eur_per_month,
            }
        )
    table = pd.DataFrame(rows)
    subtitle = (
        "What the co-funding received (funders.csv) carries in allocations, contributions "
        "aside: how many months for the enrolled households, and how many households of the "
        "same mix for 12 months (`vivres caisse size` for another budget)."
        if lang == "en"
        else "Ce que le cofinancement reçu (funders.csv) porte en allocations, hors "
        "cotisations : combien de mois pour les ménages inscrits, et combien de ménages de la "
        "même composition pendant 12 mois (`vivres caisse size` pour un autre budget)."
    )
    numeric = tuple(c for c in table.columns if c != "caisse")
    return _page(_w("Dimensionnement", lang), subtitle, table, numeric, lang)


def caisse_html(stage: CaisseStage, lang: str = "fr") -> str:
    """The printable report of every caisse of a territory (A4, one table a page)."""
    pages = [_balance_page(stage, cid, lang) for cid in stage.caisses]
    pages.append(_contributions_page(stage, lang))
    if len(stage.grid):
        pages.append(_grid_page(stage, lang))
    pages.append(_sizing_page(stage, lang))
    return _document(_w("Caisses communes — rapport", lang), pages, lang)
