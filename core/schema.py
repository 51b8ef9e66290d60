"""The territory's tables: one file per concept, their columns and the rules each cell obeys.

A territory is a folder holding these files (``.csv``, ``.csv.gz`` or ``.xlsx``). This module
is the single source of truth for the file layout; ``data/README.md`` documents it for users.
"""

from __future__ import annotations

from core.columns import (  # noqa: F401  (the layout's types and enums, re-exported)
    CATEGORIES,
    LAND_TYPES,
    POINT_OF_SALE_KINDS,
    SITE_KINDS,
    STORAGE_CLASSES,
    UNITS,
    WEEKDAYS,
    Column,
    Table,
    _c,
)
from core.schema_caisse import (
    CAISSE_CRITERIA,
    CAISSE_RULE,
    CAISSE_TRANSACTIONS,
    CAISSES,
    FUNDERS,
    HOUSEHOLDS,
    SHOP_ASSESSMENTS,
)

SITES = Table(
    name="sites",
    doc="Every place a truck stops: the hub, depots, farms and points of sale.",
    columns=(
        _c("site_id", "id", unique=True),
        _c("name", "str"),
        _c("kind", "enum", choices=SITE_KINDS),
        _c("commune", "str", required=False, default=""),
        _c("address", "str", required=False, default=""),
        _c("lat", "float", min=-90, max=90),
        _c("lon", "float", min=-180, max=180),
        _c(
            "service_min",
            "float",
            min=0,
            max=240,
            required=False,
            default=10.0,
            doc="minutes spent at the stop",
        ),
        _c(
            "conventionne",
            "bool",
            required=False,
            default=False,
            doc="approved by the caisse commune",
        ),
        _c("deliveries_per_week", "int", min=0, max=7, required=False, default=1),
        _c(
            "delivery_days",
            "weekdays",
            required=False,
            default="",
            doc="fixed delivery days, e.g. 'tue,fri'; empty lets the router choose",
        ),
        _c("contact", "str", required=False, default=""),
        _c("notes", "str", required=False, default=""),
        _c(
            "share_weight",
            "float",
            min=0.01,
            max=100,
            required=False,
            default=1.0,
            doc="weight of the shop when a short product is shared (2: twice the fill rate "
            "of a shop of weight 1 until served in full)",
        ),
        _c(
            "organisation_id",
            "str",
            required=False,
            default="",
            doc="the member organisation owning a point of sale, depot or the hub "
            "(organisations.csv; empty for farms, which sell to whoever buys)",
        ),
    ),
)

OPENING_HOURS = Table(
    name="opening_hours",
    doc="Opening hours (points of sale) and pickup windows (farms); several rows per day allowed.",
    columns=(
        _c("site_id", "id", ref="sites.site_id"),
        _c("weekday", "enum", choices=WEEKDAYS),
        _c("open", "time"),
        _c("close", "time"),
    ),
)

PRODUCTS = Table(
    name="products",
    doc="The catalogue.",
    columns=(
        _c("product_id", "id", unique=True),
        _c("name", "str"),
        _c("category", "enum", choices=CATEGORIES),
        _c("unit", "enum", choices=UNITS, doc="unit the shops order in"),
        _c("kg_per_unit", "float", min=0.001, max=1000),
        _c("storage_class", "enum", choices=STORAGE_CLASSES),
        _c("shelf_life_days", "int", min=1, max=3650),
        _c(
            "fair_price_eur_per_kg",
            "float",
            min=0.01,
            max=1000,
            doc="prix rémunérateur paid to the producer",
        ),
        _c("retail_price_eur_per_unit", "float", min=0.01, max=1000),
    ),
)

CROPS = Table(
    name="crops",
    doc="What a farm can plant: one row per crop and planting window.",
    columns=(
        _c("crop_id", "id", unique=True),
        _c("name", "str"),
        _c("product_id", "id", ref="products.product_id", doc="what the harvest is sold as"),
        _c("family", "str", doc="botanical family, for rotation"),
        _c("land_type", "enum", choices=LAND_TYPES),
        _c("bed_m2", "float", min=1, max=100000, doc="area of one bed (the planting unit)"),
        _c("min_beds", "int", min=1, max=10000, required=False, default=1),
        _c("plant_week_first", "int", min=1, max=53),
        _c(
            "plant_week_last",
            "int",
            min=1,
            max=53,
            doc="may be smaller than plant_week_first when the window spans the new year",
        ),
        _c(
            "labour_h_per_m2",
            "float",
            min=0,
            max=100,
            doc="labour over the whole cycle (planting, care, harvest)",
        ),
    ),
)

