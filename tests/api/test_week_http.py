"""The ``week`` job over HTTP: same files as ``vivres week``, 422 naming the JSON field."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from api_helpers import Template, build_template, from_template

from api import jobs
from api.cli import main
from core.csvio import read_csv_any

#: under -n, on one worker: the module-scoped template is built once
pytestmark = pytest.mark.xdist_group("test_week_http")

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"
AVAILABILITY = (
    "week_start,site_id,product_id,kg\n"
    "2025-03-03,F1,carotte,20\n2025-03-03,F2,carotte,10\n2025-03-03,F1,laitue,24\n"
)
ORDERS = [
    {"date": "2025-03-04", "site_id": "S1", "product_id": "carotte", "quantity": 30, "unit": "kg"},
    {
        "date": "2025-03-04",
        "site_id": "S1",
        "product_id": "laitue",
        "quantity": 50,
        "unit": "piece",
    },
    {"date": "2025-03-05", "site_id": "S2", "product_id": "carotte", "quantity": 10, "unit": "kg"},
    {
        "date": "2025-03-06",
        "site_id": "S3",
        "product_id": "laitue",
        "quantity": 50,
        "unit": "piece",
    },
    {"date": "2025-03-06", "site_id": "S3", "product_id": "lait", "quantity": 12, "unit": "litre"},
]
KNOBS = {"day_solution_limit": 200}  # routing stopped by a count


def _week_files() -> dict[str, tuple[str, bytes, str]]:
    files = {p.stem: (p.name, p.read_bytes(), "text/csv") for p in sorted(TINY.glob("*.csv"))}
    files["availability"] = ("availability.csv", AVAILABILITY.encode(), "text/csv")
    return files


@pytest.fixture(scope="module")
def week_template(tmp_path_factory) -> Template:
    """The keys and the tiny territory with availability.csv, uploaded once per module."""
    return build_template(tmp_path_factory.mktemp("week_template") / "vivres.db", _week_files())


@pytest.fixture
def sqlite_template(request) -> Template | None:
    """Tests that take ``tiny_week`` start from a copy of ``week_template`` on SQLite."""
    if "tiny_week" in request.fixturenames:
        return request.getfixturevalue("week_template")
    return None


@pytest.fixture
def tiny_week(request, client, keys, tmp_path) -> Path:
    """The tiny territory with availability.csv, uploaded as ``tiny`` and copied on disk."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    files = _week_files()
    for name, content, _ in files.values():
        (folder / name).write_bytes(content)
    if from_template(request) is None:  # else uploaded in the template
        r = client.put("/v1/territories/tiny", files=files, headers=keys["planner"])
        assert r.status_code == 200, r.text
    return folder


def _run(store, job_id: str) -> None:
    assert jobs.claim_next(store, "test:0") == job_id
    assert jobs.execute(store, job_id) == "succeeded", jobs.get_job(store, job_id).error


# None: neither door says (French); English, the same comparison again: the slow lane
@pytest.mark.parametrize("lang", [None, pytest.param("en", marks=pytest.mark.slow)])
def test_cli_and_http_week_give_the_same_allocation_and_sheets(
    client, keys, store, tiny_week, tmp_path, capsys, lang
):
    orders_file = tmp_path / "orders_w10.csv"
    pd.DataFrame(ORDERS).to_csv(orders_file, index=False)
    out = tmp_path / "cli"
    argv = ["week", "--week", "2025-W10", "--data", str(tiny_week), "--out", str(out)]
    argv += ["--orders", str(orders_file), "--solution-limit", "200", "--time-limit", "120"]
    assert main(argv + (["--lang", lang] if lang else [])) == 0
    capsys.readouterr()
    body = {"week": "2025-W10", "orders": ORDERS, "knobs": KNOBS, "time_limit_s": 120}
    body |= {"lang": lang} if lang else {}
    r = client.post("/v1/territories/tiny/weeks", json=body, headers=keys["logistics"])
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    _run(store, job_id)
    summary = client.get(f"/v1/weeks/{job_id}", headers=keys["logistics"]).json()["summary"]
    assert summary["reported_kg"]["short_supply"] > 0
    assert abs(summary["unaccounted_kg"]) < 0.01
    names = client.get(f"/v1/weeks/{job_id}/files", headers=keys["planner"]).json()
    assert "allocation.csv" in names and "feuilles/livraison.html" in names
    for name in (
        "allocation.csv",
        "shops.csv",
        "products.csv",
        "pickups.csv",
        "feuilles/preparation.csv",
        "feuilles/livraison.csv",
        "feuilles/livraison.html",
        "feuilles/enlevements.html",
        "routes/stops.csv",
    ):
        got = client.get(f"/v1/weeks/{job_id}/files/{name}", headers=keys["planner"])
        assert got.status_code == 200, name
        assert got.content == (out / name).read_bytes(), name
    notes = client.get(f"/v1/weeks/{job_id}/files/feuilles/livraison.html", headers=keys["planner"])
    assert ("Delivery note" if lang == "en" else "Bon de livraison") in notes.text
    alloc = read_csv_any(io.BytesIO(jobs.artifact(store, job_id, "allocation.csv")[0]))
    assert alloc.groupby("product_id")["allocated_kg"].sum()["carotte"] == pytest.approx(30.0)
    # a producer key does not read the week
    assert client.get(f"/v1/weeks/{job_id}", headers=keys["producer"]).status_code == 403


