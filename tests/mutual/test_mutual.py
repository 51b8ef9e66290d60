"""``vivres mutualisation`` on the tiny territory: pooled vs stand-alone, the split to the
cent, the core verdict, repeatability, and bad input (exit 2, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from api.cli import main
from core.csvio import read_csv_any

COUNTS = ["--solution-limit", "200", "--time-limit", "120", "--workers", "1"]


@pytest.fixture
def mutual_dir(mutual_territory, tmp_path: Path) -> Path:
    return mutual_territory(tmp_path / "tiny")


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _mutual(data: Path, out: Path, capsys, *extra: str):
    return run(
        ["mutualisation", "--week", "2025-W10", "--data", str(data), "--out", str(out), *COUNTS,
         *extra],
        capsys,
    )  # fmt: skip


@pytest.mark.slow
def test_pooled_week_split_to_the_cent_with_core_verdict(mutual_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = _mutual(mutual_dir, out, capsys)
    assert code == 0, err
    summary = json.loads((out / "mutualisation.json").read_text())
    coalitions = read_csv_any(out / "coalitions.csv")
    split = read_csv_any(out / "split.csv")
    assert summary["assessable"] and summary["coalitions"] == 7 == len(coalitions)
    cost = dict(zip(coalitions["coalition"], coalitions["cost_eur"], strict=True))
    alone = cost["epi"] + cost["gpa"] + cost["chan"]
    assert summary["pooled_eur"] == cost["chan+epi+gpa"] <= alone + 1e-9
    assert summary["standalone_eur"] == pytest.approx(alone)
    # every key splits the pooled cost to the cent
    for key in ("shapley_eur", "per_kg_eur", "per_stop_eur", "per_km_eur", "epm_eur"):
        assert round(split[key].sum() * 100) == round(summary["pooled_eur"] * 100), key
    # the chantier has no vehicle: alone, its restaurant's goods are all outsourced
    chan = coalitions.set_index("coalition").loc["chan"]
    assert chan["vehicles"] == 0 and chan["outsourced_kg"] == chan["kg_to_move"] > 0
    assert "no vehicle" in chan["not_served"]
    # a coalition's cost is its routes, its vehicle-days and what it cannot carry
    for row in coalitions.itertuples():
        assert row.cost_eur == pytest.approx(
            row.route_eur + row.fixed_eur + row.outsourced_eur, abs=0.011
        )
        assert row.outsourced_eur == pytest.approx(0.35 * row.outsourced_kg, abs=0.06)
        assert 0 <= row.outsourced_kg <= row.kg_to_move + 0.1
    verdict = " ".join(stdout.split())
    if summary["in_core"]:
        assert "est dans le cœur" in verdict and not summary["blocking"]
    else:
        assert "n'est pas dans le cœur" in verdict and summary["blocking"]
        worst = summary["blocking"][0]
        members = worst["coalition"].split("+")
        shares = split.set_index("organisation_id")["shapley_eur"]
        assert shares[members].sum() - cost[worst["coalition"]] == pytest.approx(
            worst["pays_more_than_alone_eur"], abs=0.011
        )
    assert summary["core_empty"] == (summary["least_core_eps_eur"] > 0.005)
    html = (out / "rapport.html").read_text()
    assert "Économies d'intégration" in html and "Hypothèses" in html
    assert (out / "split.xlsx").exists() and (out / "coalitions.xlsx").exists()
    # same inputs and seed, another run (and another process pool size): the same report
    again = tmp_path / "again"
    code, _, err = run(
        ["mutualisation", "--week", "2025-W10", "--data", str(mutual_dir), "--out", str(again),
         "--solution-limit", "200", "--time-limit", "120", "--workers", "2"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    for name in ("coalitions.csv", "split.csv", "rapport.html"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_without_organisations_the_report_says_pooling_cannot_be_assessed(
    mutual_territory, tmp_path, capsys
):
    data = mutual_territory(tmp_path / "plain", organisations=False)
    out = tmp_path / "out"
    code, stdout, err = _mutual(data, out, capsys)
    assert code == 0, err
    summary = json.loads((out / "mutualisation.json").read_text())
    assert summary["assessable"] is False
    assert "one organisation owns every shop" in summary["reason"]
    assert "cannot be assessed" in stdout
    assert "ne peut pas être évaluée" in (out / "rapport.html").read_text()
    assert not (out / "split.csv").exists()


def _edit(data: Path, name: str, row: int, column: str, value: str) -> None:
    frame = pd.read_csv(data / f"{name}.csv", dtype=str, keep_default_na=False)
    frame.loc[row, column] = value
    frame.to_csv(data / f"{name}.csv", index=False)


@pytest.mark.parametrize(
    ("change", "extra", "expected"),
    [
        (("sites", 4, "organisation_id", "nobody"), (), "sites.csv, ligne 6"),
        (("sites", 4, "organisation_id", "nobody"), (), "organisation inconnu"),
        (("sites", 5, "organisation_id", ""), (), "needs its owning organisation"),
        (("vehicles", 1, "organisation_id", "ghost"), (), "vehicles.csv, ligne 3"),
        (None, ("--vehicle-day-eur", "-5"), "vehicle_day_eur doit être un nombre ≥ 0"),
        (None, ("--outsourced-eur-per-kg", "nan"), "outsourced_eur_per_kg"),
    ],
)
def test_bad_input_exits_2_naming_it(mutual_dir, tmp_path, capsys, change, extra, expected):
    if change:
        _edit(mutual_dir, *change)
    out = tmp_path / "out"
    code, stdout, err = _mutual(mutual_dir, out, capsys, *extra)
    assert code == 2
    assert expected in stdout + err
    assert "Traceback" not in stdout + err
    assert not out.exists() or not any(out.glob("*.csv"))


def test_bad_week_exits_2(mutual_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = run(
        ["mutualisation", "--week", "2025-W99", "--data", str(mutual_dir), "--out", str(out)],
        capsys,
    )
    assert code == 2 and "--week" in stdout + err
    code, stdout, err = run(
        ["mutualisation", "--week", "2025-W20", "--data", str(mutual_dir), "--out", str(out)],
        capsys,
    )
    assert code == 2 and "no order in week" in stdout + err


@pytest.mark.slow
def test_beyond_exact_up_to_the_shapley_value_is_sampled_with_its_interval(mutual_dir):
    from api.mutual import MutualParams, run_mutual
    from api.params import route_params
    from api.week import parse_week
    from core.territory import load_territory

    territory = load_territory(mutual_dir, strict=False)
    params = MutualParams(workers=1, exact_up_to=2, num_orders=12, seed=5)
    routes = route_params(day_solution_limit=200, time_limit_s=120)
    stage = run_mutual(territory, [parse_week("2025-W10")], routes, params)
    s = stage.summary
    assert s["shapley_method"] == "sampled (12 orders, 95 % CI)"
    assert s["core_checked_on"] == "the sampled coalitions only"
    assert round(sum(s["shapley"].values()) * 100) == round(s["pooled_eur"] * 100)
    assert (stage.split["shapley_half_width_eur"] >= 0).all()
    again = run_mutual(territory, [parse_week("2025-W10")], routes, params)
    assert again.split.equals(stage.split)  # same seed, same sample, same split
    # two weeks: the coalition costs add up week by week
    both = run_mutual(territory, [parse_week("2025-W10"), parse_week("2025-W06")], routes, params)
    assert both.summary["weeks"] == ["2025-W10", "2025-W06"]
    assert both.summary["pooled_eur"] >= s["pooled_eur"]


def test_an_owner_without_organisations_csv_is_refused(mutual_dir, tmp_path, capsys):
    (mutual_dir / "organisations.csv").unlink()
    code, stdout, err = _mutual(mutual_dir, tmp_path / "out", capsys)
    assert code == 2
    text = " ".join((stdout + err).split())
    assert "organisation_id" in text and "no organisations.csv to name it" in text
