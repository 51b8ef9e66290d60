"""Fair sharing of short supply: known optima, the independent LP, invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InputError
from routing.sharing import ShareParams, ShareProblem, share
from routing.sharing.check import maxmin_fill_rate


def _orders(rows):
    return pd.DataFrame(
        [(s, p, c, kg) for s, p, kg, c in rows],
        columns=["site_id", "product_id", "storage_class", "ordered_kg"],
    )


def _alloc(result):
    return result.lines.set_index(["site_id", "product_id"])["allocated_kg"]


def test_equal_shops_get_the_same_fill_rate():
    orders = _orders([("a", "x", 10, "fresh"), ("b", "x", 10, "fresh"), ("c", "x", 30, "fresh")])
    result = share(ShareProblem(orders=orders, supply={"x": 20.0}))
    assert result.min_fill_rate == pytest.approx(0.4, abs=1e-6)
    assert result.gini == pytest.approx(0.0, abs=1e-6)
    assert _alloc(result).sum() == pytest.approx(20.0)


def test_lexicographic_raises_the_next_shop_once_the_worst_is_fixed():
    # a and b share 6 kg of x (0.3 each); c alone gets 5 of its 10 kg of y (0.5, not 0.3)
    orders = _orders([("a", "x", 10, "fresh"), ("b", "x", 10, "fresh"), ("c", "y", 10, "fresh")])
    result = share(ShareProblem(orders=orders, supply={"x": 6.0, "y": 5.0}))
    rates = result.shops.set_index("site_id")["fill_rate"]
    assert rates["a"] == pytest.approx(0.3, abs=1e-6)
    assert rates["b"] == pytest.approx(0.3, abs=1e-6)
    assert rates["c"] == pytest.approx(0.5, abs=1e-6)
    assert result.levels == 2
    assert result.undistributed_kg == pytest.approx(0.0, abs=1e-6)


def test_max_min_uses_plenty_of_one_product_to_lift_a_shop_short_of_another():
    # a orders only x (short); b orders x and y (y short too): the LP gives b's x to a
    orders = _orders([("a", "x", 10, "fresh"), ("b", "x", 10, "fresh"), ("b", "y", 10, "fresh")])
    result = share(ShareProblem(orders=orders, supply={"x": 10.0, "y": 9.0}))
    rates = result.shops.set_index("site_id")["fill_rate"]
    # a + b's x = 10, b's y = 9: best min is a = (10 − xb)/10 = (xb + 9)/20 → xb = 11/3
    assert rates.min() == pytest.approx((10 - 11 / 3) / 10, abs=1e-6)
    assert result.min_fill_rate == pytest.approx(
        maxmin_fill_rate(orders, {"x": 10.0, "y": 9.0}), abs=1e-6
    )
    proportional = share(
        ShareProblem(orders=orders, supply={"x": 10.0, "y": 9.0}),
        ShareParams(method="proportional"),
    )
    assert proportional.min_fill_rate < result.min_fill_rate - 0.1


def test_weights_give_a_priority_shop_a_higher_fill_rate():
    orders = _orders([("a", "x", 10, "fresh"), ("b", "x", 10, "fresh")])
    result = share(ShareProblem(orders=orders, supply={"x": 9.0}, weights={"a": 2.0}))
    alloc = _alloc(result)
    assert alloc["a", "x"] == pytest.approx(6.0, abs=1e-5)
    assert alloc["b", "x"] == pytest.approx(3.0, abs=1e-5)


def test_a_priority_shop_served_in_full_leaves_the_rest_to_the_others():
    orders = _orders([("a", "x", 4, "fresh"), ("b", "x", 10, "fresh")])
    result = share(ShareProblem(orders=orders, supply={"x": 9.0}, weights={"a": 5.0}))
    alloc = _alloc(result)
    assert alloc["a", "x"] == pytest.approx(4.0, abs=1e-5)
    assert alloc["b", "x"] == pytest.approx(5.0, abs=1e-5)


def test_the_carried_past_lifts_a_shop_that_was_served_last():
    orders = _orders([("a", "x", 10, "fresh"), ("b", "x", 10, "fresh")])
    past = pd.DataFrame({"site_id": ["a"], "ordered_kg": [10.0], "allocated_kg": [0.0]})
    result = share(ShareProblem(orders=orders, supply={"x": 10.0}, past=past))
    alloc = _alloc(result)
    # running rates equal: xa / 20 = xb / 10, xa + xb = 10
    assert alloc["a", "x"] == pytest.approx(20 / 3, abs=1e-5)
    assert alloc["b", "x"] == pytest.approx(10 / 3, abs=1e-5)


def test_whole_units_never_exceed_supply_and_go_to_the_worst_served():
    orders = _orders([("a", "x", 6, "fresh"), ("b", "x", 6, "fresh"), ("c", "x", 6, "fresh")])
    result = share(ShareProblem(orders=orders, supply={"x": 8.0}, unit_kg={"x": 2.0}))
    alloc = _alloc(result).to_numpy()
    assert np.allclose(alloc % 2.0, 0.0)
    assert alloc.sum() == pytest.approx(8.0)
    assert sorted(alloc) == [2.0, 2.0, 4.0]


def test_storage_capacity_is_a_reason_of_its_own():
    orders = _orders([("a", "x", 10, "chilled"), ("b", "y", 10, "chilled")])
    result = share(ShareProblem(orders=orders, supply={}, capacity={"chilled": 15.0}))
    lines = result.lines
    assert lines["allocated_kg"].sum() == pytest.approx(15.0)
    assert lines["storage_kg"].sum() == pytest.approx(5.0)
    assert lines["short_supply_kg"].sum() == pytest.approx(0.0)


def test_nothing_short_keeps_every_order():
    orders = _orders([("a", "x", 10, "fresh"), ("b", "y", 3, "ambient")])
    result = share(ShareProblem(orders=orders, supply={"x": 12.0}))
    assert (result.lines["allocated_kg"] == result.lines["ordered_kg"]).all()
    assert result.min_fill_rate == 1.0 and result.shared == ()


def test_bad_problems_are_refused():
    with pytest.raises(InputError, match="ordered_kg"):
        ShareProblem(orders=_orders([("a", "x", -1, "fresh")]), supply={})
    with pytest.raises(InputError, match="supply"):
        ShareProblem(orders=_orders([("a", "x", 1, "fresh")]), supply={"x": -2.0})
    with pytest.raises(InputError, match="method"):
        ShareParams(method="lottery")


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.floats(0.5, 100, allow_nan=False)),
        min_size=1,
        max_size=20,
        unique_by=lambda r: (r[0], r[1]),
    ),
    ratios=st.lists(st.floats(0.1, 1.5), min_size=4, max_size=4),
    method=st.sampled_from(["maxmin", "proportional"]),
)
def test_allocations_respect_supply_and_orders_and_reach_the_lp_optimum(data, ratios, method):
    orders = _orders([(f"s{s}", f"p{p}", kg, "fresh") for s, p, kg in data])
    ordered = orders.groupby("product_id")["ordered_kg"].sum()
    supply = {p: float(ordered[p] * ratios[int(p[1:])]) for p in ordered.index}
    result = share(ShareProblem(orders=orders, supply=supply), ShareParams(method=method))
    lines = result.lines
    assert (lines["allocated_kg"] >= -1e-9).all()
    assert (lines["allocated_kg"] <= lines["ordered_kg"] + 1e-6).all()
    given_kg = lines.groupby("product_id")["allocated_kg"].sum()
    for p, kg in given_kg.items():
        assert kg <= supply[p] + 1e-6
        assert kg == pytest.approx(min(supply[p], ordered[p]), abs=1e-4)  # nothing wasted
    parts = lines[["allocated_kg", "short_supply_kg", "storage_kg"]].sum(axis=1)
    assert np.allclose(parts, lines["ordered_kg"])
    optimum = maxmin_fill_rate(orders, supply)
    if method == "maxmin":
        assert result.min_fill_rate == pytest.approx(optimum, abs=1e-5)
    else:
        assert result.min_fill_rate <= optimum + 1e-6


def test_kilo_products_make_up_what_whole_units_took():
    # u: 3 units for 4 ordered (whole units: 2 and 1); k by the kilo: 10 kg for 20 ordered
    orders = _orders(
        [
            ("a", "u", 2, "fresh"),
            ("a", "k", 10, "fresh"),
            ("b", "u", 2, "fresh"),
            ("b", "k", 10, "fresh"),
        ]
    )
    supply = {"u": 3.0, "k": 10.0}
    result = share(ShareProblem(orders=orders, supply=supply, unit_kg={"u": 1.0}))
    alloc = _alloc(result)
    assert sorted([alloc["a", "u"], alloc["b", "u"]]) == [1.0, 2.0]
    rates = result.shops.set_index("site_id")["fill_rate"]
    assert rates["a"] == pytest.approx(13 / 24, abs=1e-6)
    assert rates["b"] == pytest.approx(13 / 24, abs=1e-6)
    assert result.min_fill_rate == pytest.approx(maxmin_fill_rate(orders, supply), abs=1e-6)
