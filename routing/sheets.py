"""Driver sheets and hub loading lists, for paper.

A driver sheet is one landscape A4 page per vehicle and day (up to about 15 stops): a table
of the stops in order, with the site's opening window, the planned arrival, the shop or farm,
its address and phone, what to drop and what to pick up per storage class (0.1 kg), a box to
tick and room for a signature or remarks. The hub's loading list is a page of its own per
vehicle, grouped by shop (in loading order: the last stop first) and storage class, with no
zero lines. Text is French by default (``lang="en"`` for English).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from core import fmt
from core.csvio import Lang
from core.schema import STORAGE_CLASSES
from routing.model import WeekProblem

#: Kilos below this are not printed (a sheet shows no zero line).
MIN_SHOWN_KG = 0.05

_WORDS = {
    "fr": {
        "colon": " :",
        "order": "N°",
        "window": "Créneau",
        "arrival": "Arrivée",
        "departure": "Départ",
        "site_id": "Code",
        "place": "Lieu",
        "action": "Action",
        "address": "Adresse",
        "phone": "Téléphone",
        "no_phone": "non renseigné",
        "drop": "À déposer",
        "pick": "À enlever",
        "done": "Fait",
        "sign": "Signature / remarques",
        "on_board": "Charge à bord (kg)",
        "km": "km depuis l'arrêt précédent",
        "notes": "Consignes du lieu",
        "method": "Méthode",
        "closed": "fermé",
        "pinned": "épinglé",
        "pinned_hint": "l'équipe a fixé cet arrêt (--pin) : ne pas le déplacer",
        "yes": "oui",
        "all_day": "toute la journée",
        "hub_load": "voir la liste de chargement",
        "hub_unload": "déchargement au pôle",
        "break": "pause conducteur",
        "route": "Tournée",
        "loading": "Liste de chargement",
        "unloading": "À décharger au pôle",
        "to_load": "À charger au pôle",
        "for": "Pour",
        "from": "De",
        "class": "Classe",
        "kg": "Kilos",
        "checked": "Chargé",
        "total": "Total",
        "driver": "Signature du chauffeur",
        "back_at": "Heure de retour",
        "stops": "arrêts",
        "refrigerated": "réfrigéré",
        "not_refrigerated": "non réfrigéré",
        "pallets": "palettes",
        "max_load": "charge max.",
        "load_order": "Charger dans cet ordre (le dernier arrêt d'abord).",
        "nothing": "Rien à charger au pôle pour cette tournée.",
        "estimate": "Distances et heures ESTIMÉES (à vol d'oiseau × détour, sans réseau "
        "routier) : passez --osm FICHIER pour les distances par la route.",
    },
    "en": {
        "colon": ":",
        "order": "No.",
        "window": "Time window",
        "arrival": "Arrival",
        "departure": "Departure",
        "site_id": "Code",
        "place": "Place",
        "action": "Action",
        "address": "Address",
        "phone": "Phone",
        "no_phone": "not given",
        "drop": "To drop",
        "pick": "To pick up",
        "done": "Done",
        "sign": "Signature / remarks",
        "on_board": "On board (kg)",
        "km": "km from previous stop",
        "notes": "Site instructions",
        "method": "Method",
        "closed": "closed",
        "pinned": "pinned",
        "pinned_hint": "the staff fixed this stop (--pin): do not move it",
        "yes": "yes",
        "all_day": "all day",
        "hub_load": "see the loading list",
        "hub_unload": "unload at the hub",
        "break": "driver break",
        "route": "Route",
        "loading": "Loading list",
        "unloading": "To unload at the hub",
        "to_load": "To load at the hub",
        "for": "For",
        "from": "From",
        "class": "Class",
        "kg": "Kilos",
        "checked": "Loaded",
        "total": "Total",
        "driver": "Driver's signature",
        "back_at": "Time back",
        "stops": "stops",
        "refrigerated": "refrigerated",
        "not_refrigerated": "not refrigerated",
        "pallets": "pallets",
        "max_load": "max load",
        "load_order": "Load in this order (the last stop first).",
        "nothing": "Nothing to load at the hub for this route.",
        "estimate": "Distances and times are ESTIMATES (great-circle × circuity, no road "
        "network): pass --osm FILE for road distances.",
    },
}


def words(lang: Lang) -> Mapping[str, str]:
    """The sheet's labels in ``lang``."""
    return _WORDS[lang]


