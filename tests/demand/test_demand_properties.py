"""Invariants checked over generated inputs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import demand
from demand.orders import normalise_orders

PRODUCTS = pd.DataFrame(
    {
        "product_id": ["a", "b"],
        "unit": ["kg", "piece"],
        "kg_per_unit": [1.0, 0.25],
        "storage_class": ["fresh", "ambient"],
    }
)


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=6),
    first=st.floats(0, 300),
    further=st.floats(0, 200),
    amounts=st.lists(st.floats(0.01, 400), min_size=1, max_size=12),
)
def test_ledger_balances(sizes, first, further, amounts):
    n = len(sizes)
    households = pd.DataFrame(
        {
            "household_id": [f"h{i}" for i in range(n)],
            "size": sizes,
            "monthly_contribution_eur": np.linspace(10, 150, n),
            "joined": pd.to_datetime(["2025-01-01"] * n),
        }
    )
    tx = pd.DataFrame(
        {
            "timestamp": pd.date_range("2025-01-03", periods=len(amounts), freq="5D"),
            "household_id": [f"h{i % n}" for i in range(len(amounts))],
            "amount": amounts,
        }
    )
    rule = demand.CaisseRule(name="r", first_person_eur=first, additional_person_eur=further)
    ledger = demand.caisse_ledger(households, tx, rule)
    assert np.isclose(ledger["spent_eur"].sum(), sum(amounts))
    assert np.allclose(
        ledger["contributions_eur"] + ledger["cofinancing_eur"], ledger["allocations_eur"]
    )
    assert np.allclose(ledger["spent_eur"] + ledger["unspent_eur"], ledger["allocations_eur"])
    expected = first * n + further * sum(s - 1 for s in sizes)
    assert np.allclose(ledger["allocations_eur"], expected)


@settings(max_examples=25, deadline=None)
@given(
    quantities=st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]), st.sampled_from(["kg", "piece"]), st.floats(0, 19.5)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_normalised_kilos_conserve_the_convertible_quantities(quantities):
    orders = pd.DataFrame(
        {
            "row": np.arange(2, len(quantities) + 2),
            "date": pd.Timestamp("2025-03-03") + pd.to_timedelta(np.arange(len(quantities)), "D"),
            "site_id": "S1",
            "product_id": [q[0] for q in quantities],
            "unit": [q[1] for q in quantities],
            "quantity": [q[2] for q in quantities],
        }
    )
    result = normalise_orders(orders, PRODUCTS)
    # "a" ordered in pieces has no conversion (its unit is kg): rejected; all else is kept
    convertible = [(p, u, q) for p, u, q in quantities if not (p == "a" and u == "piece")]
    assert len(result.valid) + len(result.rejects) == len(quantities)
    expected = sum(q * (0.25 if u == "piece" else 1.0) for _, u, q in convertible)
    assert np.isclose(result.valid["kg"].sum(), expected)


@settings(max_examples=20, deadline=None)
@given(kg=st.lists(st.floats(0, 500), min_size=6, max_size=6))
def test_hub_demand_conserves_the_site_totals(kg):
    fc = pd.DataFrame(
        {
            "week_start": pd.to_datetime(["2026-01-05"] * 6),
            "site_id": ["S1", "S2", "S3"] * 2,
            "product_id": ["a"] * 3 + ["b"] * 3,
            "kg": kg,
        }
    )
    fc["low"] = fc["kg"] * 0.7
    fc["high"] = fc["kg"] * 1.4
    hub = demand.hub_demand(fc, PRODUCTS)
    assert np.isclose(hub["kg"].sum(), sum(kg))
    assert (hub["low"] <= hub["kg"] + 1e-9).all() and (hub["kg"] <= hub["high"] + 1e-9).all()
