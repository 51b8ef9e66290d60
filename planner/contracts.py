"""Producer contract sheets: one CSV and one printable HTML page per partner farm."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from core.csvio import DEFAULT_LANG, Lang, write_user_csv
from core.fmt import num
from core.i18n import text
from core.safety import safe_path
from core.schema import CONTRACT_TERMS

#: The terms of every contract, with the schema's defaults (``core.schema.CONTRACT_TERMS``).
TERMS = tuple(c.name for c in CONTRACT_TERMS.columns if c.name != "producer_id")


def farm_terms(producer_ids: Sequence[str], terms: pd.DataFrame | None) -> pd.DataFrame:
    """Each farm's contract terms (index: producer_id): its own row of ``contract_terms``, else
    the ``*`` row, else the defaults; an empty cell of a farm's row falls back the same way."""
    defaults = {c.name: c.default for c in CONTRACT_TERMS.columns if c.name != "producer_id"}
    table = pd.DataFrame(
        [defaults] * len(producer_ids), index=pd.Index(producer_ids, name="producer_id")
    )
    if terms is None or terms.empty:
        return table
    given = terms.set_index("producer_id")
    for column in TERMS:
        if "*" in given.index and pd.notna(given.at["*", column]):
            table[column] = given.at["*", column]
        own = given[column].reindex(table.index)
        table[column] = own.where(own.notna(), table[column])
    return table.astype({"payment_days": int})


