"""Files of a delivery week: the allocation and its accounting, and the sheets for the hub,
the farms and the shops (CSV + printable A4 HTML, one page per shop or farm).

``write_week(stage, territory, out_dir)`` writes::

    week.json          the summary (kilos per reason, fill rates, routes)
    shops.csv          per shop: every product's ordered/allocated/delivered kilos and fill
                       rate (``all_*``), and over the shared products (with the carried past)
    allocation.csv     site_id, product_id, storage_class, ordered_kg, allocated_kg,
                       delivered_kg, short_supply_kg, storage_kg, fleet_kg, fleet_reason
    shops.csv, products.csv, supply.csv (product_id, available_kg, source), pickups.csv,
    fill_history.csv   running ordered/allocated kilos per shop (``--carry`` next week)
    routes/            the route outputs (``api.pipeline.write_routes``)
    feuilles/          preparation (picking per shop, in truck loading order), enlevements
                       (pickups per farm), livraison (delivery notes per shop, one HTML per
                       shop too), totaux (per organisation): CSV + HTML; French by default,
                       English with ``lang="en"`` (``api.sheet_words``; file names stay)
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from api.sheet_words import day_word, sheet_words
from api.week import WeekStage, week_label
from core.csvio import DEFAULT_LANG, Lang, write_machine_csv, write_user_csv
from core.fmt import DAY_CODES, num, storage_class
from core.safety import safe_path
from core.schema import POINT_OF_SALE_KINDS, STORAGE_CLASSES
from core.territory import Territory

#: Why a shop got less than it ordered: the columns of the allocation, in order.
REASONS = ("short_supply_kg", "storage_kg", "fleet_kg")
_CSS = """
@page { size: A4; margin: 12mm; }
body { font-family: sans-serif; font-size: 10.5pt; }
.page { page-break-after: always; break-after: page; }
.page:last-child { page-break-after: auto; break-after: auto; }
h1 { font-size: 15pt; margin: 0 0 4pt; } p { margin: 2pt 0 8pt; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 2pt 4pt; text-align: left; }
td.n { text-align: right; }
@media print { tr { page-break-inside: avoid; } }
"""


def _num(value: float, lang: Lang, digits: int = 1) -> str:
    """A number for a sheet (``1 234,5`` / ``1,234.5``); empty when missing."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return num(value, digits, lang)


def _page(
    title: str, subtitle: str, frame: pd.DataFrame, numeric: tuple[str, ...], lang: Lang
) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, row, strict=True):
            if col in numeric:
                cells.append(f'<td class="n">{_num(float(value), lang)}</td>')
            else:
                cells.append(f"<td>{html.escape(str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<section class="page"><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></section>"
    )


def _document(title: str, pages: list[str], lang: Lang) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(pages)}</body></html>"
    )


def write_week(
    stage: WeekStage, territory: Territory, out_dir: Path, *, lang: Lang = DEFAULT_LANG
) -> list[Path]:
    """Write the week's data files, routes and sheets; return the paths."""
    from api.pipeline import write_routes

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []

    def csv(frame: pd.DataFrame, path: Path) -> None:  # the week's data: machine CSVs
        write_machine_csv(frame.round(3), path, index=False)
        files.append(path)

    csv(stage.lines, out / "allocation.csv")
    # per shop: the shared products' fill rate (with the carried past), and every product's
    totals = stage.lines.groupby("site_id")[["ordered_kg", "allocated_kg", "delivered_kg"]].sum()
    totals.columns = ["all_ordered_kg", "all_allocated_kg", "all_delivered_kg"]
    totals["all_fill_rate"] = totals["all_allocated_kg"] / totals["all_ordered_kg"]
    shops = totals.reset_index().merge(stage.sharing.shops, on="site_id", how="left")
    csv(shops, out / "shops.csv")
    sources = stage.supply.drop_duplicates("product_id").set_index("product_id")["source"]
    products = stage.sharing.products.assign(source=lambda f: f["product_id"].map(sources))
    surplus = stage.pickups.groupby("product_id")["surplus_kg"].sum()
    products["surplus_kg"] = products["product_id"].map(surplus).fillna(0.0)
    csv(products, out / "products.csv")
    limited = stage.supply.loc[stage.supply["source"] != "hub"]
    supply = limited.groupby(["product_id", "source"], as_index=False)[["kg", "set_aside_kg"]].sum()
    csv(supply.rename(columns={"kg": "available_kg"}), out / "supply.csv")
    csv(stage.pickups, out / "pickups.csv")
    if stage.history is not None:
        csv(stage.history, out / "fill_history.csv")
    (out / "week.json").write_text(json.dumps(stage.summary, indent=2, ensure_ascii=False))
    files.append(out / "week.json")
    if stage.routes is not None:
        files.extend(write_routes(stage.routes, out / "routes", lang=lang))
    files.extend(write_sheets(stage, territory, out / "feuilles", lang=lang))
    return files


