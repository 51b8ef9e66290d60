"""``vivres plan`` (season crop and supply plan), ``vivres plan compare`` and
``vivres bench planner``."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, get_type_hints

import pandas as pd
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.commands import LangOpt
from api.messages import say
from core.csvio import Lang, check_lang, write_user_csv
from core.errors import InputError
from core.fmt import num
from core.i18n import text
from core.i18n_plan import PLAN_STATUS_FR
from core.territory import SAMPLE_DIR, Territory, load_territory
from planner.params import PlanParams

plan_app = typer.Typer(
    help="Season crop and supply plan (MILP): which farm grows what, when, how much; "
    "producer contracts; what-if scenarios.",
    invoke_without_command=True,
)

DataOpt = Annotated[
    Path, typer.Option("--data", help="Territory folder (layout of data/sample).", file_okay=False)
]
TimeOpt = Annotated[
    float | None,
    typer.Option(
        "--time-limit",
        help="Seconds per plan: a safety cap under --stop work (default 600), the "
        "time used under --stop time (default 60).",
        min=1,
    ),
]
StopOpt = Annotated[
    str,
    typer.Option(
        "--stop",
        help="work (default): every search step stops after a fixed count, so the same "
        "inputs and seed give the same plan on any machine; time: steps share the time limit "
        "(more search on a fast machine, not repeatable).",
    ),
]
WorkOpt = Annotated[
    float,
    typer.Option(
        "--work", help="Scale of the work budget (2 = twice the search).", min=0.001, max=1000
    ),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the search's random choices.")]
GapOpt = Annotated[
    float, typer.Option("--gap", help="Relative gap to stop at (0.001 = 0.1 %).", min=0, max=0.99)
]
SolverOpt = Annotated[str, typer.Option("--solver", help="highs (default) or cbc.")]
LogOpt = Annotated[bool, typer.Option("--log", help="Show the solver's log.")]
HorizonOpt = Annotated[
    int,
    typer.Option(
        "--horizon-weeks", help="Weeks planned (52 plans a year that wraps around).", min=1, max=52
    ),
]
ForecastOpt = Annotated[
    bool,
    typer.Option(
        "--forecast/--no-forecast",
        help="Plan against the demand forecast (default) or the last year of orders.",
    ),
]
BudgetOpt = Annotated[
    float | None,
    typer.Option("--budget", help="Cap on the season's purchases at fair prices (€).", min=0),
]


_DEFAULTS = PlanParams()  # the options' defaults are the settings type's


def _solver_options(
    time_limit: TimeOpt = None,  # depends on --stop (PlanParams.time_limit_s)
    stop: StopOpt = _DEFAULTS.stop,
    work: WorkOpt = _DEFAULTS.work,
    seed: SeedOpt = _DEFAULTS.seed,
    gap: GapOpt = _DEFAULTS.gap,
    solver: SolverOpt = _DEFAULTS.solver,
    log: LogOpt = _DEFAULTS.log,
    horizon_weeks: HorizonOpt = _DEFAULTS.horizon_weeks,
    forecast: ForecastOpt = True,
    budget: BudgetOpt = _DEFAULTS.budget_eur,
    min_producer_score: Annotated[
        float | None,
        typer.Option(
            "--min-producer-score",
            help="The producer grid as eligibility: farms scored below this % (or short of an "
            "eliminatory criterion) get no contract.",
            min=0,
            max=100,
        ),
    ] = _DEFAULTS.min_producer_score_pct,
    producer_preference: Annotated[
        float,
        typer.Option(
            "--producer-preference",
            help="The producer grid as a preference: € per kg × the farm's score taken off "
            "its purchase cost in the plan's choice (0: off).",
            min=0,
        ),
    ] = _DEFAULTS.weights.producer_score_eur_per_kg,
) -> None:
    """The options every plan command takes (their signature only: see :func:`_with_options`)."""


def _with_options(command):
    """Give ``command`` (which takes them as ``**options``) the plan options of
    :func:`_solver_options`, so that ``vivres plan`` and ``vivres plan compare`` declare them
    once."""
    own = inspect.signature(command, eval_str=True)
    shared = inspect.signature(_solver_options, eval_str=True)
    kept = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
    command.__signature__ = own.replace(parameters=[*kept, *shared.parameters.values()])
    command.__annotations__ = {
        **get_type_hints(command, include_extras=True),
        **get_type_hints(_solver_options, include_extras=True),
    }
    return command


def _console():
    from api.cli import console

    return console


def _hub_demand(
    territory: Territory, forecast: bool, params, lang: str = "fr"
) -> pd.DataFrame | None:
    """The forecast over the plan's weeks (``pipeline.plan_demand``), with a spinner."""
    from api.pipeline import plan_demand

    if not forecast:
        return None
    words = (
        "Prévision de la demande de la saison"
        if lang == "fr"
        else ("Forecasting the season's demand")
    )
    with _console().status(words):
        return plan_demand(territory, params, forecast=True)


