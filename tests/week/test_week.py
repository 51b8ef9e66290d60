"""The hub's real week (``vivres week``): kilo accounting, fair sharing, sheets, bad input."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from api.cli import main
from core.csvio import read_csv_any
from routing.sharing.check import maxmin_fill_rate

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"
#: routing stopped by counts (time is a safety cap only)
COUNTS = ["--solution-limit", "200", "--time-limit", "120"]

WEEK_ORDERS = """date,site_id,product_id,quantity,unit,unit_price_eur
2025-03-04,S1,carotte,30,kg,2.5
2025-03-04,S1,laitue,50,piece,1.9
2025-03-04,S1,lait,20,litre,1.6
2025-03-05,S2,carotte,10,kg,2.5
2025-03-05,S2,pomme,15,kg,3.1
2025-03-06,S3,laitue,50,piece,1.9
2025-03-06,S3,carotte,20,kg,2.5
"""
#: carotte 60 ordered / 30 available; laitue 40 kg (100 pieces) / 24 kg (the hub's 8 kg of
#: lettuce keep 5 days: set aside); pomme 15 / 50 + stock
AVAILABILITY = """week_start,site_id,product_id,kg
2025-03-03,F1,carotte,20
2025-03-03,F2,carotte,10
2025-03-03,F1,laitue,24
2025-03-03,HUB,laitue,8
2025-03-03,F2,pomme,50
2025-03-03,HUB,pomme,5
"""


def _make_week_dir(parent: Path) -> Path:
    target = parent / "tiny"
    shutil.copytree(TINY, target)
    orders = read_csv_any(target / "orders.csv")
    extra = read_csv_any(pd.io.common.StringIO(WEEK_ORDERS))
    pd.concat([orders, extra]).to_csv(target / "orders.csv", index=False)
    (target / "availability.csv").write_text(AVAILABILITY)
    return target


@pytest.fixture
def week_dir(tmp_path: Path) -> Path:
    return _make_week_dir(tmp_path)


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@dataclass(frozen=True)
class WeekRun:
    code: int
    stdout: str
    stderr: str
    out: Path


@pytest.fixture(scope="module")
def base_week(tmp_path_factory: pytest.TempPathFactory) -> WeekRun:
    """``vivres week --week 2025-W10`` on ``_make_week_dir``'s territory, run once for the tests
    that only read its outputs (its folder is theirs to read, not to change)."""
    folder = tmp_path_factory.mktemp("base_week")
    data = _make_week_dir(folder)
    out = folder / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["week", "--week", "2025-W10", "--data", str(data), "--out", str(out), *COUNTS])
    return WeekRun(code, stdout.getvalue(), stderr.getvalue(), out)


@pytest.mark.xdist_group("base_week")  # one run of it under -n
def test_every_ordered_kilo_is_delivered_or_reported(base_week):
    code, stdout, err, out = base_week.code, base_week.stdout, base_week.stderr, base_week.out
    assert code == 0, err
    summary = json.loads((out / "week.json").read_text())
    lines = read_csv_any(out / "allocation.csv")
    reported = lines[["short_supply_kg", "storage_kg", "fleet_kg"]].sum(axis=1)
    assert np.allclose(lines["delivered_kg"] + reported, lines["ordered_kg"], atol=1e-3)
    assert summary["ordered_kg"] == pytest.approx(60 + 40 + 20.6 + 15)
    assert abs(summary["unaccounted_kg"]) < 0.01
    # routes carry exactly the allocations that were not reported as fleet
    assert summary["delivered_on_routes_kg"] == pytest.approx(summary["delivered_kg"], abs=0.01)
    by_product = lines.groupby("product_id")[["ordered_kg", "allocated_kg"]].sum()
    assert by_product.loc["carotte", "allocated_kg"] == pytest.approx(30.0, abs=1e-4)
    assert by_product.loc["laitue", "allocated_kg"] <= 24.0 + 1e-6
    assert by_product.loc["pomme", "allocated_kg"] == pytest.approx(15.0)  # not short
    assert by_product.loc["lait", "allocated_kg"] == pytest.approx(20.6)  # bought in
    laitue = lines.loc[lines["product_id"] == "laitue", "allocated_kg"].to_numpy()
    assert np.allclose(laitue / 0.4, np.round(laitue / 0.4), atol=1e-6)  # whole pieces
    assert set(summary["shared_products"]) == {"carotte", "laitue"}
    assert summary["stock_set_aside_kg"] == pytest.approx(8.0)
    supply = {"carotte": 30.0, "laitue": 24.0}
    week_orders = lines.rename(columns={"ordered_kg": "ordered_kg"})
    assert summary["min_fill_rate"] == pytest.approx(
        maxmin_fill_rate(week_orders, supply), abs=0.01
    )
    assert "approvisionnement insuffisant" in " ".join(stdout.split())
    # sheets: one page per shop / farm, French labels, every shop has a delivery note
    sheets = out / "feuilles"
    notes = (sheets / "livraison.html").read_text()
    assert notes.count('class="page"') == 3 and "@page { size: A4" in notes
    assert "approvisionnement insuffisant" in notes
    assert {p.name for p in (sheets / "livraison").iterdir()} == {"S1.html", "S2.html", "S3.html"}
    pickups = read_csv_any(sheets / "enlevements.csv")
    assert set(pickups["Ferme"]) == {"F1", "F2"}
    history = read_csv_any(out / "fill_history.csv")
    assert set(history["site_id"]) == {"S1", "S2", "S3"}


def test_the_week_sheets_come_out_in_english_with_lang_en(week_dir, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["week", "--week", "2025-W10", "--data", str(week_dir), "--out", str(out), *COUNTS]
    code, stdout, err = run([*argv, "--lang", "en"], capsys)
    assert code == 0, err
    sheets = out / "feuilles"
    notes = (sheets / "livraison.html").read_text(encoding="utf-8")
    assert notes.startswith('<!doctype html><html lang="en">')
    assert "Delivery note — " in notes and "short supply (fair sharing)" in notes
    assert "Bon de livraison" not in notes and "approvisionnement" not in notes
    one = (sheets / "livraison" / "S1.html").read_text(encoding="utf-8")
    assert "Week 2025-W10 — deliveries:" in one and "Ordered (kg)" in one
    for name, words in (
        ("preparation.html", ("Picking — ", "To prepare (kg)")),
        ("enlevements.html", ("Pickup note — ", "To pick up (kg)")),
        ("totaux.html", ("Totals of week 2025-W10 — shops", "Short supply (kg)")),
    ):
        page = (sheets / name).read_text(encoding="utf-8")
        assert all(w in page for w in words), name
        assert 'lang="en"' in page and "Semaine" not in page, name
    pickups = read_csv_any(sheets / "enlevements.csv")
    assert {"Farm", "Visit", "Product", "To pick up (kg)"} <= set(pickups.columns)
    assert set(pickups["Farm"]) == {"F1", "F2"}
    assert "short supply" in " ".join(stdout.split())  # the console's table too


@pytest.mark.xdist_group("base_week")  # one run of it under -n
def test_the_carried_history_lifts_last_weeks_worst_served_shop(
    base_week, week_dir, tmp_path, capsys
):
    # the week without the history is ``base_week`` (same data, same options)
    out = base_week.out
    assert base_week.code == 0, base_week.stderr
    base = ["week", "--week", "2025-W10", "--data", str(week_dir), *COUNTS]
    history = tmp_path / "history.csv"
    pd.DataFrame({"site_id": ["S3"], "ordered_kg": [100.0], "allocated_kg": [20.0]}).to_csv(
        history, index=False
    )
    assert main([*base, "--out", str(tmp_path / "carried"), "--carry", str(history)]) == 0
    capsys.readouterr()
    before = read_csv_any(out / "allocation.csv").groupby("site_id")["allocated_kg"].sum()
    after = (
        read_csv_any(tmp_path / "carried" / "allocation.csv")
        .groupby("site_id")["allocated_kg"]
        .sum()
    )
    assert after["S3"] > before["S3"] + 1.0


def test_proportional_sharing_gives_each_shop_the_same_share(week_dir, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["week", "--week", "2025-03-05", "--data", str(week_dir), "--out", str(out)]
    assert main([*argv, "--sharing", "proportional", *COUNTS]) == 0
    capsys.readouterr()
    lines = read_csv_any(out / "allocation.csv")
    carrots = lines.loc[lines["product_id"] == "carotte"]
    assert np.allclose(carrots["allocated_kg"] / carrots["ordered_kg"], 0.5)


def _write_orders(path: Path, rows: str) -> Path:
    path.write_text("date,site_id,product_id,quantity,unit,unit_price_eur\n" + rows)
    return path


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown_shop", ["week_orders.csv", "row 3", "site_id"]),
        ("unknown_product", ["week_orders.csv", "row 2", "product_id"]),
        ("farm_orders", ["week_orders.csv", "row 2", "site_id", "point of sale"]),
        ("outside_week", ["week_orders.csv", "row 2", "date"]),
        ("negative_availability", ["availability.csv", "row 3", "kg"]),
        ("no_orders", ["orders.csv", "date", "no order in week 2025-W20"]),
        ("bad_row_in_the_week", ["orders.csv", "row 14", "product_id"]),
        ("bad_week", ["--week"]),
        ("bad_sharing", ["sharing", "method"]),
    ],
)
def test_bad_input_exits_2_naming_file_row_and_column(week_dir, tmp_path, capsys, case, expected):
    out = tmp_path / "out"
    argv = ["week", "--week", "2025-W10", "--data", str(week_dir), "--out", str(out), *COUNTS]
    argv += ["--lang", "en"]  # the English wording (the French one: tests/test_cli.py)
    orders = tmp_path / "week_orders.csv"
    if case == "unknown_shop":
        _write_orders(orders, "2025-03-04,S1,carotte,3,kg,\n2025-03-04,S9,carotte,3,kg,\n")
        argv += ["--orders", str(orders)]
    elif case == "unknown_product":
        _write_orders(orders, "2025-03-04,S1,mangue,3,kg,\n")
        argv += ["--orders", str(orders)]
    elif case == "farm_orders":
        _write_orders(orders, "2025-03-04,F1,carotte,3,kg,\n")
        argv += ["--orders", str(orders)]
    elif case == "outside_week":
        _write_orders(orders, "2025-03-14,S1,carotte,3,kg,\n")
        argv += ["--orders", str(orders)]
    elif case == "negative_availability":
        text = AVAILABILITY.replace("F2,carotte,10", "F2,carotte,-5")
        (week_dir / "availability.csv").write_text(text)
    elif case == "no_orders":
        argv[2] = "2025-W20"
    elif case == "bad_row_in_the_week":  # the territory's own orders, read leniently
        with (week_dir / "orders.csv").open("a") as fh:
            fh.write("2025-03-05,S2,mangue,3,kg,\n")
    elif case == "bad_week":
        argv[2] = "2025-13-45"
    elif case == "bad_sharing":
        argv += ["--sharing", "lottery"]
    code, _, err = run(argv, capsys)
    assert code == 2, err
    for word in expected:
        assert word in err, (word, err)
    assert "Traceback" not in err
    assert not out.exists()  # nothing half-written


def test_a_what_if_shows_the_new_allocation_and_routes_against_the_base(week_dir, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["week", "--week", "2025-W10", "--data", str(week_dir), "--out", str(out), *COUNTS]
    argv += ["--what-if-farm", "P1", "--what-if-product", "lait=50%"]
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    base = read_csv_any(out / "allocation.csv").groupby("product_id")["allocated_kg"].sum()
    other = (
        read_csv_any(out / "what_if" / "allocation.csv").groupby("product_id")["allocated_kg"].sum()
    )
    assert base["carotte"] == pytest.approx(30.0, abs=1e-4)
    assert other["carotte"] == pytest.approx(10.0, abs=1e-4)  # F1 (P1) delivers nothing
    assert other["laitue"] == pytest.approx(0.0, abs=1e-6)  # only F1 confirmed lettuce
    assert other["lait"] == pytest.approx(0.5 * 20.6, abs=1e-6)  # bought in, at 50 %
    table = read_csv_any(out / "what_if_compare.csv")
    assert (table["allocated_change_kg"] <= 1e-6).all()
    figures = json.loads((out / "what_if_compare.json").read_text())
    assert figures["short_supply_kg"]["what_if"] > figures["short_supply_kg"]["base"]
    assert "simulation" in stdout


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (["--what-if-farm", "S1"], "not a farm"),
        (["--what-if-product", "mangue=0.5"], "not a product"),
        (["--what-if-product", "carotte"], "PRODUCT=SHARE"),
    ],
)
def test_bad_what_ifs_exit_2(week_dir, tmp_path, capsys, option, expected):
    out = tmp_path / "out"
    argv = ["week", "--week", "2025-W10", "--data", str(week_dir), "--out", str(out), *option]
    code, _, err = run(argv, capsys)
    assert code == 2 and expected in err
    assert not out.exists()


def test_what_the_hub_cannot_hold_is_reported_as_storage(week_dir, tmp_path, capsys):
    (week_dir / "storage.csv").write_text(
        "site_id,storage_class,capacity_kg\nHUB,chilled,10\nF1,chilled,500\n"
    )
    out = tmp_path / "out"
    argv = ["week", "--week", "2025-W10", "--data", str(week_dir), "--out", str(out), *COUNTS]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    lines = read_csv_any(out / "allocation.csv").set_index("product_id")
    # 20 litres (20.6 kg) of chilled milk, a hub that holds 10 kg of chilled: 9 whole litres
    milk = lines.loc["lait"]
    assert milk["allocated_kg"] == pytest.approx(9 * 1.03, abs=1e-4)
    assert milk["storage_kg"] == pytest.approx(20.6 - 9 * 1.03, abs=1e-4)
    assert milk["short_supply_kg"] == pytest.approx(0.0, abs=1e-6)
    summary = json.loads((out / "week.json").read_text())
    assert summary["reported_kg"]["storage"] == pytest.approx(20.6 - 9 * 1.03, abs=1e-3)
    assert abs(summary["unaccounted_kg"]) < 0.01


def test_products_the_farms_did_not_confirm_come_from_the_plan_harvest(week_dir, tmp_path, capsys):
    text = (week_dir / "availability.csv").read_text()
    (week_dir / "availability.csv").write_text(
        "\n".join(line for line in text.splitlines() if "pomme" not in line) + "\n"
    )
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "harvest.csv").write_text(
        "week_start,producer_id,site_id,product_id,storage_class,kg\n"
        "2025-03-03,P2,F2,pomme,ambient,6\n2025-03-10,P2,F2,pomme,ambient,99\n"
    )
    out = tmp_path / "out"
    argv = ["week", "--week", "2025-W10", "--data", str(week_dir), "--out", str(out)]
    code, _, err = run([*argv, "--plan", str(plan), *COUNTS], capsys)
    assert code == 0, err
    products = read_csv_any(out / "products.csv").set_index("product_id")
    assert products.at["pomme", "source"] == "plan"
    assert products.at["pomme", "allocated_kg"] == pytest.approx(6.0, abs=1e-4)
    assert products.at["lait", "source"] == "hub"  # no farm grows milk: bought in
    pickups = read_csv_any(out / "pickups.csv")
    assert pickups.loc[pickups["product_id"] == "pomme", "kg"].sum() == pytest.approx(6.0)


def _supply(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    """carotte supply rows ``(site, kg, committed_kg)`` as ``week_supply`` returns them."""
    return pd.DataFrame(
        {
            "site_id": [r[0] for r in rows],
            "product_id": "carotte",
            "storage_class": "ambient",
            "kg": [r[1] for r in rows],
            "source": "plan",
            "set_aside_kg": 0.0,
            "committed_kg": [r[2] for r in rows],
        }
    )


@pytest.mark.parametrize(
    ("need", "expected_kg", "to_stock"),
    [
        (15.0, {"F1": 18.0, "F2": 0.0}, 3.0),  # 90 % of the signed 20 kg bought anyway
        (25.0, {"F1": 22.5, "F2": 2.5}, 0.0),  # signed kilos first, then 25 % of each unsigned
        (40.0, {"F1": 30.0, "F2": 10.0}, 0.0),  # then the same share of every unsigned kilo
    ],
)
def test_signed_contract_kilos_are_collected_first_and_bought_within_the_tolerance(
    need, expected_kg, to_stock
):
    from api.week import farm_pickups

    supply = _supply([("F1", 30.0, 20.0), ("F2", 10.0, 0.0), ("HUB", 0.0, 0.0)])
    pickups = farm_pickups(supply, pd.Series({"carotte": need}), "HUB", {"F1": 0.9})
    got = pickups.set_index("site_id")
    for site, kg in expected_kg.items():
        assert got.at[site, "kg"] == pytest.approx(kg)
        assert got.at[site, "surplus_kg"] == pytest.approx(
            supply.set_index("site_id").at[site, "kg"] - kg
        )
    assert got["to_stock_kg"].sum() == pytest.approx(to_stock)
    assert got.at["F1", "committed_kg"] == 20.0


def test_without_signed_kilos_every_farm_gives_the_same_share():
    from api.week import farm_pickups

    supply = _supply([("F1", 30.0, 0.0), ("F2", 10.0, 0.0)])
    pickups = farm_pickups(supply, pd.Series({"carotte": 20.0}), "HUB", {"F1": 0.9})
    assert pickups["kg"].tolist() == pytest.approx([15.0, 5.0])
    assert pickups["to_stock_kg"].sum() == 0.0


def test_the_week_buys_the_plans_signed_kilos_as_commitments(week_dir, tmp_path, capsys):
    """A plan harvest with signed (frozen-contract) kilos: the farm under contract is
    collected first, beyond the shops' need within its volume tolerance (to the hub's stock)."""
    text = (week_dir / "availability.csv").read_text()
    (week_dir / "availability.csv").write_text(
        "\n".join(line for line in text.splitlines() if "carotte" not in line) + "\n"
    )
    (week_dir / "contract_terms.csv").write_text("producer_id,volume_tolerance_pct\n*,10\nP2,50\n")
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "harvest.csv").write_text(
        "week_start,producer_id,site_id,product_id,storage_class,kg,committed_kg\n"
        "2025-03-03,P1,F1,carotte,ambient,100,0\n"
        "2025-03-03,P2,F2,carotte,ambient,100,100\n"
    )
    out = tmp_path / "out"
    argv = ["week", "--week", "2025-W10", "--data", str(week_dir), "--out", str(out)]
    code, _, err = run([*argv, "--plan", str(plan), *COUNTS], capsys)
    assert code == 0, err
    pickups = read_csv_any(out / "pickups.csv").query("product_id == 'carotte'")
    got = pickups.set_index("site_id")
    # shops ordered 60 kg: the signed farm F2 (tolerance 50 %) gives 60, the free farm F1 none
    assert got.at["F2", "kg"] == pytest.approx(60.0, abs=1e-3)
    assert got.at["F1", "kg"] == pytest.approx(0.0, abs=1e-3)
    assert got.at["F2", "committed_kg"] == pytest.approx(100.0)
    summary = json.loads((out / "week.json").read_text())
    assert summary["committed_kg"] == pytest.approx(100.0)
    assert summary["committed_to_stock_kg"] == pytest.approx(0.0, abs=1e-3)
