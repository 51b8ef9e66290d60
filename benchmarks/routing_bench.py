"""Routing benchmarks: VRP quality vs PyVRP and the BKS; matrix, graph build and week timings.

Run with ``vivres bench routing --instances ../shared/benchmarks/vrp --time-limit 10 --json
out/bench_routing.json`` (see benchmarks/README.md). Each instance is solved by the benchmark
portfolio (``solver="vivres"``: PyVRP then OR-Tools, :mod:`benchmarks.vrp`; the engine that
produced the routes is printed) and by PyVRP alone (``solver="pyvrp"``, on the same integer
data), at the same budget. That part needs the ``[bench]`` extra (PyVRP, vrplib); without it
the network and week parts still run. The week's routes use :mod:`routing` (OR-Tools only).
"""

from __future__ import annotations

import importlib
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # loaded by file path from `vivres bench routing`
    sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"
BARS = {
    "cvrp": {"mean_gap_pct": 1.0, "max_gap_pct": 3.0},
    "vrptw": {"mean_gap_pct": 1.5},
    "ratio_to_pyvrp": 1.01,
    "matrix_500_s": 1.0,
    "build_s": 10.0,
    "week_s": 60.0,
}


def quality(
    folder: Path, *, time_limit_s: float, seed: int, console: Console
) -> tuple[list[dict], dict[str, str]]:
    """Solve every instance with a distance-convention ``.sol`` with both solvers.

    Returns the JSON rows and, per instance, the engine that produced our routes.
    """
    from benchmarks.vrp import _pyvrp
    from benchmarks.vrp.instances import (
        check_routes,
        find_instances,
        read_instance,
        read_solution,
        route_cost,
    )
    from benchmarks.vrp.solve import solve_vrp

    rows: list[dict] = []
    engines: dict[str, str] = {}
    table = Table(title=f"VRP quality at {time_limit_s:g} s per instance and solver")
    for col in (
        "instance",
        "kind",
        "n",
        "BKS",
        "vivres",
        "engine",
        "PyVRP",
        "gap %",
        "PyVRP gap %",
        "ratio",
        "veh",
        "feasible",
        "s",
    ):
        table.add_column(col, justify="left" if col in ("instance", "kind", "engine") else "right")
    for path, sol in find_instances(folder):
        if sol is None:
            console.print(f"skip {path.name}: no distance-convention .sol next to it")
            continue
        instance = read_instance(path)
        routes, stated = read_solution(sol)
        bks = route_cost(instance, routes)
        if stated is not None and abs(stated - bks) > 1e-6:
            console.print(f"[yellow]{sol.name}: stated cost {stated} != recomputed {bks}[/]")
        ours = solve_vrp(instance, time_limit_s=time_limit_s, seed=seed)
        t0 = time.perf_counter()
        # the reference: PyVRP alone on the same data, the whole budget
        ref_routes, ref_feasible = _pyvrp.solve(instance, time_limit_s=time_limit_s, seed=seed)
        ref_seconds = time.perf_counter() - t0
        ref_cost = route_cost(instance, ref_routes)
        ref_feasible = ref_feasible and not check_routes(instance, ref_routes)
        ref_vehicles = sum(1 for r in ref_routes if r)
        for solver, cost, vehicles, feasible, seconds in (
            ("vivres", ours.cost, ours.vehicles, ours.feasible, ours.seconds),
            ("pyvrp", ref_cost, ref_vehicles, ref_feasible, ref_seconds),
        ):
            rows.append(
                {
                    "instance": instance.name,
                    "kind": instance.kind,
                    "solver": solver,
                    "cost": round(cost, 4),
                    "bks": bks,
                    "gap_pct": round(100 * (cost - bks) / bks, 3),
                    "ratio_to_pyvrp": round(cost / ref_cost, 5) if ref_cost else None,
                    "vehicles": int(vehicles),
                    "feasible": bool(feasible),
                    "seconds": round(seconds, 2),
                }
            )
        engines[instance.name] = ours.engine
        table.add_row(
            instance.name,
            instance.kind,
            str(instance.num_clients),
            f"{bks:g}",
            f"{ours.cost:g}",
            ours.engine,
            f"{ref_cost:g}",
            f"{100 * (ours.cost - bks) / bks:.2f}",
            f"{100 * (ref_cost - bks) / bks:.2f}",
            f"{ours.cost / ref_cost:.4f}",
            str(ours.vehicles),
            str(ours.feasible),
            f"{ours.seconds:.1f}",
        )
        console.print(
            f"{instance.name}: vivres {ours.cost:g} ({ours.engine}), "
            f"PyVRP {ref_cost:g}, BKS {bks:g}"
        )
    # rich clamps a table to the console's width (80 columns when piped to a file)
    Console(width=max(console.width, 150), file=console.file).print(table)
    return rows, engines


