"""A territory: every table of one food hub's network, loaded and cross-checked.

``load_territory(folder)`` is the one way in; it raises :class:`InputError` naming the file,
row and column of every problem. Activity tables (orders, caisse transactions) can instead be
read leniently with :func:`read_activity`, which keeps valid rows and returns the rejects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.errors import InputError, InputTooLarge, RowError
from core.schema import (
    ACTIVITY_TABLES,
    CAISSE_TABLES,
    MASTER_TABLES,
    OWNER_TABLES,
    PLAN_TABLES,
    POINT_OF_SALE_KINDS,
    TABLES,
    WEEK_TABLES,
    Table,
)
from core.tables import ReadResult, find_table_file, read_table

#: Default location of the sample territory shipped with the project.
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"


@dataclass(frozen=True, slots=True, kw_only=True)
class Territory:
    """The validated tables of a territory (pandas DataFrames, one per file).

    Each DataFrame has the columns of its table in ``core.schema`` (parsed: numbers as floats,
    times as minutes after midnight, dates as timestamps) plus ``row``, the line number in the
    source file, so later errors can point back at the input.
    """

    folder: Path
    sites: pd.DataFrame
    opening_hours: pd.DataFrame
    products: pd.DataFrame
    crops: pd.DataFrame
    crop_yields: pd.DataFrame
    producers: pd.DataFrame
    producer_crops: pd.DataFrame
    vehicles: pd.DataFrame
    caisses: pd.DataFrame | None = None
    households: pd.DataFrame | None = None
    caisse_rule: pd.DataFrame | None = None
    funders: pd.DataFrame | None = None
    caisse_criteria: pd.DataFrame | None = None
    shop_assessments: pd.DataFrame | None = None
    contract_terms: pd.DataFrame | None = None  # contract terms, per farm or '*'
    producer_criteria: pd.DataFrame | None = None  # the producer grid
    producer_assessments: pd.DataFrame | None = None
    contracts: pd.DataFrame | None = None  # frozen contract lines (planner.commitments)
    organisations: pd.DataFrame | None = None  # member organisations owning shops, vehicles
    availability: pd.DataFrame | None = None  # confirmed farm supply and hub stock per week
    storage: pd.DataFrame | None = None  # storage capacity per site and storage class
    orders: pd.DataFrame | None = None
    caisse_transactions: pd.DataFrame | None = None
    rejects: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def hub(self) -> pd.Series:
        """The pôle logistique's row in ``sites``."""
        return self.sites.loc[self.sites["kind"] == "hub"].iloc[0]

    @property
    def points_of_sale(self) -> pd.DataFrame:
        """Sites that receive deliveries."""
        return self.sites.loc[self.sites["kind"].isin(POINT_OF_SALE_KINDS)]

    @property
    def farms(self) -> pd.DataFrame:
        """Sites of kind farm."""
        return self.sites.loc[self.sites["kind"] == "farm"]

    def file_of(self, table: str) -> str:
        """Return the file name a table was read from (for error messages)."""
        path = find_table_file(self.folder, TABLES[table])
        return path.name if path else f"{table}.csv"


def _ids(df: pd.DataFrame, column: str) -> set[str]:
    return set(df[column].astype(str))


def _check(
    errors: list[RowError], df: pd.DataFrame, mask: pd.Series, file: str, column: str, message: str
) -> None:
    for idx in mask[mask].index[:100]:
        errors.append(
            RowError(
                file=file,
                row=int(df.at[idx, "row"]),
                column=column,
                message=message,
                value=df.at[idx, column],
            )
        )