_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; margin-top: 1.6em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; }
td.n, th.n { text-align: right; }
.summary td { border: none; padding: 2px 12px 2px 0; }
.sign { margin-top: 3em; display: flex; gap: 4em; }
tr.frozen td { background: #eef5ee; }
ul.terms li { margin: 0.3em 0; }
.sign div { border-top: 1px solid #222; padding-top: 4px; width: 40%; }
@media print {
  body { margin: 1cm; }
  h2 { page-break-after: avoid; }
  tr { page-break-inside: avoid; }
  .noprint { display: none; }
}
"""


_DAYS_FR = {
    "mon": "lun.",
    "tue": "mar.",
    "wed": "mer.",
    "thu": "jeu.",
    "fri": "ven.",
    "sat": "sam.",
    "sun": "dim.",
}


def pickup_hours(site_id: str, opening_hours: pd.DataFrame | None) -> str:
    """A farm's pickup windows in French (``mar. 8h00–12h00, ven. 14h00–17h00``)."""
    if opening_hours is None or opening_hours.empty:
        return ""
    mine = opening_hours.loc[opening_hours["site_id"] == site_id]
    order = {d: i for i, d in enumerate(_DAYS_FR)}
    mine = mine.assign(k=mine["weekday"].map(order)).sort_values(["k", "open"])

    def hhmm(minutes: float) -> str:
        return f"{int(minutes) // 60}h{int(minutes) % 60:02d}"

    return ", ".join(
        f"{_DAYS_FR[r.weekday]} {hhmm(r.open)}–{hhmm(r.close)}" for r in mine.itertuples()
    )


def group_small_deliveries(weekly: pd.DataFrame, min_kg: float) -> pd.DataFrame:
    """Weekly kilos per product with deliveries under ``min_kg`` carried to the product's next
    delivery (the last ones onto the one before): no line smaller than the farm signs for."""
    if min_kg <= 0 or weekly.empty:
        return weekly
    out = weekly.copy() * 0.0
    for product in weekly.columns:
        carried, last = 0.0, None
        for week, kg in weekly[product].items():
            carried += kg
            if carried >= min_kg:
                out.at[week, product] = carried
                carried, last = 0.0, week
        if carried > 0:
            week = last if last is not None else weekly[product].gt(0).idxmax()
            out.at[week, product] += carried
    return out


def contract_tables(
    producer_id: str, plan: pd.DataFrame, harvest: pd.DataFrame, *, min_weekly_kg: float = 0.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plantings of one farm and its expected kilos per week and product (deliveries under
    ``min_weekly_kg`` grouped with the next one)."""
    plantings = plan.loc[plan["producer_id"] == producer_id].sort_values(["plant_week", "crop_id"])
    weekly = harvest.loc[harvest["producer_id"] == producer_id]
    weekly = weekly.pivot_table(
        index="week_start", columns="product_id", values="kg", aggfunc="sum", fill_value=0.0
    ).sort_index()
    return plantings, group_small_deliveries(weekly, min_weekly_kg)


def contract_csv(
    plantings: pd.DataFrame, weekly: pd.DataFrame, vat_rate_pct: float = 0.0
) -> pd.DataFrame:
    """The contract as one long table: plantings (prices HT and TTC), then kilos per week
    (``section`` column)."""
    rows = []
    vat = 1 + vat_rate_pct / 100
    for r in plantings.itertuples():
        rows.append(
            {
                "section": "planting",
                "crop_id": r.crop_id,
                "crop": r.crop,
                "product_id": r.product_id,
                "plant_week": r.plant_week,
                "plant_date": r.plant_date,
                "beds": r.beds,
                "area_m2": r.area_m2,
                "week_start": None,
                "kg": r.harvest_kg,
                "price_eur_per_kg": r.price_eur_per_kg,
                "revenue_eur": r.revenue_eur,
                "vat_rate_pct": vat_rate_pct,
                "price_eur_per_kg_ttc": round(r.price_eur_per_kg * vat, 4),
                "revenue_eur_ttc": r.revenue_eur * vat,
            }
        )
    for week, row in weekly.iterrows():
        for product_id, kg in row.items():
            if kg > 0.05:
                rows.append(
                    {
                        "section": "delivery",
                        "crop_id": None,
                        "crop": None,
                        "product_id": product_id,
                        "plant_week": None,
                        "plant_date": None,
                        "beds": None,
                        "area_m2": None,
                        "week_start": pd.Timestamp(week).date(),
                        "kg": round(kg, 1),
                        "price_eur_per_kg": None,
                        "revenue_eur": None,
                        "vat_rate_pct": None,
                        "price_eur_per_kg_ttc": None,
                        "revenue_eur_ttc": None,
                    }
                )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    for col in ("plant_week", "beds"):
        table[col] = table[col].astype("Int64")
    for col in ("area_m2", "kg", "revenue_eur", "revenue_eur_ttc"):
        table[col] = pd.to_numeric(table[col]).round(2)
    return table


#: The contract page's words; ``{…}`` are filled in by :func:`contract_html`.
_WORDS = {
    "fr": {
        "title": "Contrat de culture",
        "intro": "Saison {season} · Partenariat avec {hub} · producteur {producer} (site {site}, "
        "{km} km du pôle)",
        "amount": "Montant prévu au prix rémunérateur",
        "ht": "HT",
        "vat": "TVA",
        "ttc": "TTC",
        "volume": "Volume prévu",
        "floor": "Revenu minimum du partenariat",
        "floor_met": "atteint ({revenue} € ≥ {floor} €)",
        "floor_missed": "<b>non atteint</b> : {revenue} € sur {floor} € ({reason})",
        "plantings": "Cultures et plantations",
        "heads": "Culture|Produit|Semaine|Date|Planches|m²|Récolte|kg prévus|€/kg HT|€/kg TTC|€ HT",
        "deliveries": "Livraisons prévues (kg par semaine)",
        "week_of": "Semaine du",
        "total": "Total",
        "terms": "Conditions",
        "price": "<b>Prix</b> : prix rémunérateurs indiqués, hors taxes ; TVA au taux de {vat} %.",
        "payment": "<b>Paiement</b> : à {days} jours après chaque livraison, sur facture.",
        "volumes": "<b>Volumes</b> : le pôle achète les volumes prévus à ± {tolerance} % par "
        "produit sur la saison ; au-delà, les volumes se négocient de gré à gré.",
        "failure": "<b>Aléa de récolte</b> (climat, maladie, ravageurs) : le risque est partagé "
        "— le pôle verse {share} % de la valeur prévue des volumes perdus, sur constat.",
        "pickups": "<b>Enlèvements</b> : {line}.",
        "pickups_at": "à la ferme, aux créneaux d'enlèvement de la tournée : {hours}",
        "pickups_none": "à convenir avec la logistique du pôle (aucun créneau d'enlèvement "
        "n'est enregistré pour ce site)",
        "lots": "<b>Lots</b> : pas de livraison de moins de {kg} kg d'un produit ; les petites "
        "quantités sont regroupées avec la livraison suivante (déjà fait dans le tableau "
        "ci-dessus).",
        "producer": "Le producteur",
        "hub": "Le pôle logistique",
    },
    "en": {
        "title": "Growing contract",
        "intro": "Season {season} · Partnership with {hub} · producer {producer} (site {site}, "
        "{km} km from the hub)",
        "amount": "Expected amount at the fair price",
        "ht": "excl. VAT",
        "vat": "VAT",
        "ttc": "incl. VAT",
        "volume": "Expected volume",
        "floor": "Minimum revenue of the partnership",
        "floor_met": "reached ({revenue} € ≥ {floor} €)",
        "floor_missed": "<b>not reached</b>: {revenue} € of {floor} € ({reason})",
        "plantings": "Crops and plantings",
        "heads": "Crop|Product|Week|Date|Beds|m²|Harvest|kg expected|€/kg excl. VAT|"
        "€/kg incl. VAT|€ excl. VAT",
        "deliveries": "Expected deliveries (kg per week)",
        "week_of": "Week of",
        "total": "Total",
        "terms": "Terms",
        "price": "<b>Price</b>: the fair prices shown, excluding VAT; VAT at {vat} %.",
        "payment": "<b>Payment</b>: {days} days after each delivery, on invoice.",
        "volumes": "<b>Volumes</b>: the hub buys the expected volumes within ± {tolerance} % "
        "per product over the season; beyond that, volumes are negotiated case by case.",
        "failure": "<b>Crop failure</b> (weather, disease, pests): the risk is shared — the hub "
        "pays {share} % of the expected value of the lost volumes, on evidence.",
        "pickups": "<b>Pickups</b>: {line}.",
        "pickups_at": "at the farm, in the route's pickup windows: {hours}",
        "pickups_none": "to be agreed with the hub's logistics (no pickup window is recorded "
        "for this site)",
        "lots": "<b>Lots</b>: no delivery under {kg} kg of a product; small quantities are "
        "grouped with the next delivery (already done in the table above).",
        "producer": "The producer",
        "hub": "The logistics hub",
    },
}
_DAYS_EN = dict(
    zip(_DAYS_FR.values(), ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True)
)


def _hours_en(text: str) -> str:
    """``mar. 8h00–12h00`` (as ``pickup_hours`` writes it) → ``Tue 8:00–12:00``."""
    for fr, en in _DAYS_EN.items():
        text = text.replace(fr, en)
    return re.sub(r"(\d+)h(\d\d)", r"\1:\2", text)


def contract_html(
    farm: pd.Series,
    plantings: pd.DataFrame,
    weekly: pd.DataFrame,
    *,
    season: str,
    hub_name: str,
    terms: pd.Series | None = None,
    lang: Lang = DEFAULT_LANG,
) -> str:
    """A printable contract page (plain HTML and print CSS; French, or English with
    ``lang="en"``) with the farm's terms: prices HT and TTC, payment, volume tolerance, shared
    crop-failure risk, pickups."""
    e = html.escape
    w = _WORDS[lang]

    def n(value: float, decimals: int = 0) -> str:
        return num(value, decimals, lang)

    terms = (
        terms
        if terms is not None
        else pd.Series({c.name: c.default for c in CONTRACT_TERMS.columns})
    )
    vat_pct = float(terms["vat_rate_pct"])
    vat = 1 + vat_pct / 100
    revenue = plantings["revenue_eur"].sum()
    kg = plantings["harvest_kg"].sum()
    rows = "".join(
        f"<tr{' class=frozen' if getattr(r, 'contract_id', '') else ''}>"
        f"<td>{e(str(r.crop))}</td><td>{e(str(r.product_id))}</td>"
        f"<td class=n>{r.plant_week}</td><td>{r.plant_date}</td><td class=n>{r.beds}</td>"
        f"<td class=n>{n(r.area_m2)}</td><td>{r.first_harvest} → {r.last_harvest}</td>"
        f"<td class=n>{n(r.harvest_kg)}</td><td class=n>{n(r.price_eur_per_kg, 2)}</td>"
        f"<td class=n>{n(r.price_eur_per_kg * vat, 2)}</td>"
        f"<td class=n>{n(r.revenue_eur)}</td></tr>"
        for r in plantings.itertuples()
    )
    heads = w["heads"].split("|")
    numeric = {2, 4, 5, 7, 8, 9, 10}
    plant_head = "".join(
        f"<th{' class=n' if i in numeric else ''}>{e(h)}</th>" for i, h in enumerate(heads)
    )
    head = "".join(f"<th class=n>{e(str(c))}</th>" for c in weekly.columns)
    body = "".join(
        f"<tr><td>{pd.Timestamp(wk).date()}</td>"
        + "".join(f"<td class=n>{n(v)}</td>" if v > 0.5 else "<td></td>" for v in row)
        + f"<td class=n><b>{n(row.sum())}</b></td></tr>"
        for wk, row in weekly.iterrows()
    )
    floor = farm["min_revenue_eur"]
    floor_line = (
        w["floor_met"].format(revenue=n(revenue), floor=n(floor))
        if revenue >= floor - 1
        else w["floor_missed"].format(
            revenue=n(revenue),
            floor=n(floor),
            reason=e(text(str(farm.get("floor_reason", "")), lang)),
        )
    )
    pickups = str(terms.get("pickup_hours", "") or "")
    pickup_line = (
        w["pickups_at"].format(hours=e(pickups if lang == "fr" else _hours_en(pickups)))
        if pickups
        else w["pickups_none"]
    )
    min_kg = float(terms["min_weekly_kg"])
    name = e(str(farm["name"]))
    intro = w["intro"].format(
        season=e(season),
        hub=e(hub_name),
        producer=e(str(farm["producer_id"])),
        site=e(str(farm["site_id"])),
        km=n(farm["km_to_hub"]),
    )
    terms_list = "".join(
        f"<li>{line}</li>"
        for line in (
            w["price"].format(vat=n(vat_pct, 1)),
            w["payment"].format(days=int(terms["payment_days"])),
            w["volumes"].format(tolerance=n(terms["volume_tolerance_pct"])),
            w["failure"].format(share=n(terms["failure_share_pct"])),
            w["pickups"].format(line=pickup_line),
            w["lots"].format(kg=n(min_kg)),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{w["title"]} — {name}</title><style>{_CSS}</style></head>
<body>
<h1>{w["title"]} — {name}</h1>
<p>{intro}</p>
<table class="summary">
<tr><td>{w["amount"]}</td><td><b>{n(revenue)} € {w["ht"]}</b> ·
{w["vat"]} {n(vat_pct, 1)} % {n(revenue * (vat - 1))} € ·
<b>{n(revenue * vat)} € {w["ttc"]}</b></td></tr>
<tr><td>{w["volume"]}</td><td>{n(kg)} kg</td></tr>
<tr><td>{w["floor"]}</td><td>{floor_line}</td></tr>
</table>
<h2>{w["plantings"]}</h2>
<table><tr>{plant_head}</tr>{rows}</table>
<h2>{w["deliveries"]}</h2>
<table><tr><th>{w["week_of"]}</th>{head}<th class=n>{w["total"]}</th></tr>{body}</table>
<h2>{w["terms"]}</h2>
<ul class="terms">{terms_list}</ul>
<div class="sign"><div>{w["producer"]}</div><div>{w["hub"]}</div></div>
</body></html>
"""


def write_contracts(
    plan: pd.DataFrame,
    harvest: pd.DataFrame,
    farms: pd.DataFrame,
    out_dir: Path,
    *,
    season: str,
    hub_name: str,
    terms: pd.DataFrame | None = None,
    lang: Lang = DEFAULT_LANG,
) -> list[Path]:
    """Write ``<producer_id>.csv`` and ``<producer_id>.html`` for every farm with a planting.

    The producer id names the files only through :func:`core.safety.safe_path`: an id that is
    not a slug, or a name that would resolve outside ``out_dir``, raises InputError before
    anything is written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    if terms is None:
        terms = farm_terms(farms["producer_id"], None)
    for _, farm in farms.iterrows():
        mine = terms.loc[farm["producer_id"]]
        plantings, weekly = contract_tables(
            farm["producer_id"], plan, harvest, min_weekly_kg=float(mine["min_weekly_kg"])
        )
        if plantings.empty:
            continue
        stem = str(farm["producer_id"])
        csv_path = safe_path(out_dir, stem, suffix=".csv")
        html_path = safe_path(out_dir, stem, suffix=".html")
        table = contract_csv(plantings, weekly, float(mine["vat_rate_pct"]))
        twins = write_user_csv(table, csv_path, lang=lang)
        files.append(twins[1])
        html_path.write_text(
            contract_html(
                farm, plantings, weekly, season=season, hub_name=hub_name, terms=mine, lang=lang
            ),
            encoding="utf-8",
        )
        files.extend([csv_path, html_path])
    return files