def summarise(rows: list[dict], console: Console) -> dict:
    """Averages per kind and solver, with the bars."""
    out = {}
    for kind in sorted({r["kind"] for r in rows}):
        ours = [r for r in rows if r["kind"] == kind and r["solver"] == "vivres"]
        ref = [r for r in rows if r["kind"] == kind and r["solver"] == "pyvrp"]
        figures = {
            "instances": len(ours),
            "mean_gap_pct": round(float(np.mean([r["gap_pct"] for r in ours])), 3),
            "max_gap_pct": round(float(np.max([r["gap_pct"] for r in ours])), 3),
            "pyvrp_mean_gap_pct": round(float(np.mean([r["gap_pct"] for r in ref])), 3),
            "mean_ratio_to_pyvrp": round(float(np.mean([r["ratio_to_pyvrp"] for r in ours])), 5),
            "all_feasible": all(r["feasible"] for r in ours),
        }
        bar = BARS[kind]
        figures["meets_bars"] = bool(
            figures["mean_gap_pct"] <= bar["mean_gap_pct"]
            and figures["max_gap_pct"] <= bar.get("max_gap_pct", np.inf)
            and figures["mean_ratio_to_pyvrp"] <= BARS["ratio_to_pyvrp"]
            and figures["all_feasible"]
        )
        out[kind] = figures
        console.print(
            f"[bold]{kind}[/]: mean gap {figures['mean_gap_pct']:.2f} % (bar "
            f"{bar['mean_gap_pct']} %), max {figures['max_gap_pct']:.2f} %, PyVRP "
            f"mean gap {figures['pyvrp_mean_gap_pct']:.2f} %, mean ratio to PyVRP "
            f"{figures['mean_ratio_to_pyvrp']:.4f} (bar 1.01), all feasible "
            f"{figures['all_feasible']} -> "
            f"{'MET' if figures['meets_bars'] else 'NOT MET'}"
        )
    return out


def matrices(osm: Path, console: Console) -> dict:
    """Graph build from the file, then 100- and 500-point matrices (snapping included)."""
    t0 = time.perf_counter()
    import osmnx  # noqa: F401  (a once-per-process cost, timed apart from the build)
    import sklearn.neighbors  # noqa: F401

    from routing.matrix import travel_matrix
    from routing.network import network_from_file

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    network = network_from_file(osm)
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(42)
    out = {
        "osm": str(osm),
        "nodes": network.num_nodes,
        "edges": network.graph.number_of_edges(),
        "import_s": round(import_s, 3),
        "build_s": round(build_s, 3),
    }
    for n in (100, 500):
        lat = rng.uniform(network.node_lat.min(), network.node_lat.max(), n)
        lon = rng.uniform(network.node_lon.min(), network.node_lon.max(), n)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # random points may fall off the road network
            matrix = travel_matrix(network, lat, lon)
        out[f"matrix_{n}_s"] = round(time.perf_counter() - t0, 4)
        out[f"matrix_{n}_finite"] = bool(np.isfinite(matrix.duration_s).all())
    console.print(
        f"[bold]network[/] {osm.name}: {out['nodes']} nodes, build {build_s:.2f} s "
        f"(bar 10 s; importing osmnx and scikit-learn before: {import_s:.1f} s)"
        f"; matrix 100 pts {out['matrix_100_s']:.3f} s, 500 pts "
        f"{out['matrix_500_s']:.3f} s (bar 1 s, snapping included)"
    )
    return out


def week(data: Path, *, time_limit_s: float, console: Console) -> dict:
    """Solve the territory's week 1 (all days, all vehicles) and time it."""
    import routing
    from api.pipeline import route_inputs
    from core.territory import load_territory

    territory = load_territory(data, strict=False)
    t0 = time.perf_counter()
    deliveries, pickups, week_start = route_inputs(territory, 1)
    params = routing.RouteParams(time_limit_s=time_limit_s)
    problem = routing.build_week_problem(
        territory, deliveries, pickups, week_start=week_start, params=params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sample has no OSM extract: fallback, flagged
        result = routing.solve_week(problem, params)
    seconds = time.perf_counter() - t0
    figures = {
        "seconds": round(seconds, 2),
        **{k: v for k, v in result.kpis.items() if k != "day_status"},
    }
    figures["day_status"] = result.day_status
    console.print(
        f"[bold]week 1[/] of {data.name}: {seconds:.1f} s (bar 60 s), "
        f"{result.kpis['stops']} stops, {result.kpis['unserved']} unserved "
        f"({result.kpis['unserved_kg']:.0f} kg), method {result.method}, day "
        f"searches {sorted(set(result.day_status.values()))}"
    )
    return figures


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def run(
    *,
    instances: Path | None,
    time_limit_s: float,
    seed: int,
    osm: Path | None,
    data: Path | None,
    week_time_limit_s: float,
    console: Console,
) -> dict:
    """Run every part that has its input; return the JSON-able figures."""
    instances = instances or SHARED / "benchmarks" / "vrp"
    missing = [m for m in ("pyvrp", "vrplib") if not _importable(m)]
    if missing:
        console.print(
            f"[yellow]VRP quality skipped:[/] {', '.join(missing)} not installed "
            '(pip install -e ".\\[bench]")'
        )
        rows, engines = [], {}
    else:
        rows, engines = quality(instances, time_limit_s=time_limit_s, seed=seed, console=console)
    figures: dict = {
        "rows": rows,
        "summary": summarise(rows, console) if rows else {},
        "engines": engines,
        "time_limit_s": time_limit_s,
        "seed": seed,
    }
    osm = osm or SHARED / "osm" / "geneva.osm.pbf"
    if osm.exists():
        figures["network"] = matrices(osm, console)
    if data is not None and data.exists():
        figures["week"] = week(data, time_limit_s=week_time_limit_s, console=console)
    return figures