def hhmm(minutes: float) -> str:
    """Minutes after midnight as ``HH:MM`` (empty when unknown)."""
    if minutes is None or not np.isfinite(minutes):
        return ""
    m = round(float(minutes))
    return f"{m // 60:02d}:{m % 60:02d}"


def window_text(problem: WeekProblem, site_id: str, day: str, lang: Lang) -> str:
    """The site's opening windows that day: ``09:00–12:00 / 14:00–18:00``."""
    if not site_id:
        return ""
    windows = problem.windows(site_id, day)
    if windows is None:
        return words(lang)["all_day"]
    if not windows:
        return words(lang)["closed"]
    return " / ".join(f"{hhmm(a)}–{hhmm(b)}" for a, b in windows)


def _by_class(goods: Iterable[Mapping], actions: tuple[str, ...]) -> dict[str, float]:
    """Kilos per storage class of the goods moved by these actions (0.1 kg, no zero)."""
    totals: dict[str, float] = {}
    for line in goods:
        if line["action"] in actions:
            totals[line["storage_class"]] = totals.get(line["storage_class"], 0.0) + line["kg"]
    order = {c: i for i, c in enumerate(STORAGE_CLASSES)}
    return {
        c: round(totals[c], 1)
        for c in sorted(totals, key=lambda c: (order.get(c, len(order)), c))
        if totals[c] >= MIN_SHOWN_KG
    }


def _class_text(totals: Mapping[str, float], lang: Lang) -> str:
    return " · ".join(
        f"{fmt.storage_class(c, lang)} {fmt.kg(kg, lang)}" for c, kg in totals.items()
    )


