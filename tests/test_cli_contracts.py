"""``vivres contracts``: freeze from a plan table, versions, diff, and bad input → exit 2."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from api.cli import main
from core.csvio import read_csv_any
from core.territory import SAMPLE_DIR, load_territory


@pytest.fixture()
def territory_dir(tmp_path):
    folder = tmp_path / "territory"
    shutil.copytree(SAMPLE_DIR, folder)
    return folder


def _plan(tmp_path, beds: int):
    folder = tmp_path / f"plan{beds}"
    folder.mkdir()
    pd.DataFrame(
        [
            {
                "producer_id": "prod_001",
                "crop_id": "echalote",
                "plant_date": "2026-02-02",
                "beds": beds,
            },
            {
                "producer_id": "prod_001",
                "crop_id": "brocoli",
                "plant_date": "2026-03-02",
                "beds": 5,
            },
            {
                "producer_id": "prod_002",
                "crop_id": "pdt_conservation",
                "plant_date": "2026-03-09",
                "beds": 40,
            },
        ]
    ).to_csv(folder / "plan.csv", index=False)
    return folder


def test_freeze_twice_then_list_and_diff(territory_dir, tmp_path, capsys):
    args = ["contracts", "freeze", "--data", str(territory_dir), "--producer", "prod_001"]
    assert main([*args, "--plan", str(_plan(tmp_path, 7))]) == 0
    assert main([*args, "--plan", str(_plan(tmp_path, 9) / "plan.csv")]) == 0
    contracts = load_territory(territory_dir, activity=False).contracts
    assert sorted(contracts["version"].unique()) == [1, 2]
    assert set(contracts["producer_id"]) == {"prod_001"}
    latest = contracts.loc[contracts["version"] == 2].set_index("crop_id")["beds"]
    assert latest.to_dict() == {"echalote": 9, "brocoli": 5}
    capsys.readouterr()
    assert main(["contracts", "list", "--data", str(territory_dir)]) == 0
    assert "prod_001" in capsys.readouterr().out
    out_csv = tmp_path / "diff.csv"
    assert (
        main(["contracts", "diff", "prod_001", "--data", str(territory_dir), "--out", str(out_csv)])
        == 0
    )
    assert "1 of 2 lines change" in capsys.readouterr().out
    diff = read_csv_any(out_csv)
    assert diff.loc[diff["crop_id"] == "echalote", "change"].item() == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--producer", "prod_999"], "not a producer"),
        (["--producer", "prod_001", "--until", "31/02/2026"], "--until"),
        (["--producer", "prod_001", "--crop", "fraise_xx"], "no line of crop"),
        (["--producer", "prod_001", "--contract", "../../etc/x"], "--contract"),
    ],
)
def test_bad_freeze_input_exits_2_with_one_line(territory_dir, tmp_path, capsys, extra, message):
    code = main(
        [
            "contracts",
            "freeze",
            "--data",
            str(territory_dir),
            "--plan",
            str(_plan(tmp_path, 7)),
            *extra,
        ]
    )
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (territory_dir / "contracts.csv").exists()


def test_a_missing_plan_table_exits_2(territory_dir, tmp_path, capsys):
    code = main(
        [
            "contracts",
            "freeze",
            "--data",
            str(territory_dir),
            "--plan",
            str(tmp_path / "nowhere"),
            "--producer",
            "prod_001",
        ]
    )
    assert code == 2
    assert "no plan table" in capsys.readouterr().err
