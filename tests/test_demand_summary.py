"""The demand stage's figures: lines left out and lines only flagged are counted apart."""

from __future__ import annotations

import shutil

from api import pipeline

EXTRA = "2025-01-08,S2,carotte,5000,kg,2.5\n2025-01-08,S1,carotte,-4,kg,2.5\n"


def test_kept_outliers_are_flagged_not_counted_as_rejected(tiny_dir, tmp_path):
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_dir, folder)
    with (folder / "orders.csv").open("a", encoding="utf-8") as orders:
        orders.write(EXTRA)  # 5 t of carrots: absurd but kept; a negative quantity: left out
    stage = pipeline.run_demand(pipeline.load(folder, strict=False))
    kept = stage.rejects["kept"]
    assert kept.sum() == 1 and (~kept).sum() >= 1
    summary = pipeline.demand_summary(stage)
    assert summary["flagged_rows"] == 1
    assert summary["rejected_rows"] == len(stage.rejects) - 1
