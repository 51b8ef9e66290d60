"""Demand benchmark: forecast quality on the sample, build + forecast speed at scale 10.

Run ``python -m benchmarks.demand_bench [--json FILE] [--scale 10] [--dataset DIR …]`` from the
repository root, or ``vivres bench demand --json FILE [--dataset DIR …]``. Bars (issue 18):

- on every dataset's backtest, at shop and at hub level, the model's WAPE is at most the best
  single standard method's (same origins, same run) and its 80 % intervals cover 75-85 % of
  actuals;
- load + build + forecast (52 weeks) of a territory generated at 10× the sample finishes in
  under 180 s on 2 cores; time and peak memory are printed.

The speed run happens in a child process so its peak RSS is its own (not the generator's).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make the packages importable
    sys.path.insert(0, str(REPO))

BUDGET_S = 180.0


def _print(console, text: str) -> None:
    if console is None:
        print(text)
    else:
        console.print(text, highlight=False)


def _level(model: dict, methods: list[dict]) -> dict:
    """One level's figures and its bars: WAPE <= the best single method's, coverage80 in
    [0.75, 0.85]."""
    best = min(methods, key=lambda m: m["wape"]) if methods else None
    return {
        "model": {k: model[k] for k in ("name", "wape", "mase", "coverage80")},
        "methods": methods,
        "best_method": None if best is None else best["name"],
        "bar_wape_met": best is None or bool(model["wape"] <= best["wape"]),
        "bar_coverage_met": bool(0.75 <= model["coverage80"] <= 0.85),
    }


def quality(data: Path, *, name: str = "sample", source: str = "data/sample") -> dict:
    """Backtest the model against every standard method alone on a territory, at both levels."""
    import demand
    from core.territory import load_territory

    territory = load_territory(data, strict=False)
    built = demand.build_weekly_demand(territory)
    families = territory.products.set_index("product_id")["category"]
    start = time.perf_counter()
    result = demand.backtest(built.weekly, families=families)
    return {
        "name": name,
        "source": source,
        "series": int(built.weekly.groupby(["site_id", "product_id"]).ngroups),
        "weeks": int(built.weekly["week_start"].nunique()),
        "origins": result.origins,
        "horizon_weeks": result.horizon,
        "levels": {
            "shop": _level(result.model, result.methods),
            "hub": _level(result.hub["model"], result.hub["methods"]),
        },
        "baseline": {"shop": result.baseline, "hub": result.hub["baseline"]},
        "choices": result.choices,
        "backtest_s": round(time.perf_counter() - start, 2),
    }


def speed_child(folder: Path) -> dict:
    """Time load, build and forecast of the territory in ``folder`` (run in a child)."""
    import demand
    from core.territory import load_territory

    t0 = time.perf_counter()
    territory = load_territory(folder, strict=False)
    t1 = time.perf_counter()
    built = demand.build_weekly_demand(territory)
    t2 = time.perf_counter()
    families = territory.products.set_index("product_id")["category"]
    fc = demand.forecast_demand(built.weekly, horizon_weeks=52, families=families)
    demand.hub_demand(fc, territory.products)
    t3 = time.perf_counter()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "order_rows": len(territory.orders),
        "transactions": 0
        if territory.caisse_transactions is None
        else len(territory.caisse_transactions),
        "points_of_sale": len(territory.points_of_sale),
        "series": int(built.weekly.groupby(["site_id", "product_id"]).ngroups),
        "load_s": round(t1 - t0, 2),
        "build_s": round(t2 - t1, 2),
        "forecast_s": round(t3 - t2, 2),
        "total_s": round(t3 - t0, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }


def _generate(folder: Path, scale: float) -> None:
    path = REPO / "data" / "generate.py"
    spec = importlib.util.spec_from_file_location("vivres_generate", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses in the script look their module up
    spec.loader.exec_module(module)
    module.generate_territory(folder, seed=42, scale=scale)


def speed(scale: float) -> dict:
    """Generate a territory at ``scale`` and time build + forecast on it in a child process."""
    with tempfile.TemporaryDirectory(prefix="vivres_demand_bench_") as tmp:
        folder = Path(tmp) / f"scale{scale:g}"
        t0 = time.perf_counter()
        _generate(folder, scale)
        gen_s = time.perf_counter() - t0
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(folder)],
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO,
        )
        if done.returncode != 0:
            raise RuntimeError(f"speed run failed:\n{done.stderr[-2000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["scale"] = scale
    figures["generate_s"] = round(gen_s, 2)
    figures["budget_s"] = BUDGET_S
    figures["ratio_to_budget"] = round(figures["total_s"] / BUDGET_S, 3)
    figures["bar_met"] = bool(figures["total_s"] < BUDGET_S)
    return figures


def _source(folder: Path) -> str:
    """The dataset's source line (``SOURCE`` file written by its conversion script)."""
    path = folder / "SOURCE"
    return path.read_text(encoding="utf-8").strip() if path.exists() else str(folder)