def _cross_checks(tables: dict[str, pd.DataFrame], files: dict[str, str]) -> list[RowError]:
    """Rules spanning rows or tables that single-cell validation cannot see."""
    errors: list[RowError] = []
    sites = tables["sites"]
    hubs = sites.loc[sites["kind"] == "hub"]
    if len(hubs) != 1:
        message = f"exactly one site must be of kind 'hub'; found {len(hubs)}"
        errors.append(RowError(file=files["sites"], row=None, column="kind", message=message))
    kind_of = dict(zip(sites["site_id"], sites["kind"], strict=True))

    hours = tables["opening_hours"]
    _check(
        errors,
        hours,
        hours["close"] <= hours["open"],
        files["opening_hours"],
        "close",
        "closing time must be after opening time",
    )

    producers = tables["producers"]
    not_farm = producers["site_id"].map(kind_of) != "farm"
    _check(
        errors, producers, not_farm, files["producers"], "site_id", "must be a site of kind 'farm'"
    )

    vehicles = tables["vehicles"]
    bad_depot = ~vehicles["depot_site_id"].map(kind_of).isin(["hub", "depot"])
    _check(
        errors,
        vehicles,
        bad_depot,
        files["vehicles"],
        "depot_site_id",
        "must be a site of kind 'hub' or 'depot'",
    )
    _check(
        errors,
        vehicles,
        vehicles["shift_end"] <= vehicles["shift_start"],
        files["vehicles"],
        "shift_end",
        "shift must end after it starts",
    )

    crops = tables["crops"]
    yields = tables["crop_yields"]
    no_calendar = ~crops["crop_id"].isin(yields["crop_id"])
    _check(
        errors,
        crops,
        no_calendar,
        files["crops"],
        "crop_id",
        "has no harvest calendar rows in crop_yields",
    )
    dup = yields.duplicated(["crop_id", "week_after_planting"])
    _check(
        errors,
        yields,
        dup,
        files["crop_yields"],
        "week_after_planting",
        "duplicate week for this crop",
    )

    if "contracts" in tables:
        errors.extend(_contract_checks(tables["contracts"], files["contracts"]))
    if "contract_terms" in tables:
        terms = tables["contract_terms"]
        known = set(producers["producer_id"]) | {"*"}
        _check(
            errors,
            terms,
            ~terms["producer_id"].isin(known),
            files["contract_terms"],
            "producer_id",
            "must be a producer id of producers, or * for every farm",
        )

    errors.extend(_week_checks(tables, files, kind_of))
    errors.extend(_owner_checks(tables, files))
    errors.extend(_caisse_checks(tables, files))

    pc = tables["producer_crops"]
    land = producers.set_index("producer_id")[["open_field_m2", "greenhouse_m2", "orchard_m2"]]
    land_type = crops.set_index("crop_id")["land_type"]
    need = pc["crop_id"].map(land_type) + "_m2"
    have = [
        land.at[p, n] if p in land.index and n in land.columns else 0.0
        for p, n in zip(pc["producer_id"], need, strict=True)
    ]
    _check(
        errors,
        pc,
        pd.Series([h <= 0 for h in have], index=pc.index),
        files["producer_crops"],
        "crop_id",
        "producer has no land of the type this crop needs",
    )
    return errors


def _owner_checks(tables: dict[str, pd.DataFrame], files: dict[str, str]) -> list[RowError]:
    """With ``organisations.csv``, every point of sale and vehicle names a known owner;
    without it, no owner may be named."""
    errors: list[RowError] = []
    orgs = tables.get("organisations")
    known = set() if orgs is None else set(orgs["organisation_id"].astype(str))
    where = "not in organisations" if orgs is not None else "no organisations.csv to name it"
    for name, must in (
        ("sites", tables["sites"]["kind"].isin(POINT_OF_SALE_KINDS)),
        ("vehicles", pd.Series(True, index=tables["vehicles"].index)),
    ):
        frame = tables[name]
        if "organisation_id" not in frame.columns:
            continue
        owner = frame["organisation_id"].fillna("").astype(str).str.strip()
        _check(
            errors,
            frame,
            (owner != "") & ~owner.isin(known),
            files[name],
            "organisation_id",
            f"unknown organisation ({where})",
        )
        if orgs is not None:
            _check(
                errors,
                frame,
                must & (owner == ""),
                files[name],
                "organisation_id",
                "needs its owning organisation (organisations.csv is given)",
            )
    return errors


def _week_checks(
    tables: dict[str, pd.DataFrame], files: dict[str, str], kind_of: dict[str, str]
) -> list[RowError]:
    """Availability rows name a farm or the hub, a Monday, and one product once a week;
    storage rows one site and class once."""
    errors: list[RowError] = []
    if "storage" in tables:
        storage = tables["storage"]
        _check(
            errors,
            storage,
            storage.duplicated(["site_id", "storage_class"]),
            files["storage"],
            "storage_class",
            "the same site and storage class twice",
        )
    if "availability" not in tables:
        return errors
    avail, file = tables["availability"], files["availability"]
    site_kind = avail["site_id"].map(kind_of)
    _check(
        errors,
        avail,
        ~site_kind.isin(["farm", "hub"]),
        file,
        "site_id",
        "must be a farm (its confirmed supply) or the hub (its stock)",
    )
    _check(
        errors,
        avail,
        pd.to_datetime(avail["week_start"]).dt.weekday != 0,
        file,
        "week_start",
        "the week starts on its Monday",
    )
    _check(
        errors,
        avail,
        avail.duplicated(["week_start", "site_id", "product_id"]),
        file,
        "product_id",
        "the same site, product and week twice",
    )
    return errors


