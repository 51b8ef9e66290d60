"""Request and response bodies of the HTTP API (pydantic)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.jobs.queue import KINDS
from api.jobs.queue import JobStatus as JobStatusEnum
from api.params import MAX_FORECAST_WEEKS, DemandSettings
from core.safety import scrub_paths
from core.schema import TABLES
from planner.params import DEFAULT_CAP_S, DEFAULT_TIME_RULE_S, SOLVERS, STOP_RULES, PlanParams
from routing.model import RouteParams

TableName = Literal[tuple(TABLES)]  # type: ignore[valid-type]
JobKind = Literal[KINDS]  # type: ignore[valid-type]
JobStatus = Literal[tuple(s.value for s in JobStatusEnum)]  # type: ignore[valid-type]

#: Request defaults come from the settings types (the same as the command line's).
_DEMAND, _PLAN, _ROUTE = DemandSettings(), PlanParams(), RouteParams()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


#: Timestamps are stored as naive UTC; they leave the API with their offset (RFC 3339).
Timestamp = Annotated[datetime, AfterValidator(_utc)]
#: Job errors and logs leave the API without the worker's temporary paths.
Scrubbed = Annotated[str, AfterValidator(scrub_paths)]


#: ``lang`` of a job writing files people read: the CLI's ``--lang`` (``api.params.output_lang``).
OutputLang = Annotated[
    Literal["fr", "en"],
    Field(
        description="language of the sheets, reports and user CSVs the job writes: fr "
        "(default; CSVs with ';' and decimal comma) or en (',' and '.'); JSON keys and "
        "machine CSVs stay English"
    ),
]


class Strict(BaseModel):
    """Bodies reject unknown fields (a typo is an error, not a silently ignored option) and
    non-finite numbers (NaN, Infinity, 1e309)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DemandRequest(Strict):
    """Build weekly demand and forecast the season (defaults: ``api.params.DemandSettings``)."""

    horizon_weeks: int = Field(
        _DEMAND.horizon_weeks,
        ge=1,
        le=MAX_FORECAST_WEEKS,
        strict=True,
        description="weeks to forecast",
    )
    level: int = Field(
        _DEMAND.level, ge=1, le=99, strict=True, description="prediction interval level (%)"
    )
    lang: OutputLang = "fr"


class PlanRequest(Strict):
    """Solve the season plan (defaults and bounds: ``planner.PlanParams``)."""

    time_limit_s: float | None = Field(
        None,
        ge=0.5,
        le=3600,
        description=f"seconds: a safety cap under stop=work (default "
        f"{DEFAULT_CAP_S:g}), the time used under stop=time (default {DEFAULT_TIME_RULE_S:g})",
    )
    stop: Literal[STOP_RULES] = Field(  # type: ignore[valid-type]
        _PLAN.stop,
        description="work: every search step stops after a fixed count (the same "
        "plan for the same inputs and seed on any machine); time: steps share the time limit",
    )
    work: float = Field(_PLAN.work, gt=0, le=1000, description="scale of the work budget")
    seed: int = Field(_PLAN.seed, ge=0, le=2**31 - 1, strict=True, description="search seed")
    gap: float = Field(_PLAN.gap, ge=0, lt=1, description="relative MIP gap to stop at")
    solver: Literal[SOLVERS] = Field(  # type: ignore[valid-type]
        _PLAN.solver, description="highs (default) or cbc"
    )
    budget_eur: float | None = Field(
        None,
        ge=0,
        le=1e12,
        description="cap on the season's purchases at fair prices (€); default: no cap",
    )
    forecast: bool = Field(
        True,
        strict=True,
        description="plan against the demand forecast (default) or the order history",
    )
    horizon_weeks: int = Field(
        _PLAN.horizon_weeks,
        ge=1,
        le=52,
        strict=True,
        description="weeks planned, and weeks of forecast planned "
        "against (52 plans a year that wraps around)",
    )
    demand_job_id: str | None = Field(
        None,
        max_length=36,
        description="use the hub forecast of this finished demand job (default: forecast anew)",
    )
    base_job_id: str | None = Field(
        None,
        max_length=36,
        description="a finished plan job of "
        "this territory to start from: the plan keeps its beds "
        "unless a change pays for moving them (what-ifs)",
    )
    stability_eur_per_bed: float | None = Field(
        None,
        ge=0,
        le=1e6,
        description="with base_job_id: € per base bed given up (default "
        f"{_PLAN.weights.stability_eur_per_bed:g}; 0 re-plans freely)",
    )
    min_producer_score_pct: float | None = Field(
        None,
        ge=0,
        le=100,
        description="the producer grid as eligibility: farms scored below this get no contract",
    )
    producer_score_eur_per_kg: float | None = Field(
        None,
        ge=0,
        le=100,
        description="the producer grid as a preference: € per kg × the farm's score off its cost",
    )
    lang: OutputLang = "fr"


class Transfer(Strict):
    """A direct farm → shop pair: picked up at the farm, delivered by the same truck."""

    from_site_id: str = Field(..., min_length=1, max_length=64)
    to_site_id: str = Field(..., min_length=1, max_length=64)
    storage_class: str = Field(..., min_length=1, max_length=32)
    kg: float = Field(..., gt=0, le=1e6)