def _text(value: object) -> str:
    """A cell as text: empty for a missing value."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return str(value)


def is_pinned(row: Mapping | pd.Series) -> bool:
    """True for a stop the staff pinned (``pinned`` column; rows written before it: no)."""
    value = row.get("pinned", False)
    return bool(value) and not (isinstance(value, float) and not np.isfinite(value))


def _address(site: pd.Series | None) -> str:
    if site is None:
        return ""
    address, commune = _text(site.get("address")), _text(site.get("commune"))
    if commune and commune.lower() not in address.lower():
        address = f"{address}, {commune}" if address else commune
    return address


def sheet_frame(
    rows: pd.DataFrame, problem: WeekProblem, day: str, method: str, lang: Lang
) -> pd.DataFrame:
    """The vehicle-day's stops as the sheet's table (for the CSV and ``.xlsx``): one row per
    stop, kilos per storage class in columns of their own (only the classes moved)."""
    w = words(lang)
    sites = problem.sites.set_index("site_id")
    drops = [_by_class(g, ("deliver", "unload")) for g in rows["goods"]]
    picks = [_by_class(g, ("pickup", "load")) for g in rows["goods"]]
    classes = [c for c in STORAGE_CLASSES if any(c in d for d in drops + picks)]
    table: dict[str, list] = {
        w["order"]: list(rows["seq"]),
        w["window"]: [window_text(problem, s, day, lang) for s in rows["site_id"]],
        w["arrival"]: [hhmm(m) for m in rows["arrival_min"]],
        w["departure"]: [hhmm(m) for m in rows["departure_min"]],
        w["site_id"]: list(rows["site_id"]),
        w["place"]: list(rows["name"]),
        w["action"]: [fmt.action_words(a, lang) for a in rows["action"]],
        w["address"]: [
            _address(sites.loc[s] if s in sites.index else None) for s in rows["site_id"]
        ],
        w["phone"]: [_text(c) for c in rows["contact"]],
    }
    for c in classes:
        table[f"{w['drop']} {fmt.storage_class(c, lang)} (kg)"] = [d.get(c, 0.0) for d in drops]
    for c in classes:
        table[f"{w['pick']} {fmt.storage_class(c, lang)} (kg)"] = [p.get(c, 0.0) for p in picks]
    table[w["on_board"]] = list(rows["load_kg"].round(1))
    table[w["km"]] = list((rows["dist_m"] / 1000).round(1))
    table[w["notes"]] = [_text(n) for n in rows["notes"]]
    table[w["pinned"]] = [w["yes"] if is_pinned(r) else "" for _, r in rows.iterrows()]
    table[w["method"]] = [method] * len(rows)
    return pd.DataFrame(table)


def _row_html(
    row: pd.Series, problem: WeekProblem, day: str, lang: Lang, *, repeat: bool = False
) -> str:
    """One stop's row; ``repeat``: the site was met earlier on the sheet (its instructions are
    not printed twice)."""
    hub_id = problem.hub_id
    w = words(lang)
    e = html.escape
    site = str(row["site_id"])
    sites = problem.sites.set_index("site_id")
    info = sites.loc[site] if site in sites.index else None
    action = str(row["action"])
    drop = _by_class(row["goods"], ("deliver", "unload"))
    pick = _by_class(row["goods"], ("pickup", "load"))
    if action == "break":
        return (
            f'<tr class="brk"><td>{row["seq"]}</td><td></td><td>{hhmm(row["arrival_min"])}</td>'
            f'<td colspan="7">{e(w["break"])} ({e(str(row["detail"]))})</td></tr>'
        )
    drop_text, pick_text = _class_text(drop, lang), _class_text(pick, lang)
    if site == hub_id and "load" in action.split("+"):
        # the loading list, on its own page, gives the detail per shop and class
        total = fmt.kg(sum(pick.values()), lang)
        pick_text = f"{e(total)} <i>({e(w['hub_load'])})</i>"
        drop_text = e(drop_text)
    else:
        pick_text, drop_text = e(pick_text), e(drop_text)
    when = hhmm(row["arrival_min"])
    if action == "start":
        when = f"{w['departure']} {hhmm(row['departure_min'])}"
    notes = "" if repeat else _text(row["notes"])
    pin = f' <span class="pin">{e(w["pinned"])}</span>' if is_pinned(row) else ""
    place = f"<b>{e(str(row['name']))}</b>{pin}" + (
        f'<div class="note">{e(notes)}</div>' if notes else ""
    )
    return (
        f"<tr><td>{row['seq']}</td><td>{e(window_text(problem, site, day, lang))}</td>"
        f"<td>{e(when)}</td><td>{place}</td><td>{e(_address(info))}</td>"
        f'<td class="nw">{e(_text(row["contact"]) or w["no_phone"])}</td><td>{drop_text}</td>'
        f'<td>{pick_text}</td><td class="box">☐</td><td class="sign"></td></tr>'
    )


_CSS = """
@page { size: A4 landscape; margin: 8mm; }
body { font-family: sans-serif; font-size: 7.5pt; margin: 0; }
.page { break-after: page; page-break-after: always; }
.page:last-child { break-after: auto; page-break-after: auto; }
h1 { font-size: 13pt; margin: 0 0 2pt; } h2 { font-size: 11pt; margin: 6pt 0 2pt; }
p { margin: 0 0 4pt; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 1px solid #777; padding: 1pt 3pt; vertical-align: top; overflow-wrap: anywhere; }
th { background: #eee; text-align: left; }
td.box { font-size: 12pt; text-align: center; line-height: 1; } td.nw { white-space: nowrap; }
tr { break-inside: avoid; page-break-inside: avoid; height: 7mm; }
tr.brk { height: auto; color: #555; }
.note { font-size: 6.5pt; color: #444; }
.warn { color: #a00; font-weight: bold; }
.pin { border: 1px solid #000; border-radius: 2pt; padding: 0 2pt; font-weight: bold;
 white-space: nowrap; }
.foot { margin-top: 5pt; display: flex; gap: 40mm; }
td.n { text-align: right; }
"""
_WIDTHS = (3, 8, 6, 17, 16, 9, 17, 10, 4, 10)  # % of the page width, per column


def _document(title: str, pages: list[str], lang: Lang) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(pages)}</body></html>"
    )


def sheet_html(
    rows: pd.DataFrame,
    problem: WeekProblem,
    *,
    title: str,
    header: str,
    day: str,
    estimated: bool,
    lang: Lang,
) -> str:
    """The vehicle-day's driver sheet: one landscape A4 page (up to about 15 stops)."""
    w = words(lang)
    e = html.escape
    heads = ("order", "window", "arrival", "place", "address", "phone", "drop", "pick", "done")
    cols = "".join(f'<col style="width:{p}%">' for p in _WIDTHS)
    head = "".join(f"<th>{e(w[k])}</th>" for k in heads) + f"<th>{e(w['sign'])}</th>"
    seen: set[str] = set()
    body = []
    for _, r in rows.iterrows():
        body.append(_row_html(r, problem, day, lang, repeat=r["site_id"] in seen))
        seen.add(r["site_id"])
    warn = f'<p class="warn">{e(w["estimate"])}</p>' if estimated else ""
    if any(is_pinned(r) for _, r in rows.iterrows()):
        warn += (
            f'<p><span class="pin">{e(w["pinned"])}</span>{w["colon"]} {e(w["pinned_hint"])}</p>'
        )
    page = (
        f'<section class="page"><h1>{e(title)}</h1><p>{e(header)}</p>{warn}'
        f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
        f'<div class="foot"><span>{e(w["driver"])}{w["colon"]} ______________</span>'
        f"<span>{e(w['back_at'])}{w['colon']} ________</span></div></section>"
    )
    return _document(title, [page], lang)


def loading_lines(rows: pd.DataFrame, hub_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What to load at the hub (``other`` = the shop) and to unload there (``other`` = the
    farm), per site and storage class, in loading order (the last delivery first); no zero."""
    out: dict[str, list[dict]] = {"load": [], "unload": []}
    last_seq: dict[str, int] = {}
    for _, row in rows.iterrows():
        if row["site_id"] != hub_id:
            last_seq[str(row["site_id"])] = int(row["seq"])  # a shop's delivery, a farm's pickup
            continue
        out["load"] += [g for g in row["goods"] if g["action"] == "load"]
        out["unload"] += [g for g in row["goods"] if g["action"] == "unload"]
    frames = []
    for action in ("load", "unload"):
        lines = pd.DataFrame(out[action], columns=["action", "other", "storage_class", "kg"])
        lines["kg"] = lines["kg"].astype(float)
        grouped = lines.groupby(["other", "storage_class"], as_index=False)["kg"].sum()
        grouped["kg"] = grouped["kg"].round(1)
        grouped = grouped.loc[grouped["kg"] >= MIN_SHOWN_KG]
        order = grouped["other"].map(last_seq).fillna(-1)
        frames.append(
            grouped.assign(_order=-order if action == "load" else order)
            .sort_values(["_order", "other", "storage_class"], kind="mergesort")
            .drop(columns="_order")
            .reset_index(drop=True)
        )
    return frames[0], frames[1]


def loading_page(rows: pd.DataFrame, problem: WeekProblem, *, title: str, lang: Lang) -> str:
    """One A4 page for the hub staff: the vehicle's loading list, grouped by shop and storage
    class (loading order), then what it brings back to unload."""
    w = words(lang)
    e = html.escape
    names = problem.sites.set_index("site_id")["name"]
    load, unload = loading_lines(rows, problem.hub_id)
    parts = [f'<section class="page"><h1>{e(title)}</h1>']
    for frame, label, who in ((load, "to_load", "for"), (unload, "unloading", "from")):
        if frame.empty:
            if label == "to_load":
                parts.append(f"<p>{e(w['nothing'])}</p>")
            continue
        parts.append(f"<h2>{e(w[label])}</h2>")
        if label == "to_load":
            parts.append(f"<p>{e(w['load_order'])}</p>")
        body = []
        for site, group in frame.groupby("other", sort=False):
            for i, line in enumerate(group.itertuples()):
                shown = f"{names.get(site, site)} ({site})" if i == 0 else ""
                body.append(
                    f"<tr><td>{e(shown)}</td><td>{e(fmt.storage_class(line.storage_class, lang))}"
                    f'</td><td class="n">{e(fmt.kg(line.kg, lang))}</td>'
                    f'<td class="box">☐</td></tr>'
                )
        totals = frame.groupby("storage_class")["kg"].sum()
        total = " · ".join(
            f"{fmt.storage_class(c, lang)} {fmt.kg(kg, lang)}" for c, kg in totals.items()
        )
        parts.append(
            '<table><colgroup><col style="width:50%"><col style="width:20%">'
            '<col style="width:18%"><col style="width:12%"></colgroup>'
            f"<thead><tr><th>{e(w[who])}</th><th>{e(w['class'])}</th>"
            f"<th>{e(w['kg'])}</th><th>{e(w['checked'])}</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
            f"<p><b>{e(w['total'])}</b>{w['colon']} {e(total)}</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def loading_document(title: str, pages: list[str], lang: Lang) -> str:
    """The day's loading lists, one page per vehicle."""
    return _document(title, pages, lang)
