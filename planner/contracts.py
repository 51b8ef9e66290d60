"""Producer contract sheets: one CSV and one printable HTML page per partner farm."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from core.safety import safe_path, write_csv

_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; margin-top: 1.6em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; }
td.n, th.n { text-align: right; }
.summary td { border: none; padding: 2px 12px 2px 0; }
.sign { margin-top: 3em; display: flex; gap: 4em; }
.sign div { border-top: 1px solid #222; padding-top: 4px; width: 40%; }
@media print {
  body { margin: 1cm; }
  h2 { page-break-after: avoid; }
  tr { page-break-inside: avoid; }
  .noprint { display: none; }
}
"""


def _fr(value: float, decimals: int = 0) -> str:
    """A number the French way: 12 345,6 (narrow no-break space for thousands)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def contract_tables(producer_id: str, plan: pd.DataFrame,
                    harvest: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plantings of one farm and its expected kilos per week and product."""
    plantings = plan.loc[plan["producer_id"] == producer_id].sort_values(
        ["plant_week", "crop_id"])
    weekly = harvest.loc[harvest["producer_id"] == producer_id]
    weekly = (weekly.pivot_table(index="week_start", columns="product_id", values="kg",
                                 aggfunc="sum", fill_value=0.0)
              .sort_index())
    return plantings, weekly


def contract_csv(plantings: pd.DataFrame, weekly: pd.DataFrame) -> pd.DataFrame:
    """The contract as one long table: plantings, then kilos per week (``section`` column)."""
    rows = []
    for r in plantings.itertuples():
        rows.append({"section": "planting", "crop_id": r.crop_id, "crop": r.crop,
                     "product_id": r.product_id, "plant_week": r.plant_week,
                     "plant_date": r.plant_date, "beds": r.beds, "area_m2": r.area_m2,
                     "week_start": None, "kg": r.harvest_kg,
                     "price_eur_per_kg": r.price_eur_per_kg, "revenue_eur": r.revenue_eur})
    for week, row in weekly.iterrows():
        for product_id, kg in row.items():
            if kg > 0.05:
                rows.append({"section": "delivery", "crop_id": None, "crop": None,
                             "product_id": product_id, "plant_week": None, "plant_date": None,
                             "beds": None, "area_m2": None,
                             "week_start": pd.Timestamp(week).date(), "kg": round(kg, 1),
                             "price_eur_per_kg": None, "revenue_eur": None})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    for col in ("plant_week", "beds"):
        table[col] = table[col].astype("Int64")
    for col in ("area_m2", "kg", "revenue_eur"):
        table[col] = pd.to_numeric(table[col]).round(2)
    return table


def contract_html(farm: pd.Series, plantings: pd.DataFrame, weekly: pd.DataFrame, *,
                  season: str, hub_name: str) -> str:
    """A printable contract page (plain HTML and print CSS, French labels)."""
    e = html.escape
    revenue = plantings["revenue_eur"].sum()
    kg = plantings["harvest_kg"].sum()
    rows = "".join(
        f"<tr><td>{e(str(r.crop))}</td><td>{e(str(r.product_id))}</td>"
        f"<td class=n>{r.plant_week}</td><td>{r.plant_date}</td><td class=n>{r.beds}</td>"
        f"<td class=n>{_fr(r.area_m2)}</td><td>{r.first_harvest} → {r.last_harvest}</td>"
        f"<td class=n>{_fr(r.harvest_kg)}</td><td class=n>{_fr(r.price_eur_per_kg, 2)}</td>"
        f"<td class=n>{_fr(r.revenue_eur)}</td></tr>"
        for r in plantings.itertuples())
    head = "".join(f"<th class=n>{e(str(c))}</th>" for c in weekly.columns)
    body = "".join(
        f"<tr><td>{pd.Timestamp(w).date()}</td>"
        + "".join(f"<td class=n>{_fr(v)}</td>" if v > 0.5 else "<td></td>" for v in row)
        + f"<td class=n><b>{_fr(row.sum())}</b></td></tr>"
        for w, row in weekly.iterrows())
    floor = farm["min_revenue_eur"]
    floor_line = (f"atteint ({_fr(revenue)} € ≥ {_fr(floor)} €)" if revenue >= floor - 1
                  else f"<b>non atteint</b>: {_fr(revenue)} € sur {_fr(floor)} € "
                       f"({e(str(farm.get('floor_reason', '')))})")
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>Contrat de culture — {e(str(farm['name']))}</title><style>{_CSS}</style></head>
<body>
<h1>Contrat de culture — {e(str(farm['name']))}</h1>
<p>Saison {e(season)} · Partenariat avec {e(hub_name)} · producteur {e(str(farm['producer_id']))}
(site {e(str(farm['site_id']))}, {_fr(farm['km_to_hub'])} km du pôle)</p>
<table class="summary">
<tr><td>Revenu prévu au prix rémunérateur</td><td><b>{_fr(revenue)} €</b></td></tr>
<tr><td>Volume prévu</td><td>{_fr(kg)} kg</td></tr>
<tr><td>Revenu minimum du partenariat</td><td>{floor_line}</td></tr>
</table>
<h2>Cultures et plantations</h2>
<table><tr><th>Culture</th><th>Produit</th><th class=n>Semaine</th><th>Date</th>
<th class=n>Planches</th><th class=n>m²</th><th>Récolte</th><th class=n>kg prévus</th>
<th class=n>€/kg</th><th class=n>€</th></tr>{rows}</table>
<h2>Livraisons prévues (kg par semaine)</h2>
<table><tr><th>Semaine du</th>{head}<th class=n>Total</th></tr>{body}</table>
<p>Les volumes sont des prévisions de récolte selon le calendrier cultural; le pôle achète au
prix rémunérateur indiqué les quantités récoltées et livrées.</p>
<div class="sign"><div>Le producteur</div><div>Le pôle logistique</div></div>
</body></html>
"""


def write_contracts(plan: pd.DataFrame, harvest: pd.DataFrame, farms: pd.DataFrame,
                    out_dir: Path, *, season: str, hub_name: str) -> list[Path]:
    """Write ``<producer_id>.csv`` and ``<producer_id>.html`` for every farm with a planting.

    The producer id names the files only through :func:`core.safety.safe_path`: an id that is
    not a slug, or a name that would resolve outside ``out_dir``, raises InputError before
    anything is written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for _, farm in farms.iterrows():
        plantings, weekly = contract_tables(farm["producer_id"], plan, harvest)
        if plantings.empty:
            continue
        stem = str(farm["producer_id"])
        csv_path = safe_path(out_dir, stem, suffix=".csv")
        html_path = safe_path(out_dir, stem, suffix=".html")
        write_csv(contract_csv(plantings, weekly), csv_path, index=False)
        html_path.write_text(contract_html(farm, plantings, weekly, season=season,
                                           hub_name=hub_name), encoding="utf-8")
        files.extend([csv_path, html_path])
    return files