def _caisse_checks(tables: dict[str, pd.DataFrame], files: dict[str, str]) -> list[RowError]:
    """Several caisses: each household names its own; grid rows name a criterion of their
    caisse, within its points."""
    errors: list[RowError] = []
    caisses = tables.get("caisses")
    for name in ("funders", "caisse_criteria", "shop_assessments"):
        if name in tables and caisses is None:
            errors.append(
                RowError(
                    file=files[name], row=None, column="caisse_id", message="needs caisses.csv"
                )
            )
    hh = tables.get("households")
    if caisses is not None and hh is not None and len(caisses) > 1:
        message = "must name the household's caisse: the territory has several"
        missing = hh["caisse_id"].isna() | (hh["caisse_id"].astype(str).str.strip() == "")
        _check(errors, hh, missing, files["households"], "caisse_id", message)
    criteria = tables.get("caisse_criteria")
    if criteria is not None:
        key = ["caisse_id", "criterion_id"]
        file = files["caisse_criteria"]
        _check(errors, criteria, criteria.duplicated(key), file, "criterion_id", "given twice")
        over = criteria["min_points"] > criteria["max_points"]
        _check(errors, criteria, over, file, "min_points", "above max_points")
    marks = tables.get("shop_assessments")
    if marks is not None:
        limits = (
            criteria.set_index(["caisse_id", "criterion_id"])["max_points"].to_dict()
            if criteria is not None
            else {}
        )
        pairs = zip(marks["caisse_id"], marks["criterion_id"], strict=True)
        ceiling = pd.Series([limits.get(pair) for pair in pairs], index=marks.index, dtype=float)
        file = files["shop_assessments"]
        message = "not a criterion of this caisse in caisse_criteria"
        _check(errors, marks, ceiling.isna(), file, "criterion_id", message)
        _check(errors, marks, marks["points"] > ceiling, file, "points", "above max_points")
    return errors


def _contract_checks(contracts: pd.DataFrame, file: str) -> list[RowError]:
    """A contract version names one producer, one scope and one ``until``; a line once; a
    planting date is a Monday."""
    errors: list[RowError] = []
    for column in ("producer_id", "scope", "until"):
        values = contracts[column].astype(str)
        mixed = (
            values.groupby([contracts["contract_id"], contracts["version"]]).transform("nunique")
            > 1
        )
        _check(
            errors,
            contracts,
            mixed,
            file,
            column,
            f"one contract version has one {column}; this version has several",
        )
    dup = contracts.duplicated(["contract_id", "version", "crop_id", "plant_date"])
    _check(
        errors,
        contracts,
        dup,
        file,
        "plant_date",
        "the same crop and planting date twice in one contract version",
    )
    not_monday = pd.to_datetime(contracts["plant_date"]).dt.weekday != 0
    _check(
        errors,
        contracts,
        not_monday,
        file,
        "plant_date",
        "a planting date is the Monday of its week",
    )
    return errors


def load_territory(
    folder: Path | str = SAMPLE_DIR, *, activity: bool = True, strict: bool = True
) -> Territory:
    """Load and validate every table of the territory in ``folder``.

    Parameters
    ----------
    folder
        Directory holding the territory files (see ``data/README.md``).
    activity
        Also read orders and caisse transactions.
    strict
        Raise on any bad activity row; otherwise keep the valid rows and put the rejected ones
        in ``Territory.rejects`` (master tables are always strict).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"territory folder {folder} does not exist")
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    refs: dict[str, set[str]] = {}
    errors: list[RowError] = []
    rejects: dict[str, pd.DataFrame] = {}

    def read(table: Table, *, required: bool, lenient: bool = False) -> None:
        path = find_table_file(folder, table)
        if path is None:
            if required:
                errors.append(
                    RowError(
                        file=f"{table.name}.csv",
                        row=None,
                        column=None,
                        message="file not found (expected .csv, .csv.gz or .xlsx)",
                    )
                )
            return
        files[table.name] = path.name
        try:
            result: ReadResult = read_table(path, table, refs=refs, strict=not lenient)
        except InputTooLarge:  # over a cap: stop at once, and keep the 413 kind
            raise
        except InputError as exc:
            errors.extend(exc.errors)
            return
        tables[table.name] = result.valid
        if len(result.rejects):
            rejects[table.name] = result.rejects
        for col in table.columns:
            if col.unique:
                refs[f"{table.name}.{col.name}"] = _ids(result.valid, col.name)

    # order matters: referenced tables first
    for table in OWNER_TABLES:
        read(table, required=False)
    for table in MASTER_TABLES:
        read(table, required=True)
    for table in (*CAISSE_TABLES, *PLAN_TABLES, *WEEK_TABLES):
        read(table, required=False)
    if not errors:  # rules across tables need every table read
        errors.extend(_cross_checks(tables, files))
    if activity:  # read even when master data has errors: one pass names every bad cell
        for table in ACTIVITY_TABLES:
            read(table, required=False, lenient=not strict)
    if errors:
        raise InputError(errors)
    return Territory(folder=folder, rejects=rejects, **tables)


def read_activity(path: Path | str, table_name: str, territory: Territory) -> ReadResult:
    """Read an orders or caisse-transactions file leniently against a loaded territory."""
    table = TABLES[table_name]
    refs = {
        "sites.site_id": _ids(territory.sites, "site_id"),
        "products.product_id": _ids(territory.products, "product_id"),
    }
    if territory.households is not None:
        refs["households.household_id"] = _ids(territory.households, "household_id")
    return read_table(Path(path), table, refs=refs, strict=False)
