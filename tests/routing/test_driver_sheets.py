"""The sample week's driver sheets printed by headless Chromium: one A4 page per vehicle-day
(up to 15 stops), address and phone on every stop row, no zero quantity anywhere."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from api.cli import main
from core.csvio import read_csv_any
from core.territory import SAMPLE_DIR

CHROMIUM = shutil.which("chromium") or next(
    (p for p in ("/usr/bin/chromium", "/usr/lib/chromium/chromium") if Path(p).exists()), None
)
STOP_ACTIONS = ("deliver", "pickup")
ZERO_KG = re.compile(r"(?<![\d,])0,0\s*kg")


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF Chromium printed (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed")
def test_sample_week_sheets_print_on_one_a4_page_per_vehicle_day(tmp_path):
    from playwright.sync_api import sync_playwright

    out = tmp_path / "routes"
    assert main(["routes", "--week", "1", "--out", str(out)]) == 0
    stops = read_csv_any(out / "stops.csv", dtype={"site_id": str})
    sites = read_csv_any(SAMPLE_DIR / "sites.csv", dtype=str, keep_default_na=False)
    phone = dict(zip(sites["site_id"], sites["contact"], strict=True))
    served = stops.loc[stops["action"].str.contains("|".join(STOP_ACTIONS))]
    counts = served.groupby(["day", "vehicle_id"]).size()
    assert len(counts) > 10 and counts.max() <= 15
    sheets = sorted((out / "sheets").glob("*_veh_*.html"))
    assert len(sheets) == len(counts)
    loading = sorted((out / "sheets").glob("chargement_*.html"))
    assert loading
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        for sheet in sheets:
            day, vehicle = sheet.stem.split("_", 1)
            page.goto(sheet.as_uri())
            pages = pdf_pages(page.pdf(prefer_css_page_size=True))
            assert pages == 1, f"{sheet.name}: {counts[(day, vehicle)]} stops on {pages} pages"
            rows = page.eval_on_selector_all(
                "tbody tr:not(.brk)", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
            )
            route = stops.loc[(stops["day"] == day) & (stops["vehicle_id"] == vehicle)]
            assert len(rows) == (route["action"] != "break").sum()
            ids = route.loc[route["action"] != "break", "site_id"]
            for cells, site in zip(rows, ids, strict=True):
                assert cells[4].strip(), f"{sheet.name}: no address for {site}"
                assert cells[5].strip() == (phone[site] or "non renseigné"), sheet.name
            text = page.inner_text("body")
            assert not ZERO_KG.search(text), f"{sheet.name}: a zero quantity"
        for sheet in loading:
            page.goto(sheet.as_uri())
            text = page.inner_text("body")
            assert "À charger au pôle" in text and not ZERO_KG.search(text), sheet.name
        browser.close()


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed")
@pytest.mark.filterwarnings("ignore::core.errors.FallbackWarning")
def test_fifteen_sample_stops_with_a_reload_and_a_break_fit_one_page():
    """The bar's limit: 15 stops of the sample (long names, addresses, notes, four storage
    classes), the start, two hub loads, a break and the end on one landscape A4 page."""
    import pandas as pd
    from playwright.sync_api import sync_playwright

    from api import pipeline
    from api.params import route_params
    from core.territory import load_territory
    from routing.sheets import sheet_html

    stage = pipeline.run_routes(load_territory(SAMPLE_DIR, strict=False), 1, route_params())
    stops = stage.result.stops
    monday = stops.loc[stops["day"] == "mon"]
    first = monday.loc[monday["vehicle_id"] == monday["vehicle_id"].iloc[0]]
    hub_load = first.loc[first["action"].str.contains("load")].iloc[[0]]
    served = monday.loc[monday["action"].str.contains("deliver|pickup")]
    served = served.sort_values("detail", key=lambda s: -s.str.len()).head(15)
    pause = stops.loc[stops["action"] == "break"].head(1)
    rows = pd.concat(
        [
            first.iloc[[0]],
            hub_load,
            served.iloc[:8],
            pause,
            hub_load,
            served.iloc[8:],
            first.iloc[[-1]],
        ]
    )
    assert served["site_id"].nunique() == 15 and len(pause) == 1
    # every stop pinned: the row badges and the line explaining them still fit
    rows = rows.assign(seq=range(len(rows)), pinned=rows["action"].str.contains("deliver|pickup"))
    page_html = sheet_html(
        rows,
        stage.problem,
        title="Tournée test",
        header="15 arrêts",
        day="mon",
        estimated=True,
        lang="fr",
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_content(page_html)
        assert page_html.count('<span class="pin">épinglé</span>') == 15 + 1
        assert pdf_pages(page.pdf(prefer_css_page_size=True)) == 1
        browser.close()
