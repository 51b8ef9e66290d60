"""Check issue 20's output bars on a folder vivres wrote (``vivres demo --out out``):

* every user CSV (UTF-8 with BOM) has an ``.xlsx`` twin that openpyxl reads back with the same
  values, and round-trips through pandas with ``sep=';', decimal=','`` (French, the default);
* every driver sheet (``routes/sheets/<day>_<vehicle>.html``) prints with headless Chromium on
  one A4 page when its vehicle-day has at most 15 stops, with an address and a phone (or
  "non renseigné") on every stop row and no zero quantity; the loading lists hold no zero.

Run from a source checkout::

    vivres demo --out out && python benchmarks/field_bars.py out

It prints the figures and exits 1 when a bar is missed.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import shutil
import sys
from pathlib import Path

import pandas as pd

from core.csvio import read_csv_any

ZERO_KG = re.compile(r"(?<![\d,])0,0\s*kg")
MAX_STOPS = 15


def _cell(value: object) -> object:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, dt.date | pd.Timestamp):
        value = value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return round(float(value), 6)
    return re.sub(r"^(\d{4}-\d\d-\d\d)[T ]00:00:00$", r"\1", str(value))


def _rows(frame: pd.DataFrame) -> list[list[object]]:
    return [[_cell(v) for v in row] for row in frame.itertuples(index=False)]


def check_csvs(root: Path) -> list[str]:
    """Twins and the French round trip of every user CSV under ``root``; the problems."""
    from openpyxl import load_workbook

    problems, user, machine = [], 0, 0
    for csv in sorted(root.rglob("*.csv")):
        if not csv.read_bytes().startswith(codecs.BOM_UTF8):
            machine += 1
            continue
        user += 1
        twin = csv.with_suffix(".xlsx")
        if not twin.exists():
            problems.append(f"{csv}: no .xlsx twin")
            continue
        rows = list(load_workbook(twin, read_only=True).active.iter_rows(values_only=True))
        book = pd.DataFrame(rows[1:], columns=rows[0]) if rows else pd.DataFrame()
        ours = read_csv_any(csv)
        french = pd.read_csv(csv, sep=";", decimal=",")
        if _rows(french) != _rows(ours) or list(french.columns) != list(ours.columns):
            problems.append(f"{csv}: does not round-trip with sep=';', decimal=','")
        if _rows(book) != _rows(ours):
            problems.append(f"{csv}: its .xlsx twin holds other values")
    print(
        f"CSV: {user} user CSVs (BOM, ';', decimal comma), {machine} machine CSVs; "
        f"{user - len(problems)} twins and round trips the same"
    )
    return problems


def check_sheets(routes: Path) -> list[str]:
    """Print every driver sheet and loading list with Chromium; the problems."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    stops = read_csv_any(routes / "stops.csv", dtype={"site_id": str})
    served = stops.loc[stops["action"].str.contains("deliver|pickup")]
    counts = served.groupby(["day", "vehicle_id"]).size()
    problems, pages_of = [], {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        for sheet in sorted((routes / "sheets").glob("*.html")):
            page.goto(sheet.as_uri())
            pages = len(re.findall(rb"/Type\s*/Page[^s]", page.pdf(prefer_css_page_size=True)))
            text = page.inner_text("body")
            if ZERO_KG.search(text):
                problems.append(f"{sheet.name}: a zero quantity")
            if sheet.stem.startswith(("chargement_", "loading_")):
                continue
            day, vehicle = sheet.stem.split("_", 1)
            num_stops = int(counts.get((day, vehicle), 0))
            pages_of[sheet.stem] = (num_stops, pages)
            if num_stops <= MAX_STOPS and pages > 1:
                problems.append(f"{sheet.name}: {num_stops} stops on {pages} pages")
            cells = page.eval_on_selector_all(
                "tbody tr:not(.brk)", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
            )
            if any(not c[4].strip() or not c[5].strip() for c in cells):
                problems.append(f"{sheet.name}: a stop row without address or phone")
        browser.close()
    one = sum(1 for _, pages in pages_of.values() if pages == 1)
    most = max((s for s, _ in pages_of.values()), default=0)
    print(f"sheets: {len(pages_of)} vehicle-days (up to {most} stops), {one} on one A4 page")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path("out")
    problems = check_csvs(root)
    routes = root / "routes"
    if (routes / "stops.csv").exists():
        problems += check_sheets(routes)
    for problem in problems:
        print("MISSED", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