CROP_YIELDS = Table(
    name="crop_yields",
    doc="The crop calendar: harvest per m² in each week after planting.",
    columns=(
        _c("crop_id", "id", ref="crops.crop_id"),
        _c("week_after_planting", "int", min=0, max=104),
        _c("yield_kg_per_m2", "float", min=0, max=100),
    ),
)

PRODUCERS = Table(
    name="producers",
    doc="Partner farms: land, labour and the fair revenue they need from the partnership.",
    columns=(
        _c("producer_id", "id", unique=True),
        _c("site_id", "id", ref="sites.site_id"),
        _c("name", "str"),
        _c("open_field_m2", "float", min=0, max=1e7, required=False, default=0.0),
        _c("greenhouse_m2", "float", min=0, max=1e7, required=False, default=0.0),
        _c("orchard_m2", "float", min=0, max=1e7, required=False, default=0.0),
        _c("labour_h_per_week", "float", min=0, max=2000),
        _c("min_revenue_eur", "float", min=0, max=1e8, doc="over the season"),
        _c("organic", "bool", required=False, default=False),
        _c("contact", "str", required=False, default=""),
    ),
)

PRODUCER_CROPS = Table(
    name="producer_crops",
    doc="Which crops each producer can grow (know-how, soil, equipment).",
    columns=(
        _c("producer_id", "id", ref="producers.producer_id"),
        _c("crop_id", "id", ref="crops.crop_id"),
    ),
)

VEHICLES = Table(
    name="vehicles",
    doc="The shared fleet: vehicles of each member organisation.",
    columns=(
        _c("vehicle_id", "id", unique=True),
        _c("organisation", "str"),
        _c("depot_site_id", "id", ref="sites.site_id"),
        _c("kind", "str", required=False, default="van"),
        _c("capacity_kg", "float", min=1, max=100000),
        _c("capacity_pallets", "int", min=0, max=100),
        _c("refrigerated", "bool"),
        _c("cost_per_km_eur", "float", min=0, max=100),
        _c("cost_per_hour_eur", "float", min=0, max=1000),
        _c("shift_start", "time"),
        _c("shift_end", "time"),
        _c("max_route_h", "float", min=0.5, max=24, required=False, default=8.0),
        _c("break_min", "float", min=0, max=240, required=False, default=30.0),
        _c("co2_kg_per_km", "float", min=0, max=10),
        _c("days", "weekdays", required=False, default="mon,tue,wed,thu,fri"),
        _c(
            "organisation_id",
            "str",
            required=False,
            default="",
            doc="the member organisation owning the vehicle (organisations.csv)",
        ),
    ),
)

ORGANISATIONS = Table(
    name="organisations",
    optional=True,
    doc="The member organisations that own shops, depots and vehicles (mutualisation: what "
    "each would spend alone, what pooling saves and how the pooled cost is shared).",
    columns=(
        _c("organisation_id", "id", unique=True),
        _c("name", "str"),
        _c(
            "kind",
            "str",
            required=False,
            default="",
            doc="e.g. reseau_epiceries, federation_groupements, chantier_insertion",
        ),
    ),
)

ORDERS = Table(
    name="orders",
    doc="Grocery orders from points of sale to the hub.",
    columns=(
        _c("date", "date"),
        _c("site_id", "id", ref="sites.site_id"),
        _c("product_id", "id", ref="products.product_id"),
        _c("quantity", "float", min=0.0, max=100000),
        _c("unit", "enum", choices=UNITS),
        _c("unit_price_eur", "float", min=0, max=10000, required=False, default=None),
    ),
)

CONTRACTS = Table(
    name="contracts",
    optional=True,
    doc="Frozen (signed) parts of a plan: later plans and what-ifs keep them bed for bed. "
    "Each freeze adds a version of a contract; the latest version of each contract holds.",
    columns=(
        _c("contract_id", "id", doc="one contract across its versions"),
        _c("version", "int", min=1, max=100000),
        _c("frozen_on", "date"),
        _c("producer_id", "id", ref="producers.producer_id"),
        _c(
            "scope",
            "enum",
            choices=("farm", "crop", "line"),
            doc="farm: every planting of the farm is fixed (none added); crop: every planting "
            "of the crops listed; line: only the lines listed",
        ),
        _c(
            "until",
            "date",
            required=False,
            default=None,
            doc="only plantings up to this date are frozen (e.g. the weeks already planted)",
        ),
        _c("crop_id", "id", ref="crops.crop_id"),
        _c("plant_date", "date", doc="Monday of the planting week"),
        _c("beds", "int", min=0, max=100000),
    ),
)

