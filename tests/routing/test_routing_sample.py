"""The sample territory's week at real size: repeatable, every day at a local optimum."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from routing_helpers import COUNTED

from core.territory import SAMPLE_DIR, load_territory
from routing import REASONS, DayStatus, build_week_problem, solve_week

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::core.errors.FallbackWarning")]


def test_sample_week_repeats_and_every_day_reaches_a_local_optimum():
    if not (SAMPLE_DIR / "sites.csv").exists():
        pytest.skip("data/sample has not been generated")
    from api.pipeline import route_inputs

    territory = load_territory(SAMPLE_DIR, strict=False)
    deliveries, pickups, week_start = route_inputs(territory, 1)
    # real size beside other tests on 2 cores: a cap far above the descent's own stop
    params = dataclasses.replace(COUNTED, seed=1, time_limit_s=900)
    problem = build_week_problem(
        territory, deliveries, pickups, week_start=week_start, params=params
    )
    first, second = solve_week(problem, params), solve_week(problem, params)
    # six working days, each descent stopped by itself: not by the count, not by the clock
    assert len(first.day_status) == 6
    for run in (first, second):  # a day cut by the clock would say limit_reached here
        assert set(run.day_status.values()) == {DayStatus.LOCAL_OPTIMUM}, run.day_status
    pd.testing.assert_frame_equal(first.stops, second.stops)
    pd.testing.assert_frame_equal(first.unserved, second.unserved)
    pd.testing.assert_frame_equal(first.schedule, second.schedule)
    assert first.kpis["stops"] > 100
    assert first.unserved["reason"].isin(REASONS).all()
    # every scheduled job is either on a route or reported
    on_routes = set(first.stops["site_id"]) | set(first.unserved["site_id"])
    assert set(first.schedule["site_id"]) <= on_routes
