"""What-if scenarios (reading, applying) and the ``vivres plan`` commands end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from planner_helpers import demand, salad

import planner
from api.cli import main
from core.csvio import read_csv_any
from core.errors import InputError
from core.territory import load_territory

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "data" / "scenarios"


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("changes:\n  - flood: {factor: 2}\n", "changes[0].flood"),
        ("changes:\n  - demand: {factor: -1}\n", "changes[0].demand.factor"),
        ("changes:\n  - demand: {}\n", "changes[0].demand"),
        (
            "changes:\n  - yield_shock: {crop: a, factor: 0.5, weeks: [30, 20]}\n",
            "changes[0].yield_shock.weeks",
        ),
        (
            "changes:\n  - yield_shock: {crop: a, product: b, factor: 0.5, weeks: [1, 2]}\n",
            "changes[0].yield_shock",
        ),
        ("changes:\n  - price: {product: tomate}\n", "changes[0].price"),
        ("changes:\n  - caisse_households: many\n", "changes[0].caisse_households"),
        ("changes: [\n", None),
    ],
)
def test_bad_scenario_files_name_the_change(tmp_path, text, where):
    path = write(tmp_path, text, "bad.yaml")
    with pytest.raises(InputError) as info:
        planner.load_scenario(path)
    message = str(info.value)
    assert message.startswith("bad.yaml")
    if where is not None:
        assert repr(where) in message


def test_shipped_scenarios_load():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        scenario = planner.load_scenario(path)
        assert scenario.changes, path


def test_apply_unknown_ids_are_input_errors(tmp_path):
    terr = salad()
    hub = demand({"salade": {3: 50}})
    path = write(tmp_path, "changes:\n  - drop_farm: ZZ\n  - demand: {factor: 2, product: x}\n")
    with pytest.raises(InputError) as info:
        planner.apply_scenario(terr, hub, planner.load_scenario(path))
    assert "changes[0].drop_farm.producer" in str(info.value)
    assert "changes[1].demand.product" in str(info.value)


def test_drop_out_demand_price_and_shock_change_the_plan(tmp_path):
    terr = salad()
    hub = demand({"salade": {3: 50}})
    base = planner.solve_plan(planner.build_plan_problem(terr, hub))
    assert int(base.plan["beds"].sum()) == 3

    # demand doubled: 100 kg = 5 beds exactly
    s = planner.load_scenario(write(tmp_path, "changes:\n  - demand: {factor: 2}\n"))
    t2, h2 = planner.apply_scenario(terr, hub, s)
    assert h2["kg"].sum() == pytest.approx(100)
    doubled = planner.solve_plan(planner.build_plan_problem(t2, h2))
    assert int(doubled.plan["beds"].sum()) == 5

    # hail in season week 3 halves the harvest: 10 kg per bed, 50 kg = 5 beds
    s = planner.load_scenario(
        write(tmp_path, "changes:\n  - yield_shock: {crop: salade_c, factor: 0.5, weeks: [3, 3]}\n")
    )
    t3, h3 = planner.apply_scenario(terr, hub, s)
    params = s.adjust_params(planner.PlanParams())
    shocked = planner.solve_plan(planner.build_plan_problem(t3, h3, params=params))
    assert int(shocked.plan["beds"].sum()) == 5
    assert shocked.harvest["kg"].sum() == pytest.approx(50)

    # the only farm drops out: everything short, for want of a farm
    s = planner.load_scenario(write(tmp_path, "changes:\n  - drop_farm: A\n"))
    t4, h4 = planner.apply_scenario(terr, hub, s)
    dropped = planner.solve_plan(planner.build_plan_problem(t4, h4))
    assert dropped.plan.empty
    assert dropped.shortfalls["reason"].str.startswith("no suitable farm").all()

    # a price change reaches the purchase cost
    s = planner.load_scenario(
        write(tmp_path, "changes:\n  - price: {product: salade, eur_per_kg: 3.0}\n")
    )
    t5, h5 = planner.apply_scenario(terr, hub, s)
    priced = planner.solve_plan(planner.build_plan_problem(t5, h5))
    assert priced.plan["revenue_eur"].sum() == pytest.approx(3.0 * priced.plan["harvest_kg"].sum())


def test_site_and_caisse_changes_scale_demand_from_the_history(tiny_dir, tmp_path):
    terr = load_territory(tiny_dir)
    hub = planner.history_demand(terr)
    s = planner.load_scenario(write(tmp_path, "changes:\n  - demand: {factor: 3, site: S1}\n"))
    _, scaled = planner.apply_scenario(terr, hub, s)
    # S1 orders all the carrots of the history: its carrots triple
    carrots = hub.loc[hub["product_id"] == "carotte", "kg"].sum()
    assert scaled.loc[scaled["product_id"] == "carotte", "kg"].sum() == pytest.approx(3 * carrots)
    s = planner.load_scenario(write(tmp_path, "changes:\n  - caisse_households: 50\n"))
    _, more = planner.apply_scenario(terr, hub, s)
    assert more["kg"].sum() > hub["kg"].sum()


@pytest.fixture
def summer_dir(tiny_copy: Path) -> Path:
    """The tiny territory with orders in the growing season too (its own stop in January)."""
    extra = (
        "2025-06-10,S1,carotte,50,kg,2.5\n2025-07-15,S2,carotte,80,kg,2.5\n"
        "2025-05-20,S3,laitue,100,piece,1.9\n2025-09-16,S2,pomme,60,kg,3.1\n"
    )
    with (tiny_copy / "orders.csv").open("a") as f:
        f.write(extra)
    return tiny_copy


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_vivres_plan_writes_every_output(summer_dir, tmp_path, capsys):
    out = tmp_path / "plan"
    code, stdout, _ = run(
        [
            "plan",
            "--data",
            str(summer_dir),
            "--no-forecast",
            "--work",
            "0.2",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stdout
    for name in (
        "plan.csv",
        "harvest.csv",
        "coverage.csv",
        "farms.csv",
        "shortfalls.csv",
        "report.json",
        "report.md",
    ):
        assert (out / name).exists(), name
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "optimal"
    assert report["best_bound"] is not None
    harvest = read_csv_any(out / "harvest.csv")
    assert list(harvest.columns) == [
        "week_start",
        "producer_id",
        "site_id",
        "product_id",
        "storage_class",
        "kg",
        "committed_kg",
    ]
    contracts = sorted(p.name for p in (out / "contracts").iterdir())
    assert contracts and all(name.startswith("P") for name in contracts)
    page = next((out / "contracts").glob("*.html")).read_text()
    assert "Contrat de culture" in page and "@media print" in page
    assert "optimal" in stdout and "couverture" in stdout
    # each contract's CSV has a spreadsheet twin holding the same values
    first = next((out / "contracts").glob("*.csv"))
    book = pd.read_excel(first.with_suffix(".xlsx"))
    for column in book.select_dtypes("datetime"):  # typed dates in the workbook
        book[column] = book[column].dt.strftime("%Y-%m-%d")
    pd.testing.assert_frame_equal(book, read_csv_any(first), check_dtype=False)


def test_vivres_plan_bad_scenario_exits_2(tiny_dir, tmp_path, capsys):
    path = write(tmp_path, "changes:\n  - drop_farm: NOPE\n", "oops.yaml")
    code, _, err = run(
        [
            "plan",
            "--data",
            str(tiny_dir),
            "--no-forecast",
            "--scenario",
            str(path),
            "--out",
            str(tmp_path / "o"),
        ],
        capsys,
    )
    assert code == 2
    assert "oops.yaml" in err and "drop_farm" in err


def test_vivres_plan_compare_prints_the_kpi_diff(summer_dir, tmp_path, capsys):
    drop = write(tmp_path, "name: sans-P1\nchanges:\n  - drop_farm: P1\n", "drop.yaml")
    dry = write(
        tmp_path,
        "name: secheresse\nchanges:\n  - yield_shock: {product: carotte, "
        "factor: 0.3, weeks: [1, 52]}\n",
        "dry.yaml",
    )
    out = tmp_path / "cmp"
    code, stdout, _ = run(
        [
            "plan",
            "compare",
            str(drop),
            str(dry),
            "--data",
            str(summer_dir),
            "--no-forecast",
            "--work",
            "0.2",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stdout
    assert "sans-P1" in stdout and "secheresse" in stdout and "manque kg" in stdout
    table = read_csv_any(out / "kpi_comparison.csv", index_col=0)
    assert {"base", "sans-P1", "secheresse"} <= set(table.columns)
    assert (out / "sans-P1" / "report.md").exists()
    # each difference is weighed against both plans' optimality uncertainty
    assert "sans-P1 within solver noise" in table.columns
    assert "dans le bruit du calcul" in stdout
    base = planner.read_kpis(out / "base")
    assert base["uncertainty_eur"] == pytest.approx(base["objective"] - base["best_bound"])
    assert base["short_eur_per_kg"] > 0
    kept = read_csv_any(out / "sans-P1" / "beds_kept.csv").set_index("producer_id")
    assert kept.loc["P1", "beds"] == 0 and "fermes qui plantent encore gardent" in stdout


def test_caisse_households_base_is_not_diluted_by_households_that_joined_late():
    # A pays 100 € a month all year; B joins in July and pays 100 € a month too: an enrolled
    # household spends 100 € a month, whatever the month it joined
    months = [f"2025-{m:02d}-15T10:00:00" for m in range(1, 13)]
    tx = pd.DataFrame(
        {
            "timestamp": months + months[6:],
            "household_id": ["A"] * 12 + ["B"] * 6,
            "amount": 100.0,
        }
    )
    per_week = planner.scenario.spending_per_household_week(tx)
    assert per_week == pytest.approx(1800 / ((365 + 184) / 7))
    alone = planner.scenario.spending_per_household_week(tx.loc[tx["household_id"] == "A"])
    assert per_week == pytest.approx(alone, rel=0.01)
