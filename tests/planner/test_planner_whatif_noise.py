"""What-if KPI differences flagged when they are within the solvers' optimality uncertainty."""

from __future__ import annotations

import planner


def kpis(**over) -> dict:
    """A plan's KPIs: 100 € from its bound (0.1 % gap), shortfall 2 €/kg, waste free."""
    base = {
        "uncertainty_eur": 100.0,
        "gap_pct": 0.1,
        "short_eur_per_kg": 2.0,
        "waste_eur_per_kg": 0.0,
        "demand_kg": 10_000.0,
        "coverage_pct": 95.0,
        "shortfall_kg": 500.0,
        "waste_kg": 300.0,
        "purchase_cost_eur": 100_000.0,
        "revenue_farm_min_eur": 2_000.0,
        "revenue_farm_median_eur": 5_000.0,
        "floor_gap_eur": 0.0,
        "farms_below_floor": 0,
        "local_share_pct": 60.0,
        "farms_supplying": 40,
        "beds": 10_000,
    }
    base.update(over)
    return base


def test_euro_kpis_are_noise_below_both_plans_uncertainty():
    other = {"uncertainty_eur": 50.0}
    assert (
        planner.within_noise(kpis(), kpis(purchase_cost_eur=100_149.0, **other))[
            "purchase_cost_eur"
        ]
        is True
    )
    assert (
        planner.within_noise(kpis(), kpis(purchase_cost_eur=100_151.0, **other))[
            "purchase_cost_eur"
        ]
        is False
    )


def test_kilos_and_coverage_are_valued_at_the_objectives_price():
    other = {"uncertainty_eur": 50.0}  # 150 € in all: 75 kg short, 0.75 coverage points
    noise = planner.within_noise(kpis(), kpis(shortfall_kg=570.0, coverage_pct=94.3, **other))
    assert noise["shortfall_kg"] is True and noise["coverage_pct"] is True
    noise = planner.within_noise(kpis(), kpis(shortfall_kg=580.0, coverage_pct=94.2, **other))
    assert noise["shortfall_kg"] is False and noise["coverage_pct"] is False


def test_a_free_kpi_is_always_noise_and_counts_follow_the_gap():
    noise = planner.within_noise(kpis(), kpis(waste_kg=5_000.0, farms_supplying=41, beds=10_015))
    assert noise["waste_kg"] is True  # the objective does not price waste here
    assert noise["farms_supplying"] is False  # 1 farm > 0.2 % of 41
    assert noise["beds"] is True  # 15 beds ≤ 0.2 % of 10,015


def test_without_a_bound_the_noise_is_unknown():
    noise = planner.within_noise(kpis(), kpis(uncertainty_eur=None, gap_pct=None))
    assert set(noise.values()) == {None}


def test_beds_kept_counts_the_same_crop_and_week_per_farm():
    import pandas as pd

    cols = ["producer_id", "crop_id", "plant_week", "beds"]
    base = pd.DataFrame(
        [
            ("A", "tomate", 10, 10),
            ("A", "salade", 12, 10),
            ("B", "chou", 20, 4),
            ("C", "ail", 5, 3),
        ],
        columns=cols,
    )
    other = pd.DataFrame(
        [
            ("A", "tomate", 10, 12),
            ("A", "salade", 13, 10),
            ("B", "chou", 20, 3),
            ("D", "ail", 5, 3),
        ],
        columns=cols,
    )
    kept = planner.beds_kept(base, other).set_index("producer_id")
    # A: tomate kept (10 of 10, the 2 extra do not count), salade moved a week (0 of 10)
    assert kept.loc["A", ["base_beds", "beds", "kept", "kept_pct"]].tolist() == [20, 22, 10, 50]
    assert kept.loc["B", "kept_pct"] == 75 and kept.loc["C", "kept_pct"] == 0
    assert kept.loc["C", "beds"] == 0 and "D" not in kept.index


def test_farms_growing_no_touched_product_are_not_affected():
    import pandas as pd

    from planner.scenario import Change, Scenario

    cols = ["producer_id", "crop_id", "product_id", "plant_week", "beds"]
    base = pd.DataFrame(
        [
            ("A", "pdt_prim", "pomme_de_terre", 10, 10),
            ("A", "salade", "salade", 12, 4),
            ("B", "pdt_cons", "pomme_de_terre", 14, 6),
            ("C", "chou", "chou", 20, 4),
        ],
        columns=cols,
    )
    drop_a = Scenario(name="sans-A", changes=(Change(kind="drop_farm", producer_id="A"),))
    assert drop_a.touched_products(base) == {"pomme_de_terre", "salade"}
    shock = Scenario(
        name="gel", changes=(Change(kind="yield_shock", crop_id="chou", weeks=(1, 9)),)
    )
    assert shock.touched_products(base) == {"chou"}
    everywhere = Scenario(name="+20 %", changes=(Change(kind="demand", factor=1.2),))
    assert everywhere.touched_products(base) is None

    other = base.loc[base["producer_id"] != "A"]
    kept = planner.beds_kept(base, other, {"A", "B"}).set_index("producer_id")
    assert kept["affected"].to_dict() == {"A": True, "B": True, "C": False}
    assert planner.beds_kept(base, other, None)["affected"].all()


def test_affected_farms_are_those_able_to_grow_a_touched_product():
    import pandas as pd

    from planner.scenario import Change, Scenario

    base = pd.DataFrame(
        {"producer_id": ["A", "C"], "crop_id": ["pdt", "chou"], "product_id": ["pdt", "chou"]}
    )

    class Terr:  # the two tables affected_farms reads
        crops = pd.DataFrame({"crop_id": ["pdt", "chou"], "product_id": ["pdt", "chou"]})
        producer_crops = pd.DataFrame(
            {"producer_id": ["A", "B", "C", "C"], "crop_id": ["pdt", "pdt", "chou", "pdt"]}
        )

    drop_a = Scenario(name="sans-A", changes=(Change(kind="drop_farm", producer_id="A"),))
    # B and C could grow A's potatoes (C grows cabbage in the base plan): both reachable
    assert drop_a.affected_farms(base, Terr()) == {"A", "B", "C"}
    gel = Scenario(name="gel", changes=(Change(kind="yield_shock", crop_id="chou", weeks=(1, 2)),))
    assert gel.affected_farms(base, Terr()) == {"C"}
