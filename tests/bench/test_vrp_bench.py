"""Benchmark readers recompute the best-known costs exactly; the VRP portfolio is feasible.

The portfolio tests stop by count (PyVRP iterations, OR-Tools solutions); their time limit is
a cap that a quiet or busy machine does not reach.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("vrplib", reason="the [bench] extra (vrplib, PyVRP) is not installed")
pytest.importorskip("pyvrp", reason="the [bench] extra (vrplib, PyVRP) is not installed")

from benchmarks.vrp.instances import (
    check_routes,
    find_instances,
    read_instance,
    read_solution,
    route_cost,
)
from benchmarks.vrp.solve import solve_vrp
from core.errors import InputError

VRP_DIR = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "vrp"


def _pairs():
    if not VRP_DIR.exists():
        return []
    return [(p, s) for p, s in find_instances(VRP_DIR) if s is not None]


@pytest.mark.parametrize(("path", "sol"), _pairs(), ids=lambda v: getattr(v, "name", str(v)))
def test_bks_cost_recomputed_exactly(path, sol):
    instance = read_instance(path)
    routes, stated = read_solution(sol)
    assert route_cost(instance, routes) == pytest.approx(stated, abs=1e-9)
    assert check_routes(instance, routes) == []


def test_shared_folder_is_found():
    if not VRP_DIR.exists():
        pytest.skip("shared benchmark instances not available")
    found = find_instances(VRP_DIR)
    names = {p.name for p, _ in found}
    assert {"A-n32-k5.vrp", "X-n256-k16.vrp", "C101.txt", "R1_2_1.txt"} <= names
    assert not any("lc101" in n for n in names)  # Li & Lim PDPTW files are not Solomon
    assert dict((p.name, s) for p, s in found)["R1_2_1.txt"] is None  # only a SINTEF .sol


def test_conventions_on_a_tiny_case(tmp_path):
    vrp = tmp_path / "t.vrp"
    vrp.write_text(
        "NAME : t\nTYPE : CVRP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\n"
        "CAPACITY : 10\nNODE_COORD_SECTION\n1 0 0\n2 3 4\n3 0 1.5\n"
        "DEMAND_SECTION\n1 0\n2 5\n3 5\nDEPOT_SECTION\n1\n-1\nEOF\n"
    )
    inst = read_instance(vrp)
    # 5 is exact; 1.5 rounds half up to 2 (TSPLIB nint), not to even
    assert inst.dist[0, 1] == 5 and inst.dist[0, 2] == 2
    assert route_cost(inst, [[1, 2]]) == 5 + round(np.hypot(3, 2.5)) + 2
    assert check_routes(inst, [[1], [2]]) == []
    assert check_routes(inst, [[1, 2, 1]]) != []


def test_unreadable_instance(tmp_path):
    bad = tmp_path / "bad.vrp"
    bad.write_text("this is not an instance")
    with pytest.raises(InputError, match=r"bad\.vrp"):
        read_instance(bad)
    with pytest.raises(InputError, match="expected"):
        read_instance(tmp_path / "x.csv")


# the portfolio runs the two others: the slow lane
@pytest.mark.parametrize(
    "engine", [pytest.param("portfolio", marks=pytest.mark.slow), "ortools", "pyvrp"]
)
def test_small_instance_solved_feasibly(engine, vrp_dir):
    instance = read_instance(vrp_dir / "cvrp" / "A-n32-k5.vrp")
    result = solve_vrp(
        instance, time_limit_s=60.0, engine=engine, max_iterations=2000, max_solutions=200
    )
    assert result.seconds < 60.0  # stopped by the counts, not by the cap
    again = solve_vrp(
        instance, time_limit_s=60.0, engine=engine, max_iterations=2000, max_solutions=200
    )
    assert again.routes == result.routes  # a count stops at the same place on every run
    assert result.feasible
    assert result.cost >= 784  # the proven optimum
    assert result.engine in ({"pyvrp", "pyvrp+ortools"} if engine != "ortools" else {"ortools"})


@pytest.mark.slow
def test_solomon_solution_respects_time_windows(vrp_dir):
    instance = read_instance(vrp_dir / "vrptw" / "C101.txt")
    result = solve_vrp(instance, time_limit_s=60.0, engine="ortools", max_solutions=200)
    assert result.seconds < 60.0
    assert check_routes(instance, result.routes) == []
    assert result.vehicles <= instance.num_vehicles
