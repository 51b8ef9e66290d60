"""The cost game's maths (routing.coalitions): Shapley by hand, sampling, core, EPM, cents."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InputError
from routing import coalitions as game

PLAYERS = ["A", "B", "C"]
#: a 3-organisation toy: each alone, in pairs, all three (€)
TOY = {
    frozenset("A"): 10.0,
    frozenset("B"): 20.0,
    frozenset("C"): 30.0,
    frozenset("AB"): 25.0,
    frozenset("AC"): 35.0,
    frozenset("BC"): 40.0,
    frozenset("ABC"): 45.0,
}


def test_shapley_of_the_toy_matches_the_hand_computation():
    # φ_A = 1/3·c(A) + 1/6·(c(AB) − c(B)) + 1/6·(c(AC) − c(C)) + 1/3·(c(ABC) − c(BC))
    #     = 10/3 + 5/6 + 5/6 + 5/3 = 20/3;  likewise φ_B = 85/6, φ_C = 145/6
    hand = {"A": Fraction(20, 3), "B": Fraction(85, 6), "C": Fraction(145, 6)}
    value = game.shapley(PLAYERS, TOY)
    for p in PLAYERS:
        assert value[p] == pytest.approx(float(hand[p]), abs=1e-12)
    assert sum(value.values()) == pytest.approx(45.0)


def test_shapley_is_the_mean_over_every_order_of_arrival():
    orders = list(itertools.permutations(PLAYERS))
    exact = game.shapley(PLAYERS, TOY)
    # every one of the 6 orders once: the sampled formula gives the exact value
    sampled = game.shapley_sampled(orders, TOY)
    for p in PLAYERS:
        assert sampled.value[p] == pytest.approx(exact[p])


def test_sampled_shapley_sums_to_the_grand_cost_and_covers_the_exact_value():
    orders = game.sample_orders(PLAYERS, 400, seed=3)
    sampled = game.shapley_sampled(orders, TOY)
    assert sum(sampled.value.values()) == pytest.approx(45.0)
    exact = game.shapley(PLAYERS, TOY)
    for p in PLAYERS:
        assert abs(sampled.value[p] - exact[p]) <= 2 * sampled.half_width[p]
    assert game.sample_orders(PLAYERS, 50, seed=3) == game.sample_orders(PLAYERS, 50, seed=3)


def test_the_toy_split_is_in_the_core():
    split = game.to_cents(game.shapley(PLAYERS, TOY), 45.0)
    assert game.blocking(PLAYERS, TOY, split) == []
    eps, x = game.least_core(PLAYERS, TOY)
    assert eps <= 0
    assert sum(x.values()) == pytest.approx(45.0)


def test_an_empty_core_is_found_and_measured():
    # any pair costs as much as one alone, all three cost 2: pairs would need x_i + x_j <= 1,
    # so the three pay at most 1.5 < 2; the least core spreads the 0.5: ε = 1/3
    cost = {c: 1.0 for c in game.coalitions(PLAYERS)}
    cost[frozenset(PLAYERS)] = 2.0
    eps, x = game.least_core(PLAYERS, cost)
    assert eps == pytest.approx(1 / 3)
    assert all(v == pytest.approx(2 / 3) for v in x.values())
    split = game.shapley(PLAYERS, cost)
    assert game.blocking(PLAYERS, cost, split)  # pairs pay 4/3 > 1


def test_equal_profit_gives_equal_relative_savings_inside_the_core():
    split = game.equal_profit(PLAYERS, TOY)
    assert sum(split.values()) == pytest.approx(45.0)
    assert game.blocking(PLAYERS, TOY, split, tol=1e-6) == []
    # the toy's core allows the same saving for all: 45/60 of each one's stand-alone cost
    for p in PLAYERS:
        assert split[p] / TOY[frozenset(p)] == pytest.approx(0.75, abs=1e-6)


def test_a_missing_coalition_is_an_error():
    partial = {k: v for k, v in TOY.items() if k != frozenset("BC")}
    with pytest.raises(InputError, match="no cost for coalition"):
        game.shapley(PLAYERS, partial)
    with pytest.raises(InputError, match="at least 2 orders"):
        game.sample_orders(PLAYERS, 1, seed=1)


def test_proportional_keys():
    assert game.proportional({"A": 1.0, "B": 3.0}, 100.0) == {"A": 25.0, "B": 75.0}
    assert game.proportional({"A": 0.0, "B": 0.0}, 10.0) == {"A": 5.0, "B": 5.0}
    with pytest.raises(InputError):
        game.proportional({"A": -1.0}, 10.0)


@given(
    st.lists(st.floats(-1e5, 1e5, allow_nan=False), min_size=1, max_size=12),
)
def test_cents_add_up_to_the_total(values):
    split = {f"o{i}": v for i, v in enumerate(values)}
    total = sum(values)
    cents = game.to_cents(split, total)
    assert round(sum(cents.values()) * 100) == round(total * 100)
    for p, v in split.items():
        assert abs(cents[p] - v) <= 0.011 * max(1, len(values))