class RouteRequest(Strict):
    """Solve the shared-truck routes of one season week (defaults: ``routing.RouteParams``)."""

    week: int = Field(
        ...,
        ge=1,
        le=53,
        strict=True,
        description="season week (1 = the week after the order history)",
    )
    time_limit_s: float = Field(
        _ROUTE.time_limit_s,
        ge=0.5,
        le=3600,
        description="at most this many solver seconds for the week "
        "(each day's search usually stops sooner)",
    )
    seed: int = Field(
        _ROUTE.seed, ge=0, le=2**31 - 1, strict=True, description="seed of the day choice"
    )
    guided: bool = Field(
        _ROUTE.guided,
        strict=True,
        description="guided local search until "
        "the time limit: often shorter routes, but they depend on the "
        "machine's speed",
    )
    pins: list[Annotated[str, Field(min_length=3, max_length=200)]] = Field(
        default_factory=list,
        max_length=1000,
        description="pinned stops: SITE=VEHICLE, "
        "SITE=VEHICLE@DAY or SITE=@DAY; the rest is re-optimised",
    )
    transfers: list[Transfer] = Field(
        default_factory=list, max_length=10_000, description="direct farm → shop pairs"
    )
    knobs: dict[str, Any] = Field(
        default_factory=dict,
        max_length=64,
        description="other routing knobs, the fields of "
        "routing.RouteParams (as in the command line's --params file), e.g. "
        '{"drop_penalty_eur": 2000, "break_after_h": 4.5}',
    )
    plan_job_id: str | None = Field(
        None,
        max_length=36,
        description="farm pickups from this "
        "finished plan's harvest (default: from the land able to "
        "grow the week's demand)",
    )
    lang: OutputLang = "fr"


class ScenarioRequest(Strict):
    """A what-if scenario: the planner's scenario file (YAML or JSON) as text."""

    name: str = Field(..., min_length=1, max_length=200)
    body: str = Field(
        ...,
        min_length=1,
        max_length=100_000,
        description="YAML or JSON, at most 100,000 characters; YAML anchors and "
        "aliases (& and *) are refused",
    )


class CompareRow(BaseModel):
    kpi: str
    a: Any = None
    b: Any = None
    change: float | None = Field(None, description="b − a for numbers")


class CompareOut(BaseModel):
    """Two plans' KPIs side by side."""

    a: str
    b: str
    scenario_a: str | None = None
    scenario_b: str | None = None
    kpis: list[CompareRow]


class JobOut(BaseModel):
    """A background job."""

    job_id: str
    kind: JobKind
    territory_id: str
    territory_version: int
    params: dict[str, Any]
    status: JobStatus
    progress: float
    message: Scrubbed
    error: Scrubbed | None = None
    summary: dict[str, Any] | None = None
    cancel_requested: bool
    rerun_of: str | None = None
    scenario_id: str | None = None
    created_at: Timestamp
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    heartbeat_at: Timestamp | None = None

    model_config = ConfigDict(from_attributes=True)


class LatestOut(BaseModel):
    """The newest succeeded job of a kind: what a producer needs to find its contract."""

    job_id: str
    kind: JobKind
    territory_id: str
    params: dict[str, Any]
    finished_at: Timestamp | None = None

    model_config = ConfigDict(from_attributes=True)


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    limit: int
    offset: int


class LogLine(BaseModel):
    log_id: int
    at: Timestamp
    level: str
    message: Scrubbed

    model_config = ConfigDict(from_attributes=True)


class RejectedRow(BaseModel):
    """A rejected input row, in the command line's rejects layout."""

    file: str
    row: int
    column: str
    reason: str
    values: dict[str, str] = Field(default_factory=dict)


class UploadOut(BaseModel):
    """What an upload did."""

    territory_id: str
    version: int
    applied: bool
    tables: dict[str, int] = Field(description="rows now stored, per changed table")
    received_rows: int
    accepted_rows: int
    num_rejected: int
    rejects: list[RejectedRow] = Field(description="the first 1000 rejected rows")


class TableInfo(BaseModel):
    rows: int
    sha256: str
    uploaded_at: Timestamp


class TerritoryOut(BaseModel):
    territory_id: str
    name: str
    version: int
    created_at: Timestamp
    updated_at: Timestamp
    tables: dict[str, TableInfo] = Field(default_factory=dict)


class TerritoryPage(BaseModel):
    items: list[TerritoryOut]
    total: int
    limit: int
    offset: int


Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


class FreezeRequest(Strict):
    """Freeze a producer's lines of a plan as a new contract version: later plans and what-ifs
    keep them bed for bed."""

    plan_job_id: str = Field(description="a succeeded plan job of this territory")
    producer_id: Slug
    crops: list[Slug] = Field(
        default_factory=list,
        max_length=200,
        description="freeze only these crops (default: the whole farm)",
    )
    until: date | None = Field(None, description="freeze only plantings up to this date")
    contract_id: Slug | None = Field(
        None, description="default: the producer id; freezing again adds a version"
    )


class RowsPage(BaseModel):
    """A page of a result table, rows as objects."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class ScenarioOut(BaseModel):
    scenario_id: str
    territory_id: str
    name: str
    body: str
    created_at: Timestamp

    model_config = ConfigDict(from_attributes=True)


class ScenarioPage(BaseModel):
    items: list[ScenarioOut]
    total: int
    limit: int
    offset: int


class KeyOut(BaseModel):
    """Who the calling key is."""

    key_id: int
    role: str
    producer_id: str | None = None
    name: str = ""


class Pickup(BaseModel):
    day: str
    date: str
    vehicle_id: str
    arrival: str
    departure: str
    pick_kg: float
    what: str


class PickupsOut(BaseModel):
    job_id: str
    producer_id: str
    week: int
    pickups: list[Pickup]
