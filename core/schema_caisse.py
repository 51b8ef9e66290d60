"""The caisse commune's tables: caisses, households, co-funders, the conventionnement grid,
the allocation rule of a single caisse and the payments."""

from __future__ import annotations

from core.columns import Table, _c

CAISSES = Table(
    name="caisses",
    optional=True,
    doc="The territory's caisses communes, each with its own area, currency, start, "
    "allocation and contribution rules (a territory with one caisse may give caisse_rule.csv "
    "instead).",
    columns=(
        _c("caisse_id", "id", unique=True),
        _c("name", "str"),
        _c("area", "str", required=False, default=""),
        _c("currency", "str", required=False, default="EUR", doc="e.g. Moneko, MonA"),
        _c("start", "date", doc="first month of allocations"),
        _c("first_person_eur", "float", min=0, max=10000),
        _c("additional_person_eur", "float", min=0, max=10000),
        _c(
            "min_contribution_per_person_eur",
            "float",
            min=0,
            max=10000,
            required=False,
            default=0.0,
            doc="the smallest monthly contribution per member the caisse accepts",
        ),
        _c(
            "unspent",
            "enum",
            choices=("carry", "expire"),
            required=False,
            default="carry",
            doc="what becomes of credit unspent at the end of a month: kept by the household "
            "(carry) or returned to the caisse (expire)",
        ),
        _c(
            "approval_threshold_pct",
            "float",
            min=0,
            max=100,
            required=False,
            default=60.0,
            doc="score a shop needs on the conventionnement grid",
        ),
    ),
)

HOUSEHOLDS = Table(
    name="households",
    doc="Households enrolled in the caisse commune (pseudonymous ids).",
    columns=(
        _c("household_id", "id", unique=True),
        _c("size", "int", min=1, max=20),
        _c("monthly_contribution_eur", "float", min=0, max=10000),
        _c("joined", "date", required=False, default=None),
        _c("caisse_id", "id", ref="caisses.caisse_id", required=False, default=None),
        _c(
            "reste_a_vivre_eur",
            "float",
            min=-100000,
            max=100000,
            required=False,
            default=None,
            doc="monthly income left after fixed costs, when the household gave it",
        ),
    ),
)

FUNDERS = Table(
    name="funders",
    optional=True,
    doc="Co-funders' payments into a caisse (public and private).",
    columns=(
        _c("funder", "str"),
        _c("caisse_id", "id", ref="caisses.caisse_id"),
        _c("month", "date", doc="the month the money arrives (any day of it)"),
        _c("amount_eur", "float", min=0, max=100_000_000),
    ),
)

CAISSE_CRITERIA = Table(
    name="caisse_criteria",
    optional=True,
    doc="The conventionnement grid: criteria a caisse scores shops on.",
    columns=(
        _c("caisse_id", "id", ref="caisses.caisse_id"),
        _c("criterion_id", "id"),
        _c("label", "str"),
        _c("weight", "float", min=0, max=100),
        _c("max_points", "int", min=1, max=100),
        _c("eliminatory", "bool", required=False, default=False),
        _c(
            "min_points",
            "int",
            min=0,
            max=100,
            required=False,
            default=0,
            doc="points an eliminatory criterion needs",
        ),
    ),
)

SHOP_ASSESSMENTS = Table(
    name="shop_assessments",
    optional=True,
    doc="Points a shop got on each criterion of a caisse's grid, by whom and when.",
    columns=(
        _c("caisse_id", "id", ref="caisses.caisse_id"),
        _c("site_id", "id", ref="sites.site_id"),
        _c("criterion_id", "id"),
        _c("points", "int", min=0, max=100),
        _c("assessor", "str", required=False, default=""),
        _c("assessed_on", "date", required=False, default=None),
    ),
)

CAISSE_RULE = Table(
    name="caisse_rule",
    doc="The monthly allocation rule: first person + each further person.",
    columns=(
        _c("name", "str", unique=True),
        _c("first_person_eur", "float", min=0, max=10000),
        _c("additional_person_eur", "float", min=0, max=10000),
        _c(
            "local_currency",
            "str",
            required=False,
            default="",
            doc="code of a local currency accepted 1:1 (e.g. SONANTES)",
        ),
    ),
)

CAISSE_TRANSACTIONS = Table(
    name="caisse_transactions",
    doc="Payments with the caisse allocation, as the caisse's payment app exports them.",
    columns=(
        _c("timestamp", "datetime"),
        _c("household_id", "id", ref="households.household_id"),
        _c("site_id", "id", ref="sites.site_id"),
        _c("amount", "float", min=0.01, max=10000),
        _c("currency", "str", required=False, default="EUR"),
    ),
)