# --------------------------------------------------------------------------- sheets


def _visits(stage: WeekStage) -> pd.DataFrame:
    """One row per stop of a route at a shop or farm: site_id, day, date, vehicle_id,
    arrival, order of loading (trucks load the last stop first)."""
    if stage.routes is None or stage.routes.result.stops.empty:
        return pd.DataFrame(columns=["site_id", "day", "date", "vehicle_id", "arrival", "load"])
    stops = stage.routes.result.stops.reset_index(drop=True)
    stops = stops.loc[stops["kind"].isin([*POINT_OF_SALE_KINDS, "farm"])].copy()
    day_rank = stops["day"].map(DAY_CODES)
    stops["load"] = list(zip(day_rank, stops["vehicle_id"], -stops["seq"], strict=True))
    stops["arrival"] = stops["arrival_min"].map(lambda m: f"{int(m // 60):02d}:{int(m % 60):02d}")
    return stops[["site_id", "day", "date", "vehicle_id", "arrival", "load"]]


def write_sheets(
    stage: WeekStage, territory: Territory, out: Path, *, lang: Lang = DEFAULT_LANG
) -> list[Path]:
    """Picking lists, farm pickup lists, delivery notes and totals (CSV + A4 HTML)."""
    w = sheet_words(lang)
    out.mkdir(parents=True, exist_ok=True)
    label = week_label(stage.week_start)
    names = territory.sites.set_index("site_id")["name"]
    products = territory.products.set_index("product_id")
    visits = _visits(stage)
    when = (
        visits.sort_values("load", kind="mergesort")
        .groupby("site_id")
        .agg(
            first=("load", "first"),
            text=(
                "day",
                lambda d: ", ".join(
                    f"{day_word(x, lang)} ({v}, {a})"
                    for x, v, a in zip(
                        d,
                        visits.loc[d.index, "vehicle_id"],
                        visits.loc[d.index, "arrival"],
                        strict=True,
                    )
                ),
            ),
        )
    )
    lines = stage.lines.copy()
    lines["produit"] = lines["product_id"].map(products["name"])
    lines["classe"] = lines["storage_class"].map(lambda c: storage_class(c, lang))
    class_rank = lines["storage_class"].map({c: i for i, c in enumerate(STORAGE_CLASSES)})
    unit = lines["product_id"].map(products["unit"])
    per_unit = lines["product_id"].map(products["kg_per_unit"])
    lines["unités"] = np.where(unit != "kg", np.round(lines["allocated_kg"] / per_unit), np.nan)
    lines["unité"] = unit
    lines = lines.assign(_class=class_rank)
    files: list[Path] = []

    # the shops in the order the trucks load them; shops left off the routes last
    far = (99, "~", 0)
    shop_order = sorted(
        lines["site_id"].unique(),
        key=lambda s: (when["first"].get(s, far), s),
    )

    # picking list per shop
    pick = lines.loc[lines["allocated_kg"] > 0].sort_values(
        ["site_id", "_class", "product_id"], kind="mergesort"
    )
    pick_cols = {
        "classe": w["class"],
        "produit": w["product"],
        "product_id": w["code"],
        "allocated_kg": w["to_prepare"],
        "unités": w["units"],
        "unité": w["unit"],
    }
    colon = " :" if lang == "fr" else ":"
    pages, rows = [], []
    for s in shop_order:
        part = pick.loc[pick["site_id"] == s, list(pick_cols)].rename(columns=pick_cols)
        if part.empty:
            continue
        part[w["units"]] = part[w["units"]].map(lambda u: "" if pd.isna(u) else f"{int(u)}")
        planned = when["text"].get(s, w["not_planned"])
        subtitle = f"{w['week']} {label} — {w['deliveries']}{colon} {planned}"
        title = f"{w['preparation']} — {names.get(s, s)}"
        pages.append(_page(title, subtitle, part, (w["to_prepare"],), lang))
        more = {w["shop_col"]: s, w["deliveries_col"]: when["text"].get(s, "")}
        rows.append(part.assign(**more))
    title = f"{w['preparation_title']} {label}"
    files += _write_pair(out, "preparation", title, pages, rows, lang=lang)

    # farm pickup lists
    pk = stage.pickups.loc[stage.pickups["kg"] > 1e-9].copy()
    farm_visits = visits.loc[visits["site_id"].isin(pk["site_id"])]
    pages, rows = [], []
    for farm in sorted(pk["site_id"].unique()):
        part = pk.loc[pk["site_id"] == farm].sort_values("product_id", kind="mergesort")
        table = pd.DataFrame(
            {
                w["product"]: part["product_id"].map(products["name"]).to_numpy(),
                w["code"]: part["product_id"].to_numpy(),
                w["class"]: part["storage_class"].map(lambda c: storage_class(c, lang)).to_numpy(),
                w["to_pick"]: part["kg"].to_numpy(),
                w["surplus"]: part["surplus_kg"].to_numpy(),
                w["committed"]: part["committed_kg"].to_numpy(),
            }
        )
        v = farm_visits.loc[farm_visits["site_id"] == farm]
        text = ", ".join(
            w["visit_text"].format(day=day_word(d, lang), date=str(dt)[:10], time=a, vehicle=veh)
            for d, dt, a, veh in zip(
                v["day"], v["date"], v["arrival"], v["vehicle_id"], strict=True
            )
        )
        subtitle = f"{w['week']} {label} — {w['visit']}{colon} {text or w['not_visited']}"
        title = f"{w['pickup_note']} — {names.get(farm, farm)}"
        numeric = (w["to_pick"], w["surplus"], w["committed"])
        pages.append(_page(title, subtitle, table, numeric, lang))
        rows.append(table.assign(**{w["farm_col"]: farm, w["visit_col"]: text}))
    title = f"{w['pickups_title']} {label}"
    files += _write_pair(out, "enlevements", title, pages, rows, lang=lang)

    # delivery notes per shop
    notes_dir = out / "livraison"
    notes_dir.mkdir(exist_ok=True)
    pages, rows = [], []
    numeric = (w["ordered"], w["allocated"], w["delivered"], w["gap"])
    for s in sorted(lines["site_id"].unique()):
        part = lines.loc[lines["site_id"] == s].sort_values(
            ["_class", "product_id"], kind="mergesort"
        )
        gap = part["ordered_kg"] - part["delivered_kg"]
        reasons = [
            "; ".join(
                w[c] + (f" ({r[c + '_why']})" if c == "fleet_kg" and r[c + "_why"] else "")
                for c in REASONS
                if r[c] > 0.05
            )
            for r in part.assign(fleet_kg_why=part["fleet_reason"]).to_dict("records")
        ]
        table = pd.DataFrame(
            {
                w["product"]: part["produit"].to_numpy(),
                w["class"]: part["classe"].to_numpy(),
                w["ordered"]: part["ordered_kg"].to_numpy(),
                w["allocated"]: part["allocated_kg"].to_numpy(),
                w["delivered"]: part["delivered_kg"].to_numpy(),
                w["gap"]: gap.to_numpy(),
                w["gap_reason"]: reasons,
            }
        )
        amounts = w["ordered_delivered"].format(
            ordered=_num(part["ordered_kg"].sum(), lang),
            delivered=_num(part["delivered_kg"].sum(), lang),
        )
        planned = when["text"].get(s, w["not_planned"])
        subtitle = f"{w['week']} {label} — {w['deliveries']}{colon} {planned} — {amounts}"
        page = _page(f"{w['delivery_note']} — {names.get(s, s)}", subtitle, table, numeric, lang)
        pages.append(page)
        path = safe_path(notes_dir, str(s), suffix=".html")
        doc = _document(f"{w['delivery_note']} {s} {label}", [page], lang)
        path.write_text(doc, encoding="utf-8")
        files.append(path)
        more = {w["shop_col"]: s, w["deliveries_col"]: when["text"].get(s, "")}
        rows.append(table.assign(**more))
    title = f"{w['delivery_notes']} {label}"
    files += _write_pair(out, "livraison", title, pages, rows, lang=lang)

    # the week's totals per organisation (each point of sale; each fleet organisation)
    totals = (
        stage.lines.groupby("site_id")[
            [
                "ordered_kg",
                "allocated_kg",
                "delivered_kg",
                "short_supply_kg",
                "storage_kg",
                "fleet_kg",
            ]
        ]
        .sum()
        .reset_index()
    )
    totals.insert(1, "organisation", totals["site_id"].map(names))
    fleet = pd.DataFrame()
    if stage.routes is not None and len(stage.routes.result.vehicle_kpis):
        fleet = stage.routes.result.vehicle_kpis.groupby("organisation", as_index=False)[
            ["km", "cost_eur", "kg_moved"]
        ].sum()
    for frame, name in ((totals, "totaux_points_de_vente"), (fleet, "totaux_flotte")):
        files += write_user_csv(frame, out / f"{name}.csv", lang=lang)
    shown_totals = totals.rename(
        columns={
            "site_id": w["code"],
            "organisation": w["organisation"],
            "ordered_kg": w["ordered"],
            "allocated_kg": w["allocated"],
            "delivered_kg": w["delivered"],
            "short_supply_kg": w["short"],
            "storage_kg": w["storage"],
            "fleet_kg": w["fleet"],
        }
    )
    of_week = w["totals_of_week"].format(label=label)
    pages = [
        _page(
            f"{of_week} — {w['shops']}",
            f"{len(totals)} {w['shops']}",
            shown_totals,
            tuple(c for c in shown_totals.columns if c.endswith("(kg)")),
            lang,
        )
    ]
    if len(fleet):
        shown_fleet = fleet.rename(
            columns={"km": "km", "cost_eur": w["cost"], "kg_moved": w["kg_delivered"]}
        )
        pages.append(
            _page(
                f"{of_week} — {w['fleet_word']}",
                w["per_organisation"],
                shown_fleet,
                ("km", w["cost"], w["kg_delivered"]),
                lang,
            )
        )
    path = out / "totaux.html"
    path.write_text(_document(f"{w['totals']} {label}", pages, lang), encoding="utf-8")
    files.append(path)
    return files


def _write_pair(
    out: Path,
    stem: str,
    title: str,
    pages: list[str],
    rows: list[pd.DataFrame],
    *,
    lang: Lang = DEFAULT_LANG,
) -> list[Path]:
    html_path, csv_path = out / f"{stem}.html", out / f"{stem}.csv"
    html_path.write_text(_document(title, pages, lang), encoding="utf-8")
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return [html_path, *write_user_csv(frame, csv_path, lang=lang)]
