"""Pins are checked when given: impossible ones refused, risky ones warned, and a pin moves
only its own stop's day (issue 20, item 5)."""

from __future__ import annotations

import pandas as pd
import pytest
from routing_helpers import COUNTED, job, make_problem, site, vehicle

from core.errors import InputError
from routing import Pin, solve_week
from routing._context import PinWarning

pytestmark = pytest.mark.filterwarnings("ignore::core.errors.FallbackWarning")

SITES = [
    site("HUB", "hub", 47.19, -1.58),
    site("S1", "market", 47.21, -1.55),
    site("S2", "market", 47.22, -1.60),
    site("S3", "market", 47.20, -1.52),
]


def _problem(**hours):
    vehicles = [
        vehicle("V1"),
        vehicle("V2", refrigerated=False, capacity_kg=300.0, days=("tue", "thu")),
    ]
    jobs = [
        job("S1", 120, fixed_days=("mon",)),
        job("S2", 80, cold=True, fixed_days=("tue",)),
        job("S3", 400, fixed_days=()),
    ]
    return make_problem(SITES, vehicles, jobs, hours=hours or None)


def _with(pins):
    import dataclasses

    return dataclasses.replace(COUNTED, pins=tuple(pins))


def test_a_vehicle_pinned_on_a_day_it_does_not_work_is_refused():
    with pytest.raises(InputError, match="V2 does not work on mon"):
        solve_week(_problem(), _with([Pin(site_id="S1", vehicle_id="V2", day="mon")]))


def test_a_pin_on_a_day_the_shop_is_closed_is_refused():
    hours = {("S3", "tue"): ((480.0, 720.0),)}  # S3 opens only on Tuesday mornings
    problem = make_problem(SITES, [vehicle("V1")], [job("S3", 100, fixed_days=())], hours=hours)
    with pytest.raises(InputError, match="S3: the site is closed on wed"):
        solve_week(problem, _with([Pin(site_id="S3", day="wed")]))


def test_cold_goods_pinned_on_a_van_without_cold_warn_and_change_only_that_day():
    problem = _problem()
    free = solve_week(problem, COUNTED)
    with pytest.warns(PinWarning, match="no cold room"):
        pinned = solve_week(problem, _with([Pin(site_id="S2", vehicle_id="V2", day="tue")]))
    unserved = pinned.unserved.set_index("site_id")
    assert "S2" in unserved.index  # the cold goods cannot ride with V2: reported, not lost
    for day in ("mon", "wed", "thu", "fri"):
        before = free.stops.loc[free.stops["day"] == day, ["vehicle_id", "seq", "site_id"]]
        after = pinned.stops.loc[pinned.stops["day"] == day, ["vehicle_id", "seq", "site_id"]]
        pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True))


def test_more_kilos_than_the_pinned_vehicle_carries_warns():
    with pytest.warns(PinWarning, match="more than vehicle V2 carries"):
        solve_week(_problem(), _with([Pin(site_id="S3", vehicle_id="V2", day="thu")]))


def test_a_shop_opening_after_every_shift_ends_is_a_time_window():
    hours = {("S1", d): ((900.0, 1080.0),) for d in ("mon", "tue", "wed", "thu", "fri")}
    problem = make_problem(
        SITES, [vehicle("V1", shift_end=840.0)], [job("S1", 50, fixed_days=())], hours=hours
    )
    result = solve_week(problem, COUNTED)  # the shop opens at 15:00, the shift ends at 14:00
    assert list(result.unserved["reason"]) == ["time window"]


def test_more_deliveries_than_opening_days_is_closed():
    hours = {("S1", "tue"): ((480.0, 720.0),)}
    sites = [SITES[0], {**SITES[1], "deliveries_per_week": 2}]
    problem = make_problem(
        sites, [vehicle("V1")], [job("S1", 100, fixed_days=(), visits=2)], hours=hours
    )
    result = solve_week(problem, COUNTED)
    assert "closed" in set(result.unserved["reason"])