def _solve(territory: Territory, hub, params, *, label: str, lang: str = "fr", **pipeline_options):
    """``pipeline.run_plan`` with a progress line (elapsed time, incumbent, bound, gap) unless
    the solver's log shows; returns the PlanStage."""
    from api.pipeline import run_plan

    if params.log:
        return run_plan(territory, hub, params, **pipeline_options)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=_console(), transient=True) as progress:
        fr = lang == "fr"
        head = (
            f"{label} : calcul avec {params.solver}"
            if fr
            else (f"{label}: solving with {params.solver}")
        )
        task = progress.add_task(head, total=None)

        def update(info: dict) -> None:
            parts = [head]
            if info.get("objective") is not None:
                parts.append(f"plan {num(info['objective'], 0, lang)}")
            if info.get("best_bound") is not None:
                parts.append(f"{'borne' if fr else 'bound'} {num(info['best_bound'], 0, lang)}")
            if info.get("gap") is not None and info.get("objective") is not None:
                gap = num(100 * info["gap"], 2, lang)
                parts.append(f"{'écart' if fr else 'gap'} {gap} %")
            progress.update(task, description=" · ".join(parts))

        return run_plan(territory, hub, params, on_progress=update, **pipeline_options)


def text_of_status(status: str, lang: str) -> str:
    """A plan's status word in ``lang``."""
    return PLAN_STATUS_FR.get(status, status) if lang == "fr" else status


def _summary(result, problem, out: Path | None, files: int = 0, lang: str = "fr") -> None:
    import planner

    console = _console()
    figures = planner.kpis(result, problem)

    def n(value, digits: int = 0) -> str:
        return "—" if value is None else num(value, digits, lang)

    gap = "—" if result.gap is None else f"{n(100 * result.gap, 3)} %"
    console.print(
        say(
            "plan_status",
            lang,
            status=text_of_status(result.status.value, lang),
            solver=result.solver,
            message=text(result.message, lang),
            objective=n(result.objective),
            bound=n(result.best_bound),
            gap=gap,
            seconds=n(result.runtime_s, 1),
            build=n(problem.build_s, 2),
        )
    )
    console.print(
        say(
            "plan_figures",
            lang,
            coverage=n(figures["coverage_pct"], 1),
            short=n(figures["shortfall_kg"]),
            waste=n(figures["waste_kg"]),
            purchases=n(figures["purchase_cost_eur"]),
            revenue_min=n(figures["revenue_farm_min_eur"]),
            revenue_median=n(figures["revenue_farm_median_eur"]),
            local=n(figures["local_share_pct"]),
        )
    )
    for line in result.explanation:
        console.print(f"  • {text(line, lang)}", highlight=False)
    if out is not None:
        console.print(say("plan_files", lang, count=files, out=out))


def _params(
    *,
    time_limit,
    stop,
    work,
    seed,
    gap,
    solver,
    log,
    horizon_weeks,
    budget,
    forecast=None,
    stability=None,
    min_producer_score=None,
    producer_preference=None,
):
    """The one place ``vivres plan`` options become PlanParams (``api.params.plan_params``);
    ``forecast`` is not a plan parameter (it chooses the demand planned against)."""
    from api.params import plan_params

    return plan_params(
        time_limit_s=time_limit,
        gap=gap,
        solver=solver,
        log=log,
        horizon_weeks=horizon_weeks,
        budget_eur=budget,
        stop=stop,
        work=work,
        seed=seed,
        stability_eur_per_bed=stability,
        min_producer_score_pct=min_producer_score,
        producer_score_eur_per_kg=producer_preference,
    )