def run(
    *,
    data: Path | None = None,
    scale: float = 10,
    console=None,
    extra: list[Path] | None = None,
) -> dict:
    """Run both parts, print the figures, return them as a dict."""
    from core.territory import SAMPLE_DIR

    data = Path(data) if data is not None else SAMPLE_DIR
    out: dict = {"datasets": []}
    sets = [(data, "sample" if data == SAMPLE_DIR else data.name, str(data))]
    sets += [(folder, folder.name, _source(folder)) for folder in extra or ()]
    for folder, name, source in sets:
        _print(console, f"Backtest on {name} ({folder}) …")
        q = quality(folder, name=name, source=source)
        out["datasets"].append(q)
        _print(
            console,
            f"  {q['series']:,} series × {q['weeks']} weeks; origins {', '.join(q['origins'])}; "
            f"{q['horizon_weeks']} weeks ahead; {q['backtest_s']} s",
        )
        for level in ("shop", "hub"):
            f = q["levels"][level]
            _print(console, f"  {level:5} {'':18} {'WAPE':>7} {'MASE':>7} {'cov80':>7}")
            for row in [f["model"], *f["methods"]]:
                cov = "" if row["coverage80"] is None else f"{row['coverage80']:7.3f}"
                _print(
                    console,
                    f"  {'':5} {row['name']:18} {row['wape']:7.3f} {row['mase']:7.3f} {cov:>7}",
                )
            _print(
                console,
                f"  {level}: WAPE <= best method ({f['best_method']}): "
                f"{'met' if f['bar_wape_met'] else 'NOT met'}; coverage80 in [0.75, 0.85]: "
                f"{'met' if f['bar_coverage_met'] else 'NOT met'}",
            )
    if scale > 0:
        _print(console, f"Build + forecast at scale {scale:g} (generating the territory) …")
        s = speed(scale)
        out["speed"] = s
        _print(
            console,
            f"  {s['points_of_sale']} points of sale, {s['series']:,} series, "
            f"{s['order_rows']:,} order rows, {s['transactions']:,} payments "
            f"(generated in {s['generate_s']} s)",
        )
        _print(
            console,
            f"  load {s['load_s']} s + build {s['build_s']} s + forecast "
            f"{s['forecast_s']} s = {s['total_s']} s; peak RSS {s['peak_rss_mb']} MB",
        )
        _print(
            console,
            f"  {s['ratio_to_budget']:.1%} of the {BUDGET_S:g} s budget: "
            f"{'met' if s['bar_met'] else 'NOT met'}",
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--scale", type=float, default=10, help="0 skips the speed run")
    parser.add_argument("--data", type=Path, default=None, help="territory to backtest")
    parser.add_argument(
        "--dataset", type=Path, action="append", help="another territory folder to backtest"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(speed_child(args.child)))
        return
    figures = run(data=args.data, scale=args.scale, extra=args.dataset)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
