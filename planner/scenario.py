"""What-if scenarios: a YAML file of changes to the base inputs, applied before re-planning.

A scenario file::

    name: drought-and-dropout
    description: A farm stops and a summer drought halves the tomato harvest.
    changes:
      - demand: {factor: 1.2}                       # all planned demand × 1.2
      - demand: {factor: 1.5, product: tomate}      # one product
      - demand: {factor: 1.3, site: pos_001}        # one point of sale (its share of each
                                                    #   product in the order history)
      - drop_farm: prod_003                         # a farm leaves the partnership
      - yield_shock: {crop: tomate_abri, factor: 0.5, weeks: [26, 34]}   # season weeks
      - yield_shock: {product: laitue, factor: 0.0, weeks: [30, 31]}     # hail
      - price: {product: tomate, factor: 1.1}       # or {product: ..., eur_per_kg: 4.4}
      - caisse_households: 100                      # more households in the caisse commune
      - budget_eur: 1500000                         # cap the season's purchases

Every problem is reported with the file and the change's position, e.g. ``drought.yaml
changes[2].yield_shock: unknown crop 'tomatoe'``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from core.errors import InputError, RowError
from core.territory import Territory
from core.units import order_kg
from planner.params import PlanParams, YieldShock

KINDS = ("demand", "drop_farm", "yield_shock", "price", "caisse_households", "budget_eur")
#: A scenario is a few lines; a bigger file is refused before it is parsed.
MAX_SCENARIO_BYTES = 100_000


class _PlainLoader(yaml.SafeLoader):
    """YAML's safe loader without anchors and aliases (``&a``, ``*a``): they are what makes
    a 400-byte "billion laughs" document expand to gigabytes, and scenarios never need them."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None,
                None,
                "anchors and aliases (& and *) are not allowed in scenarios",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def parse_yaml(text: str) -> Any:
    """Parse a scenario document with :class:`_PlainLoader` (no anchors, aliases or tags)."""
    return yaml.load(text, Loader=_PlainLoader)  # a SafeLoader subclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One validated change of a scenario."""

    kind: str
    factor: float = 1.0
    product_id: str | None = None
    site_id: str | None = None
    crop_id: str | None = None
    producer_id: str | None = None
    weeks: tuple[int, int] | None = None
    eur_per_kg: float | None = None
    households: int = 0
    budget_eur: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A named list of changes to the base inputs."""

    name: str
    description: str = ""
    changes: tuple[Change, ...] = ()
    path: Path | None = None

    def touched_products(self, base_plan: pd.DataFrame) -> set[str] | None:
        """Products whose supply or demand the scenario changes directly: a dropped farm's
        products in the base plan, the product (or the shocked crop's products) of a demand,
        yield or price change. ``None``: the change reaches every product (demand or price
        everywhere or at a site, more caisse households, a budget)."""
        touched: set[str] = set()
        for c in self.changes:
            if c.kind == "drop_farm":
                mine = base_plan["producer_id"] == c.producer_id
                touched |= set(base_plan.loc[mine, "product_id"])
            elif c.kind in ("demand", "price", "yield_shock") and c.product_id is not None:
                touched.add(c.product_id)
            elif c.kind == "yield_shock" and c.crop_id is not None:
                touched |= set(base_plan.loc[base_plan["crop_id"] == c.crop_id, "product_id"])
            else:
                return None
        return touched

    def affected_farms(self, base_plan: pd.DataFrame, territory: Territory) -> set[str] | None:
        """Farms the change can reach before any solve: those able to grow (``producer_crops``)
        a product it touches (:meth:`touched_products`), and the farms it names. ``None``:
        every farm."""
        touched = self.touched_products(base_plan)
        if touched is None:
            return None
        crops = territory.crops.set_index("crop_id")["product_id"]
        grows = territory.producer_crops.assign(
            product_id=territory.producer_crops["crop_id"].map(crops)
        )
        reach = set(grows.loc[grows["product_id"].isin(touched), "producer_id"])
        return reach | {c.producer_id for c in self.changes if c.producer_id is not None}

    def adjust_params(self, params: PlanParams) -> PlanParams:
        """Parameters with the scenario's yield shocks and budget."""
        shocks = tuple(
            YieldShock(
                factor=c.factor,
                weeks=c.weeks,
                crop_id=c.crop_id,
                product_id=c.product_id,
                label=self.name,
            )
            for c in self.changes
            if c.kind == "yield_shock" and c.weeks is not None
        )
        budget = params.budget_eur
        for c in self.changes:
            if c.kind == "budget_eur":
                budget = c.budget_eur
        return dataclasses.replace(
            params, yield_shocks=params.yield_shocks + shocks, budget_eur=budget
        )


class _Reader:
    def __init__(self, file: str):
        self.file = file
        self.errors: list[RowError] = []

    def fail(self, where: str, message: str, value: Any = None) -> None:
        self.errors.append(
            RowError(file=self.file, row=None, column=where, message=message, value=value)
        )

    def number(
        self, spec: dict, key: str, where: str, *, minimum: float = 0.0, required: bool = True
    ) -> float | None:
        if key not in spec:
            if required:
                self.fail(where, f"missing {key!r}")
            return None
        value = spec[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= minimum:
            self.fail(f"{where}.{key}", f"expected a number >= {minimum:g}", value)
            return None
        return float(value)


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario file (structure, numbers; ids are checked when applied)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"scenario file {path.name} does not exist")
    size = path.stat().st_size
    if size > MAX_SCENARIO_BYTES:
        raise InputError(
            [
                RowError(
                    file=path.name,
                    row=None,
                    column=None,
                    message=f"is {size:,} bytes; a scenario file may have at "
                    f"most {MAX_SCENARIO_BYTES:,}",
                )
            ]
        )
    try:
        doc = parse_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(
            [RowError(file=path.name, row=None, column=None, message="is not UTF-8 text")]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        raise InputError(
            [
                RowError(
                    file=path.name,
                    row=row,
                    column=None,
                    message=f"not valid YAML ({getattr(exc, 'problem', exc)})",
                )
            ]
        ) from None
    r = _Reader(path.name)
    if not isinstance(doc, dict):
        raise InputError(
            [
                RowError(
                    file=path.name,
                    row=None,
                    column=None,
                    message="expected a mapping with 'name' and 'changes'",
                )
            ]
        )
    unknown = set(doc) - {"name", "description", "changes"}
    if unknown:
        r.fail(
            ", ".join(sorted(map(str, unknown))),
            "unknown key (expected name, description, changes)",
        )
    raw_changes = doc.get("changes") or []
    if not isinstance(raw_changes, list):
        r.fail("changes", "expected a list of changes", raw_changes)
        raw_changes = []
    changes = []
    for i, item in enumerate(raw_changes):
        where = f"changes[{i}]"
        if not isinstance(item, dict) or len(item) != 1:
            r.fail(where, f"expected one of {', '.join(KINDS)} as a single key", item)
            continue
        kind, spec = next(iter(item.items()))
        where = f"{where}.{kind}"
        change = _read_change(r, kind, spec, where)
        if change is not None:
            changes.append(change)
    if r.errors:
        raise InputError(r.errors)
    return Scenario(
        name=str(doc.get("name") or path.stem),
        description=str(doc.get("description") or ""),
        changes=tuple(changes),
        path=path,
    )


def _read_change(r: _Reader, kind: str, spec: Any, where: str) -> Change | None:
    if kind == "drop_farm":
        if not isinstance(spec, str) or not spec:
            r.fail(where, "expected a producer_id", spec)
            return None
        return Change(kind=kind, producer_id=spec)
    if kind == "caisse_households":
        if isinstance(spec, bool) or not isinstance(spec, int) or spec < 0:
            r.fail(where, "expected a whole number of households >= 0", spec)
            return None
        return Change(kind=kind, households=int(spec))
    if kind == "budget_eur":
        if isinstance(spec, bool) or not isinstance(spec, int | float) or spec < 0:
            r.fail(where, "expected a number of euros >= 0", spec)
            return None
        return Change(kind=kind, budget_eur=float(spec))
    if kind not in KINDS:
        r.fail(where, f"unknown change (expected one of {', '.join(KINDS)})")
        return None
    if not isinstance(spec, dict):
        r.fail(where, "expected a mapping of options", spec)
        return None
    allowed = {
        "demand": {"factor", "product", "site"},
        "yield_shock": {"factor", "crop", "product", "weeks"},
        "price": {"factor", "eur_per_kg", "product"},
    }[kind]
    extra = set(spec) - allowed
    if extra:
        r.fail(
            where,
            f"unknown option(s) {', '.join(sorted(map(str, extra)))} (expected "
            f"{', '.join(sorted(allowed))})",
        )
        return None
    product = spec.get("product")
    if kind == "demand":
        factor = r.number(spec, "factor", where)
        if "product" in spec and "site" in spec:
            r.fail(where, "give either product or site, not both")
        return (
            None
            if factor is None
            else Change(kind=kind, factor=factor, product_id=product, site_id=spec.get("site"))
        )
    if kind == "yield_shock":
        factor = r.number(spec, "factor", where)
        weeks = spec.get("weeks")
        ok = (
            isinstance(weeks, list)
            and len(weeks) == 2
            and all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 52 for w in weeks)
            and weeks[0] <= weeks[1]
        )
        if not ok:
            r.fail(f"{where}.weeks", "expected [first, last] season weeks in 1..52", weeks)
        if ("crop" in spec) == ("product" in spec):
            r.fail(where, "give exactly one of crop or product")
            return None
        if factor is None or not ok or not isinstance(weeks, list):
            return None
        return Change(
            kind=kind,
            factor=factor,
            crop_id=spec.get("crop"),
            product_id=product,
            weeks=(weeks[0], weeks[1]),
        )
    # price
    if product is None:
        r.fail(where, "missing 'product'")
        return None
    if ("factor" in spec) == ("eur_per_kg" in spec):
        r.fail(where, "give exactly one of factor or eur_per_kg")
        return None
    if "factor" in spec:
        factor = r.number(spec, "factor", where, minimum=0.01)
        return None if factor is None else Change(kind=kind, factor=factor, product_id=product)
    price = r.number(spec, "eur_per_kg", where, minimum=0.01)
    return None if price is None else Change(kind=kind, eur_per_kg=price, product_id=product)


def apply_scenario(
    territory: Territory, hub_demand: pd.DataFrame | None, scenario: Scenario
) -> tuple[Territory, pd.DataFrame]:
    """Return the territory and hub demand with the scenario's changes applied.

    Yield shocks and the budget are not inputs but parameters: see
    :meth:`Scenario.adjust_params`. When ``hub_demand`` is None the order history is used
    (as the planner would).
    """
    from planner.inputs import history_demand

    file = scenario.path.name if scenario.path else scenario.name
    errors: list[RowError] = []
    products = set(territory.products["product_id"])
    producers = set(territory.producers["producer_id"])
    crops = set(territory.crops["crop_id"])
    sites = set(territory.sites["site_id"])
    if hub_demand is None:
        hub_demand = history_demand(territory)
    hub = hub_demand.copy()
    for i, c in enumerate(scenario.changes):
        where = f"changes[{i}].{c.kind}"

        def bad(field: str, message: str, value: Any, where: str = where) -> None:
            errors.append(
                RowError(
                    file=file, row=None, column=f"{where}.{field}", message=message, value=value
                )
            )

        if c.product_id is not None and c.product_id not in products:
            bad("product", "unknown product (not in products)", c.product_id)
            continue
        if c.kind == "drop_farm":
            if c.producer_id not in producers:
                bad("producer", "unknown producer (not in producers)", c.producer_id)
                continue
            territory = dataclasses.replace(
                territory,
                producers=territory.producers.loc[
                    territory.producers["producer_id"] != c.producer_id
                ],
                producer_crops=territory.producer_crops.loc[
                    territory.producer_crops["producer_id"] != c.producer_id
                ],
            )
        elif c.kind == "demand":
            if c.site_id is not None and c.site_id not in sites:
                bad("site", "unknown site (not in sites)", c.site_id)
                continue
            factor = _demand_factor(territory, hub, c)
            hub = _scale(hub, factor)
        elif c.kind == "yield_shock":
            if c.crop_id is not None and c.crop_id not in crops:
                bad("crop", "unknown crop (not in crops)", c.crop_id)
        elif c.kind == "price":
            prices = territory.products["fair_price_eur_per_kg"]
            mask = territory.products["product_id"] == c.product_id
            new = prices * c.factor if c.eur_per_kg is None else c.eur_per_kg
            territory = dataclasses.replace(
                territory,
                products=territory.products.assign(
                    fair_price_eur_per_kg=np.where(mask, new, prices)
                ),
            )
        elif c.kind == "caisse_households":
            hub = _scale(hub, _caisse_factor(territory, hub, c.households, file, where, errors))
    if errors:
        raise InputError(errors)
    return territory, hub


def _scale(hub: pd.DataFrame, factor: pd.Series | float) -> pd.DataFrame:
    """Multiply kg, low and high (per product when ``factor`` is a Series by product_id)."""
    if isinstance(factor, pd.Series):
        factor = hub["product_id"].map(factor).fillna(1.0).to_numpy()
    out = hub.copy()
    for col in ("kg", "low", "high"):
        if col in out:
            out[col] = out[col] * factor
    return out


def _kg_orders(territory: Territory) -> pd.DataFrame:
    orders = territory.orders
    if orders is None:
        raise InputError("no orders: the territory needs orders.csv for this change")
    products = territory.products.set_index("product_id")
    return orders.assign(kg=order_kg(orders, products))


def _demand_factor(territory: Territory, hub: pd.DataFrame, c: Change) -> pd.Series | float:
    if c.product_id is not None:
        return pd.Series({c.product_id: c.factor})
    if c.site_id is None:
        return c.factor
    # one site: its share of each product in the last year of orders scales by the factor
    if territory.orders is None or territory.orders.empty:
        raise InputError(f"a per-site demand change needs orders.csv (site {c.site_id})")
    orders = _kg_orders(territory)
    last = pd.to_datetime(orders["date"]).max()
    recent = orders.loc[pd.to_datetime(orders["date"]) > last - pd.Timedelta(weeks=52)]
    by_product = recent.groupby("product_id")["kg"].sum()
    of_site = recent.loc[recent["site_id"] == c.site_id].groupby("product_id")["kg"].sum()
    share = (of_site / by_product).reindex(by_product.index).fillna(0.0)
    return 1.0 + (c.factor - 1.0) * share


def spending_per_household_week(transactions: pd.DataFrame) -> float:
    """What an enrolled household spends a week: the payments over the weeks each household
    was spending, from the month of its first payment to the end of the last month paid
    (households that joined mid-way do not dilute it)."""
    times = pd.to_datetime(transactions["timestamp"])
    months = times.dt.to_period("M")
    end = (months.max() + 1).to_timestamp()
    first = months.groupby(transactions["household_id"]).min().dt.to_timestamp()
    weeks = float(((end - first).dt.days / 7.0).clip(lower=1.0).sum())
    return float(transactions["amount"].sum()) / max(weeks, 1.0)


def _caisse_factor(
    territory: Territory,
    hub: pd.DataFrame,
    households: int,
    file: str,
    where: str,
    errors: list[RowError],
) -> pd.Series | float:
    """Per-product demand factor from ``households`` more caisse households.

    Each new household spends what an enrolled one spent on average per week (caisse
    payments of the last year), at the approved shops, on their basket: the kilos that spending
    buys (orders of the conventionné shops valued at retail prices) are added to each product
    in proportion to its season profile.
    """
    if households == 0:
        return 1.0
    tx = territory.caisse_transactions
    if tx is None or tx.empty or territory.households is None or territory.orders is None:
        errors.append(
            RowError(
                file=file,
                row=None,
                column=where,
                message="the territory has no caisse (households.csv and caisse_transactions.csv)",
            )
        )
        return 1.0
    eur_per_household_week = spending_per_household_week(tx)
    approved = set(territory.sites.loc[territory.sites["conventionne"], "site_id"])
    orders = _kg_orders(territory)
    orders = orders.loc[orders["site_id"].isin(approved)]
    products = territory.products.set_index("product_id")
    value = orders["quantity"] * orders["product_id"].map(products["retail_price_eur_per_unit"])
    value = value.where(
        orders["unit"] != "kg",
        orders["kg"]
        * orders["product_id"].map(products["retail_price_eur_per_unit"] / products["kg_per_unit"]),
    )
    basket = (
        pd.DataFrame({"product_id": orders["product_id"], "kg": orders["kg"], "eur": value})
        .groupby("product_id")[["kg", "eur"]]
        .sum()
    )
    kg_per_eur = basket["kg"] / basket["eur"].sum()
    extra_kg_week = households * eur_per_household_week * kg_per_eur  # per product
    season = hub.groupby("product_id")["kg"].sum()
    n_weeks = hub["week_start"].nunique()
    return 1.0 + (extra_kg_week * n_weeks / season.reindex(extra_kg_week.index)).replace(
        [np.inf, -np.inf], np.nan
    ).fillna(0.0)