@plan_app.callback()
@_with_options
def plan(
    ctx: typer.Context,
    data: DataOpt = SAMPLE_DIR,
    out: Annotated[
        Path, typer.Option("--out", help="Folder the plan is written to.", file_okay=False)
    ] = Path("out/plan"),
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            help="What-if scenario (YAML: demand factors, farm drop-out, yield "
            "shocks, prices, caisse households, budget; examples in data/scenarios/) applied to "
            "the inputs; the base plan is solved too and the KPIs compared.",
            dir_okay=False,
        ),
    ] = None,
    lang: LangOpt = "fr",
    **options,
) -> None:
    """Plan the season: beds per farm, crop and planting week; harvest; contracts; report."""
    if ctx.invoked_subcommand is not None:
        return
    import planner
    from api.pipeline import write_plan

    # a bad scenario file fails at once, before the forecast
    what_if = None if scenario is None else planner.load_scenario(scenario)
    territory = load_territory(data, strict=False)
    params = _params(**options)
    hub = _hub_demand(territory, options["forecast"], params, lang)
    if what_if is None:
        stage = _solve(territory, hub, params, label="plan", lang=lang)
        files = write_plan(stage, out, lang=lang)
        _summary(stage.result, stage.problem, out, len(files), lang)
        return
    runs = _compare(territory, hub, params, [what_if], out, lang=check_lang(lang))
    _kpi_table(runs, lang)


def _compare(
    territory: Territory, hub, params, scenarios, out: Path, *, lang: Lang
) -> dict[str, dict]:
    """Solve the base plan and each scenario; write each under ``out``; return their KPIs."""
    import planner
    from api.pipeline import write_plan

    console = _console()
    base_stage = _solve(territory, hub, params, label="base", lang=lang)
    base = base_stage.result
    files = write_plan(base_stage, out / "base", lang=lang)
    console.print(say("plan_files", lang, count=len(files), out=out / "base"))
    _summary(base, base_stage.problem, None, lang=lang)
    runs = {"base": base_stage.kpis}
    for what_if in scenarios:
        # from the base plan: its beds as the start, each one kept earns the stability term
        stage = _solve(
            territory,
            hub,
            params,
            label=what_if.name,
            lang=lang,
            scenario=what_if,
            base_plan=base.plan,
        )  # run_plan applies the scenario to the params
        result = stage.result
        folder = out / _slug(what_if.name)
        files = write_plan(stage, folder, lang=lang)
        console.print(
            f"[bold]{what_if.name}[/] · " + say("plan_files", lang, count=len(files), out=folder)
        )
        _summary(result, stage.problem, None, lang=lang)
        runs[what_if.name] = stage.kpis
        reach = what_if.affected_farms(base.plan, territory)
        kept = planner.beds_kept(base.plan, result.plan, reach)
        write_user_csv(kept, folder / "beds_kept.csv", lang=lang)
        kept = kept[kept["beds"] > 0]  # farms still in the plan
        if len(kept):
            calm = kept[kept["takes_over"] == ""]
            spared = kept[~kept["affected"]]
            console.print(
                say(
                    "beds_kept",
                    lang,
                    name=what_if.name,
                    kept=int((kept["kept_pct"] >= 95).sum()),
                    farms=len(kept),
                    median=num(kept["kept_pct"].median(), 1, lang),
                    spared=len(spared),
                    spared_kept=int((spared["kept_pct"] >= 95).sum()),
                    calm=len(calm),
                    calm_kept=int((calm["kept_pct"] >= 95).sum()),
                )
            )
    table = planner.kpi_table(runs)
    write_user_csv(table.rename_axis("kpi").reset_index(), out / "kpi_comparison.csv", lang=lang)
    console.print(say("kpi_comparison", lang, path=out / "kpi_comparison.csv"))
    return runs


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "scenario"