@pytest.mark.slow  # a door comparison (two week solves, twice): the one above stays fast
def test_a_week_what_if_over_http_matches_the_command_line(
    client, keys, store, tiny_week, tmp_path, capsys
):
    orders_file = tmp_path / "orders_w10.csv"
    pd.DataFrame(ORDERS).to_csv(orders_file, index=False)
    out = tmp_path / "cli"
    argv = ["week", "--week", "2025-03-05", "--data", str(tiny_week), "--out", str(out)]
    argv += ["--orders", str(orders_file), "--solution-limit", "200", "--time-limit", "120"]
    argv += ["--what-if-farm", "F1", "--what-if-product", "lait=0.5"]
    assert main(argv) == 0
    capsys.readouterr()
    body = {
        "week": "2025-03-05",
        "orders": ORDERS,
        "knobs": KNOBS,
        "time_limit_s": 120,
        "what_if": {"farms": ["F1"], "products": {"lait": 0.5}},
    }
    r = client.post("/v1/territories/tiny/weeks", json=body, headers=keys["planner"])
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    _run(store, job_id)
    summary = client.get(f"/v1/weeks/{job_id}", headers=keys["planner"]).json()["summary"]
    assert summary["what_if"]["short_supply_kg"]["what_if"] > summary["reported_kg"]["short_supply"]
    for name in ("what_if/allocation.csv", "what_if_compare.csv", "what_if/routes/stops.csv"):
        got = client.get(f"/v1/weeks/{job_id}/files/{name}", headers=keys["planner"])
        assert got.status_code == 200, name
        assert got.content == (out / name).read_bytes(), name


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"orders": [{**ORDERS[0], "site_id": "S9"}]}, "orders[0].site_id"),
        ({"orders": [ORDERS[1], {**ORDERS[0], "product_id": "mangue"}]}, "orders[1].product_id"),
        ({"orders": [{**ORDERS[0], "site_id": "F1"}]}, "orders[0].site_id"),
        ({"orders": [{**ORDERS[0], "date": "2025-03-12"}]}, "orders[0].date"),
        ({"orders": [{**ORDERS[0], "quantity": -3}]}, "quantity"),
        ({"week": "2025-W20", "orders": []}, "week"),
        ({"week": "2025-W99"}, "week"),
        ({"sharing": "lottery"}, "sharing"),
        ({"knobs": {"drop_penalty_eur": "a lot"}}, "knobs"),
        ({"what_if": {"farms": ["S1"]}}, "what_if.farms[0]"),
        ({"what_if": {"products": {"mangue": 0.5}}}, "what_if.products.mangue"),
        ({"what_if": {"products": {"lait": 20}}}, "what_if.products.lait"),
    ],
)
def test_bad_week_requests_are_422_naming_the_field(client, keys, tiny_week, store, change, field):
    body = {"week": "2025-W10", "orders": ORDERS, **change}
    r = client.post("/v1/territories/tiny/weeks", json=body, headers=keys["planner"])
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.text
    assert jobs.list_jobs(store, kind="week")[1] == 0  # nothing queued


def test_negative_availability_is_refused_naming_file_row_and_column(client, keys):
    files = {p.stem: (p.name, p.read_bytes(), "text/csv") for p in sorted(TINY.glob("*.csv"))}
    bad = AVAILABILITY.replace("F2,carotte,10", "F2,carotte,-10")
    files["availability"] = ("availability.csv", bad.encode(), "text/csv")
    r = client.put("/v1/territories/tiny", files=files, headers=keys["planner"])
    assert r.status_code == 422, r.text
    assert "availability.csv" in r.text and "kg" in r.text and "3" in r.text


def test_a_week_job_carries_the_fill_rates_of_an_earlier_week_job(client, keys, store, tiny_week):
    h = keys["logistics"]
    body = {"week": "2025-W10", "orders": ORDERS, "knobs": KNOBS, "time_limit_s": 120}
    first = client.post("/v1/territories/tiny/weeks", json=body, headers=h).json()["job_id"]
    _run(store, first)
    r = client.post("/v1/territories/tiny/weeks", json={**body, "carry_job_id": first}, headers=h)
    assert r.status_code == 202, r.text
    second = r.json()["job_id"]
    _run(store, second)
    history = read_csv_any(io.BytesIO(jobs.artifact(store, second, "fill_history.csv")[0]))
    once = read_csv_any(io.BytesIO(jobs.artifact(store, first, "fill_history.csv")[0]))
    assert history["ordered_kg"].sum() == pytest.approx(2 * once["ordered_kg"].sum())
    # a job of another kind is not a week to carry
    bad = client.post(
        "/v1/territories/tiny/weeks", json={**body, "carry_job_id": "nope"}, headers=h
    )
    assert bad.status_code == 422 and "carry_job_id" in bad.text