PRODUCER_CRITERIA = Table(
    name="producer_criteria",
    optional=True,
    doc="The territory's producer grid (quality, locality, accessibility…): criteria farms are "
    "scored on; the planner reads the scores as eligibility and, when asked, a preference.",
    columns=(
        _c("criterion_id", "id", unique=True),
        _c("label", "str"),
        _c("weight", "float", min=0, max=100),
        _c("max_points", "int", min=1, max=100),
        _c("eliminatory", "bool", required=False, default=False),
        _c("min_points", "int", min=0, max=100, required=False, default=0),
    ),
)

PRODUCER_ASSESSMENTS = Table(
    name="producer_assessments",
    optional=True,
    doc="Points a farm got on each criterion of the producer grid, by whom and when.",
    columns=(
        _c("producer_id", "id", ref="producers.producer_id"),
        _c("criterion_id", "id", ref="producer_criteria.criterion_id"),
        _c("points", "int", min=0, max=100),
        _c("assessor", "str", required=False, default=""),
        _c("assessed_on", "date", required=False, default=None),
    ),
)

CONTRACT_TERMS = Table(
    name="contract_terms",
    optional=True,
    doc="Terms printed on the producers' contracts and the smallest lines a farm signs for; "
    "a row with producer_id '*' sets the territory's defaults, a producer's row its own.",
    columns=(
        _c("producer_id", "str", unique=True, doc="a producer id, or * for every farm"),
        _c(
            "vat_rate_pct",
            "float",
            min=0,
            max=30,
            required=False,
            default=5.5,
            doc="VAT on the fair prices (5.5 % on most food in France)",
        ),
        _c(
            "payment_days",
            "int",
            min=0,
            max=120,
            required=False,
            default=30,
            doc="days after delivery the hub pays within",
        ),
        _c(
            "volume_tolerance_pct",
            "float",
            min=0,
            max=100,
            required=False,
            default=10.0,
            doc="the hub buys the planned kilos within ± this share",
        ),
        _c(
            "failure_share_pct",
            "float",
            min=0,
            max=100,
            required=False,
            default=50.0,
            doc="share of a failed harvest's planned value the hub still pays (shared risk)",
        ),
        _c(
            "min_line_m2",
            "float",
            min=0,
            max=100000,
            required=False,
            default=60.0,
            doc="smallest planting line the farm signs for (m²); 0: any bed",
        ),
        _c(
            "min_weekly_kg",
            "float",
            min=0,
            max=100000,
            required=False,
            default=10.0,
            doc="smallest weekly delivery of one product; smaller ones are grouped",
        ),
    ),
)

AVAILABILITY = Table(
    name="availability",
    optional=True,
    doc="What each farm confirmed it will supply in a delivery week, and the hub's stock at "
    "the start of the week (rows of the hub's site). A product listed for a week is limited "
    "to these kilos that week; the week's orders beyond them are shared fairly.",
    columns=(
        _c("week_start", "date", doc="Monday of the delivery week"),
        _c("site_id", "id", ref="sites.site_id", doc="a farm, or the hub for its stock"),
        _c("product_id", "id", ref="products.product_id"),
        _c("kg", "float", min=0, max=1e7),
    ),
)

STORAGE = Table(
    name="storage",
    optional=True,
    doc="Storage capacity of a site (the hub, a depot) per storage class: the kilos it can "
    "hold at once.",
    columns=(
        _c("site_id", "id", ref="sites.site_id"),
        _c("storage_class", "enum", choices=STORAGE_CLASSES),
        _c("capacity_kg", "float", min=0, max=1e8),
    ),
)

#: Master data every territory must have.
MASTER_TABLES = (
    SITES,
    OPENING_HOURS,
    PRODUCTS,
    CROPS,
    CROP_YIELDS,
    PRODUCERS,
    PRODUCER_CROPS,
    VEHICLES,
)
#: Caisse tables (a territory without a caisse omits them).
CAISSE_TABLES = (CAISSES, HOUSEHOLDS, CAISSE_RULE, FUNDERS, CAISSE_CRITERIA, SHOP_ASSESSMENTS)
#: Plan commitments (optional; read after the master data they refer to).
PLAN_TABLES = (CONTRACT_TERMS, CONTRACTS, PRODUCER_CRITERIA, PRODUCER_ASSESSMENTS)
#: The hub's week: confirmed supply and storage (optional).
WEEK_TABLES = (AVAILABILITY, STORAGE)
#: Optional tables read before the master data (their ids are checked there).
OWNER_TABLES = (ORGANISATIONS,)
#: Activity tables: grow every week, validated row by row with a rejects report.
ACTIVITY_TABLES = (ORDERS, CAISSE_TRANSACTIONS)

TABLES = {
    t.name: t
    for t in (
        *OWNER_TABLES,
        *MASTER_TABLES,
        *CAISSE_TABLES,
        *PLAN_TABLES,
        *WEEK_TABLES,
        *ACTIVITY_TABLES,
    )
}