_KPI_ROWS = (  # key, French and English labels, decimals
    ("coverage_pct", "couverture de la demande %", "demand coverage %", 2),
    ("shortfall_kg", "manque kg", "shortfall kg", 0),
    ("waste_kg", "pertes kg", "waste kg", 0),
    ("purchase_cost_eur", "achats aux fermes €", "purchase cost €", 0),
    ("revenue_farm_min_eur", "chiffre d'affaires par ferme, min €", "revenue per farm, min €", 0),
    ("revenue_farm_median_eur", "chiffre d'affaires médian €", "revenue per farm, median €", 0),
    ("farms_below_floor", "fermes sous leur plancher", "farms below their floor", 0),
    ("local_share_pct", "achats à moins de 50 km %", "supply within 50 km %", 1),
    ("farms_supplying", "fermes qui livrent", "farms supplying", 0),
    (
        "fair_price_gap_eur",
        "écart au prix équitable à financer €",
        "fair-price gap to finance €",
        0,
    ),
    ("gap_pct", "écart à l'optimum %", "solver gap %", 3),
)


def _kpi_table(runs: dict[str, dict], lang: str = "fr") -> None:
    import planner

    fr = lang == "fr"
    names = list(runs)
    noise = {name: planner.within_noise(runs[names[0]], runs[name]) for name in names[1:]}
    title = (
        "Indicateurs des scénarios (Δ par rapport au plan de base ; ~ = dans le bruit du calcul)"
        if fr
        else "What-if KPIs (Δ against base; ~ = within solver noise)"
    )
    table = Table(title=title)
    table.add_column("indicateur" if fr else "KPI")
    for name in names:
        table.add_column(name, justify="right")
    for key, label_fr, label_en, digits in _KPI_ROWS:
        cells = []
        base = runs[names[0]].get(key)
        for name in names:
            value = runs[name].get(key)
            text = "—" if value is None else num(value, digits, lang)
            if name != names[0] and value is not None and base is not None:
                delta = value - base
                flag = noise[name].get(key)
                mark = " ~" if flag else " ?" if flag is None and key in noise[name] else ""
                sign = "+" if delta >= 0 else "−"
                text += f" ({sign}{num(abs(delta), digits, lang)}{mark})"
            cells.append(text)
        table.add_row(label_fr if fr else label_en, *cells)
    console = _console()
    console.print(table)
    for name in names[1:]:
        flagged = [k for k, v in noise[name].items() if v]
        gaps = ", ".join(
            "—" if runs[n].get("gap_pct") is None else f"{num(runs[n]['gap_pct'], 3, lang)} %"
            for n in (names[0], name)
        )
        if fr:
            console.print(
                f"{name} : {len(flagged)} écarts d'indicateurs sur {len(noise[name])} dans le "
                f"bruit du calcul (écarts à l'optimum {gaps}) : {', '.join(flagged) or 'aucun'}"
            )
        else:
            console.print(
                f"{name}: {len(flagged)} of {len(noise[name])} KPI differences within "
                f"solver noise (gaps {gaps}): {', '.join(flagged) or 'none'}"
            )


@plan_app.command("compare")
@_with_options
def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files (YAML).", dir_okay=False)],
    data: DataOpt = SAMPLE_DIR,
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder: base/ and one folder per scenario.", file_okay=False),
    ] = Path("out/plan_compare"),
    stability: Annotated[
        float,
        typer.Option(
            "--stability",
            min=0,
            help="€ per bed of the base plan a scenario gives up (same farm, "
            "crop and planting week): scenarios move beds only where the change pays for it; 0 "
            "re-plans freely.",
        ),
    ] = _DEFAULTS.weights.stability_eur_per_bed,
    lang: LangOpt = "fr",
    **options,
) -> None:
    """Solve the base plan and each scenario (from the base plan), and print their KPIs side
    by side."""

    import planner

    loaded = [planner.load_scenario(path) for path in scenarios]  # fail fast on bad files
    names = [s.name for s in loaded]
    if len(set(names)) != len(names):
        raise InputError("scenario names must differ: " + ", ".join(names))
    territory = load_territory(data, strict=False)
    params = _params(**options, stability=stability)
    hub = _hub_demand(territory, options["forecast"], params, lang)
    runs = _compare(territory, hub, params, loaded, out, lang=check_lang(lang))
    _kpi_table(runs, lang)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres plan`` (with ``compare``), ``vivres bench planner`` and
    ``vivres bench stability``."""
    from api.commands.plan_bench import bench_deadlines, bench_planner, bench_stability

    app.add_typer(plan_app, name="plan")
    bench_app.command("planner")(bench_planner)
    bench_app.command("stability")(bench_stability)
    bench_app.command("deadlines")(bench_deadlines)
