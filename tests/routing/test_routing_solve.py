"""The week solver on tiny problems whose answer can be checked by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from routing_helpers import COUNTED, job, make_problem, site, vehicle

from core.errors import InputError
from core.geo import haversine_m
from routing import DayStatus, Pin, RouteParams, solve_week

pytestmark = pytest.mark.filterwarnings("ignore::core.errors.FallbackWarning")

FAST = COUNTED


def _served_kg(result, kind="deliver"):
    return result.stops.loc[result.stops["action"].str.contains(kind), "drop_kg"].sum()


def test_line_known_optimum(line_sites):
    problem = make_problem(
        line_sites, [vehicle("V1")], [job("S1", 100), job("S2", 100), job("S3", 100)]
    )
    result = solve_week(problem, FAST)
    assert result.unserved.empty
    stops = result.stops
    assert list(stops["action"]) == ["start", "load", "deliver", "deliver", "deliver", "end"]
    assert sorted(stops["site_id"][2:5]) == ["S1", "S2", "S3"]
    # optimum: out and back along the line, twice the hub–S3 distance × the circuity (several
    # visiting orders reach it, e.g. S1 S2 S3 or S2 S3 S1)
    hub, s3 = line_sites[0], line_sites[3]
    expected_km = 2 * 1.3 * haversine_m(hub["lat"], hub["lon"], s3["lat"], s3["lon"]) / 1000
    assert result.vehicle_kpis["km"].sum() == pytest.approx(expected_km, abs=0.02)
    # load on board goes down by each drop
    assert list(stops["load_kg"]) == [0, 300, 200, 100, 0, 0]
    assert result.method == "haversine_fallback"
    assert result.kpis["method"] == "haversine_fallback"


def test_reload_at_the_hub_for_a_second_trip(line_sites):
    # 3 × 400 kg with one 1000 kg van: one trip cannot carry it all
    problem = make_problem(
        line_sites, [vehicle("V1")], [job("S1", 400), job("S2", 400), job("S3", 400)]
    )
    result = solve_week(problem, FAST)
    assert result.unserved.empty
    loads = result.stops.loc[result.stops["action"].str.contains("load")]
    assert len(loads) == 2
    assert result.stops["load_kg"].max() <= 1000


def test_pickups_come_back_to_the_hub(line_sites):
    sites = [*line_sites, site("F1", "farm", 47.05, -1.55)]
    problem = make_problem(sites, [vehicle("V1")], [job("S1", 200), job("F1", 300, kind="pickup")])
    result = solve_week(problem, FAST)
    assert result.unserved.empty
    actions = list(result.stops["action"])
    farm = actions.index("pickup")
    assert "unload" in "".join(actions[farm + 1 :])
    assert result.stops["pick_kg"].sum() == pytest.approx(200 + 300)


def test_direct_farm_to_shop_transfer_skips_the_hub(line_sites):
    sites = [*line_sites, site("F1", "farm", 47.0, -1.55)]
    problem = make_problem(sites, [vehicle("V1")], [job("S3", 200, kind="transfer", src="F1")])
    result = solve_week(problem, FAST)
    assert result.unserved.empty
    stops = result.stops
    assert list(stops["action"]) == ["start", "pickup", "deliver", "end"]
    assert list(stops["site_id"]) == ["HUB", "F1", "S3", "HUB"]
    assert list(stops["load_kg"]) == [0, 200, 0, 0]


def test_time_windows_respected(line_sites):
    hours = {
        ("S1", "mon"): ((600.0, 660.0),),
        ("S2", "mon"): ((420.0, 480.0),),
        ("S3", "mon"): ((480.0, 540.0), (720.0, 780.0)),
    }
    problem = make_problem(
        line_sites, [vehicle("V1")], [job("S1", 100), job("S2", 100), job("S3", 100)], hours
    )
    result = solve_week(problem, FAST)
    assert result.unserved.empty
    for row in result.stops.itertuples():
        windows = hours.get((row.site_id, "mon"))
        if windows and row.action == "deliver":
            assert any(o <= row.arrival_min <= c for o, c in windows), row


def test_impossible_time_window_is_reported(line_sites):
    hours = {("S2", "mon"): ((180.0, 240.0),)}  # 03:00-04:00, before any shift
    problem = make_problem(
        line_sites, [vehicle("V1")], [job("S1", 100), job("S2", 100), job("S3", 100)], hours
    )
    result = solve_week(problem, FAST)
    assert list(result.unserved["site_id"]) == ["S2"]
    assert list(result.unserved["reason"]) == ["time window"]
    assert "S2" not in set(result.stops["site_id"])
    assert set(result.stops["site_id"]) >= {"S1", "S3"}


def test_long_route_takes_the_break_within_the_work_limit(line_sites):
    # 3 × 100 min of service + driving: more than 4.5 h of work, so one 30 min break
    sites = [{**s, "service_min": 100.0} if s["site_id"] != "HUB" else s for s in line_sites]
    hours = {("S3", "mon"): ((360.0, 840.0),)}
    problem = make_problem(
        sites,
        [vehicle("V1", break_min=30.0)],
        [job("S1", 100), job("S2", 100), job("S3", 100)],
        hours,
    )
    result = solve_week(problem, FAST)
    assert result.unserved.empty
    stops = result.stops.reset_index(drop=True)
    breaks = stops.index[stops["action"] == "break"].tolist()
    assert len(breaks) == 1
    brk = stops.loc[breaks[0]]
    assert brk["departure_min"] - brk["arrival_min"] == pytest.approx(30)
    start, end = stops["departure_min"].iloc[0], stops["arrival_min"].iloc[-1]
    assert brk["arrival_min"] - start <= 4.5 * 60 + 1e-6
    assert end - brk["departure_min"] <= 4.5 * 60 + 1e-6
    assert end <= 840 and end - start <= 8 * 60
    # the break is not taken while serving a stop
    for row in stops.itertuples():
        if row.action not in ("break", "start", "end"):
            assert (
                row.departure_min <= brk["arrival_min"] or row.arrival_min >= brk["departure_min"]
            ), row


def test_route_that_cannot_take_its_break_gives_up_its_last_job(line_sites):
    # back-to-back windows (2 h, 1 h 50, 1 h of service) leave no gap for the 30 min break and
    # more than 4.5 h of work: the last job is reported, the rest needs no break
    sites = [
        {**s, "service_min": m} if s["site_id"] != "HUB" else s
        for s, m in zip(line_sites, (0, 120.0, 110.0, 60.0), strict=True)
    ]
    hours = {
        ("S1", "mon"): ((375.0, 395.0),),
        ("S2", "mon"): ((500.0, 520.0),),
        ("S3", "mon"): ((615.0, 635.0),),
    }
    problem = make_problem(
        sites,
        [vehicle("V1", break_min=30.0)],
        [job("S1", 100), job("S2", 100), job("S3", 100)],
        hours,
    )
    result = solve_week(problem, FAST)
    assert list(result.unserved["site_id"]) == ["S3"]
    assert list(result.unserved["reason"]) == ["fleet full"]
    stops = result.stops
    assert "break" not in set(stops["action"])
    assert stops["arrival_min"].iloc[-1] - stops["departure_min"].iloc[0] <= 4.5 * 60
    for row in stops.itertuples():
        if row.action == "deliver":
            assert any(o <= row.arrival_min <= c for o, c in hours[(row.site_id, "mon")])


def test_short_route_has_no_break(line_sites):
    problem = make_problem(line_sites, [vehicle("V1", break_min=30.0)], [job("S1", 100)])
    result = solve_week(problem, FAST)
    assert "break" not in set(result.stops["action"])


def test_window_reachable_only_by_skipping_the_break_is_a_time_window(line_sites):
    # S1 opens 13:20-13:35: back at the hub after 13:30, while the shift ends at 14:00 with a
    # 30 min break kept free: reported as a time window, not as a full fleet
    hours = {("S1", "mon"): ((800.0, 815.0),)}
    problem = make_problem(
        line_sites, [vehicle("V1", break_min=30.0)], [job("S1", 100), job("S2", 100)], hours
    )
    result = solve_week(problem, FAST)
    assert list(result.unserved["site_id"]) == ["S1"]
    assert list(result.unserved["reason"]) == ["time window"]


def test_cold_goods_need_a_refrigerated_vehicle(line_sites):
    problem = make_problem(
        line_sites, [vehicle("V1", refrigerated=False)], [job("S1", 100, cold=True), job("S2", 100)]
    )
    result = solve_week(problem, FAST)
    assert list(result.unserved["reason"]) == ["compatibility"]
    assert list(result.unserved["site_id"]) == ["S1"]


def test_cold_goods_go_on_the_refrigerated_van(line_sites):
    vehicles = [
        vehicle("COLD", capacity_kg=500.0),
        vehicle("DRY", refrigerated=False, capacity_kg=3000.0),
    ]
    problem = make_problem(
        line_sites, vehicles, [job("S1", 100, cold=True), job("S2", 100), job("S3", 100, cold=True)]
    )
    result = solve_week(problem, FAST)
    assert result.unserved.empty
    cold_stops = result.stops.loc[result.stops["site_id"].isin(["S1", "S3"])]
    assert set(cold_stops["vehicle_id"]) == {"COLD"}


def test_no_vehicle_that_day(line_sites):
    problem = make_problem(
        line_sites, [vehicle("V1")], [job("S1", 100, fixed_days=("sat",)), job("S2", 100)]
    )
    result = solve_week(problem, FAST)
    assert list(result.unserved["reason"]) == ["no vehicle that day"]
    assert list(result.unserved["day"]) == ["sat"]


def test_fleet_full_is_reported_not_dropped(line_sites):
    # 6 h of service at each shop: one 8 h shift cannot do all three
    sites = [{**s, "service_min": 240.0} if s["site_id"] != "HUB" else s for s in line_sites]
    problem = make_problem(sites, [vehicle("V1")], [job("S1", 100), job("S2", 100), job("S3", 100)])
    result = solve_week(problem, FAST)
    assert len(result.unserved) == 2
    assert set(result.unserved["reason"]) == {"fleet full"}
    assert _served_kg(result) + result.unserved["kg"].sum() == pytest.approx(300)


def test_a_stop_a_full_day_cannot_take_moves_to_another_day(line_sites):
    # Monday looks empty in kilos but S1's 7.5 h of service fill the van's day; S2 (free to
    # move, open Monday and Tuesday) is first put on Monday, then moved to Tuesday
    sites = [{**s, "service_min": 450.0} if s["site_id"] == "S1" else s for s in line_sites]
    hours = {("S2", "mon"): ((0.0, 1439.0),), ("S2", "tue"): ((0.0, 1439.0),)}
    jobs = [job("S1", 100), job("S2", 300, fixed_days=()), job("S3", 600, fixed_days=("tue",))]
    problem = make_problem(sites, [vehicle("V1")], jobs, hours)
    result = solve_week(problem, FAST)
    assert result.unserved.empty
    assert list(result.schedule.loc[result.schedule["site_id"] == "S2", "day"]) == ["tue"]
    s2 = result.stops.loc[result.stops["site_id"] == "S2"]
    assert list(s2["day"]) == ["tue"] and s2["drop_kg"].sum() == pytest.approx(300)
    # without the second pass it stays unserved on Monday, reported
    first_only = solve_week(problem, dataclasses.replace(FAST, repair_share=0.0))
    assert list(first_only.unserved["site_id"]) == ["S2"]
    assert list(first_only.unserved["day"]) == ["mon"]


def test_load_bigger_than_the_van_takes_several_trips_or_is_reported(line_sites):
    # 2500 kg for a 1000 kg van: three trips of 3 h service each; the 8 h shift holds two
    sites = [{**s, "service_min": 180.0} if s["site_id"] == "S1" else s for s in line_sites]
    problem = make_problem(sites, [vehicle("V1")], [job("S1", 2500)])
    result = solve_week(problem, FAST)
    assert (result.stops["action"] == "load").sum() == 2
    assert result.stops["load_kg"].max() <= 1000
    assert list(result.unserved["reason"]) == ["capacity"]
    assert _served_kg(result) + result.unserved["kg"].sum() == pytest.approx(2500)


def test_pins_are_respected(line_sites):
    vehicles = [vehicle("V1"), vehicle("V2")]
    jobs = [
        job("S1", 100, fixed_days=()),
        job("S2", 100, fixed_days=()),
        job("S3", 100, fixed_days=()),
    ]
    problem = make_problem(line_sites, vehicles, jobs)
    pins = (Pin(site_id="S2", vehicle_id="V2", day="wed"), Pin.parse("S3=@thu"))
    result = solve_week(problem, dataclasses.replace(FAST, pins=pins))
    assert result.unserved.empty
    s2 = result.stops.loc[result.stops["site_id"] == "S2"]
    assert list(s2["vehicle_id"]) == ["V2"] and list(s2["day"]) == ["wed"]
    assert list(result.stops.loc[result.stops["site_id"] == "S3", "day"]) == ["thu"]


def test_pin_errors(line_sites):
    problem = make_problem(line_sites, [vehicle("V1")], [job("S1", 100)])
    with pytest.raises(InputError, match="unknown vehicle"):
        solve_week(problem, dataclasses.replace(FAST, pins=(Pin(site_id="S1", vehicle_id="V9"),)))
    with pytest.raises(InputError, match="SITE=VEHICLE"):
        Pin.parse("S1")
    with pytest.raises(InputError, match="day must be"):
        Pin.parse("S1=V1@someday")


def test_frequency_spreads_visits_on_non_consecutive_days(line_sites):
    jobs = [job("S1", 300, fixed_days=(), visits=2), job("S2", 300, fixed_days=(), visits=3)]
    problem = make_problem(line_sites, [vehicle("V1")], jobs)
    result = solve_week(problem, FAST)
    assert result.unserved.empty
    order = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    for site_id, visits in (("S1", 2), ("S2", 3)):
        days = sorted(
            result.schedule.loc[result.schedule["site_id"] == site_id, "day"], key=order.index
        )
        assert len(days) == visits
        gaps = np.diff([order.index(d) for d in days])
        assert (gaps >= 2).all(), days


def test_same_seed_same_result(line_sites):
    jobs = [
        job("S1", 300, fixed_days=(), visits=2),
        job("S2", 500, fixed_days=()),
        job("S3", 700, fixed_days=()),
    ]
    problem = make_problem(line_sites, [vehicle("V1"), vehicle("V2", capacity_kg=600.0)], jobs)
    params = dataclasses.replace(COUNTED, seed=7)
    first, second = solve_week(problem, params), solve_week(problem, params)
    # each day's descent stopped by itself at a local optimum, neither the count nor the clock
    assert first.day_status and set(first.day_status.values()) == {DayStatus.LOCAL_OPTIMUM}
    assert second.day_status == first.day_status
    pd.testing.assert_frame_equal(first.stops, second.stops)
    pd.testing.assert_frame_equal(first.schedule, second.schedule)
    pd.testing.assert_frame_equal(first.unserved, second.unserved)


def _busy_day():
    """Twelve shops on Monday for two vans: the descent improves the first routes a few times."""
    rng = np.random.default_rng(5)
    sites = [site("HUB", "hub", 47.0, -1.6)] + [
        site(
            f"S{i}",
            "epicerie_solidaire",
            47.0 + rng.uniform(-0.08, 0.08),
            -1.6 + rng.uniform(-0.1, 0.1),
        )
        for i in range(12)
    ]
    jobs = [job(s["site_id"], 100 + 10 * k) for k, s in enumerate(sites[1:])]
    return make_problem(sites, [vehicle("V1"), vehicle("V2", capacity_kg=600.0)], jobs)


def test_a_count_stops_the_day_search_where_it_stops_on_every_run():
    problem = _busy_day()
    # one solution: the cheapest-insertion routes, before any improving move
    first_only = dataclasses.replace(COUNTED, day_solution_limit=1, repair_share=0.0)
    cut = solve_week(problem, first_only)
    assert cut.day_status == {"mon": DayStatus.SOLUTION_LIMIT}
    assert cut.day_status["mon"].repeatable
    pd.testing.assert_frame_equal(cut.stops, solve_week(problem, first_only).stops)
    # without the count the descent goes on to a cheaper local optimum
    done = solve_week(problem, dataclasses.replace(first_only, day_solution_limit=None))
    assert done.day_status == {"mon": DayStatus.LOCAL_OPTIMUM}
    assert done.kpis["cost_eur"] < cut.kpis["cost_eur"] - 1.0


def test_guided_search_stopped_by_a_count_repeats():
    # guided local search never stops by itself: under a count it repeats like the descent
    problem = _busy_day()
    params = dataclasses.replace(COUNTED, guided=True, day_solution_limit=40)
    first, second = solve_week(problem, params), solve_week(problem, params)
    assert set(first.day_status.values()) == {DayStatus.SOLUTION_LIMIT}
    pd.testing.assert_frame_equal(first.stops, second.stops)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_capacity_never_exceeded(data):
    n = data.draw(st.integers(2, 5), label="shops")
    rng = np.random.default_rng(data.draw(st.integers(0, 10_000), label="seed"))
    sites = [site("HUB", "hub", 47.0, -1.6)] + [
        site(
            f"S{i}", "caisse_shop", 47.0 + rng.uniform(-0.05, 0.05), -1.6 + rng.uniform(-0.05, 0.05)
        )
        for i in range(n)
    ]
    kgs = data.draw(st.lists(st.floats(10, 900), min_size=n, max_size=n), label="kg")
    colds = data.draw(st.lists(st.booleans(), min_size=n, max_size=n), label="cold")
    caps = data.draw(
        st.lists(st.sampled_from([300.0, 600.0, 1200.0]), min_size=1, max_size=2), label="caps"
    )
    vehicles = [
        vehicle(f"V{k}", capacity_kg=c, capacity_pallets=int(c // 300), refrigerated=k == 0)
        for k, c in enumerate(caps)
    ]
    jobs = [
        job(f"S{i}", kg, cold=cold) for i, (kg, cold) in enumerate(zip(kgs, colds, strict=True))
    ]
    problem = make_problem(sites, vehicles, jobs)
    result = solve_week(problem, COUNTED)
    cap = dict(zip([v["vehicle_id"] for v in vehicles], caps, strict=True))
    pallets = {v["vehicle_id"]: v["capacity_pallets"] for v in vehicles}
    for row in result.stops.itertuples():
        assert row.load_kg <= cap[row.vehicle_id]
        assert row.load_pallets <= pallets[row.vehicle_id]
    # every kilo is either delivered or reported
    assert _served_kg(result) + result.unserved["kg"].sum() == pytest.approx(sum(kgs), rel=1e-6)
    assert set(result.unserved["reason"]) <= {
        "fleet full",
        "compatibility",
        "time window",
        "capacity",
    }


def test_params_from_toml(tmp_path):
    path = tmp_path / "routing.toml"
    path.write_text(
        "drop_penalty_eur = 2000\nbreak_after_h = 4\nguided = true\n"
        "day_solution_limit = 50\n"
        'refrigerated_classes = ["frozen"]\n'
        "[kg_per_pallet]\nambient = 500\nfresh = 250\nchilled = 250\nfrozen = 200\n"
    )
    params = RouteParams.from_file(path, seed=3)
    assert params.drop_penalty_eur == 2000.0 and params.break_after_h == 4.0
    assert params.guided is True and params.seed == 3
    assert params.day_solution_limit == 50
    assert params.refrigerated_classes == ("frozen",)
    assert params.kg_per_pallet["ambient"] == 500.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("drop_penalty = 1\n", "unknown key"),
        ('drop_penalty_eur = "lots"\n', "drop_penalty_eur must be"),
        ("guided = 1\n", "guided must be"),
        ("repair_share = 1.5\n", "repair_share must be in"),
        ("day_solution_limit = 0\n", "day_solution_limit must be a whole number"),
        ("day_solution_limit = 2.5\n", "day_solution_limit must be a whole number"),
        ('refrigerated_classes = ["cold"]\n', "unknown storage classes"),
        ("drop_penalty_eur = \n", "not valid TOML"),
    ],
)
def test_params_file_errors(tmp_path, text, message):
    path = tmp_path / "routing.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        RouteParams.from_file(path)
