"""Columns and tables of the territory's files: the rule each cell obeys, and the enums the
schema uses (:mod:`core.schema` lists the tables)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

SITE_KINDS = (
    "hub",  # the pôle logistique mutualisé
    "depot",  # a member organisation's own depot (where its vehicles sleep)
    "farm",
    "epicerie_solidaire",
    "buying_group",  # groupement d'achat (VRAC-style) depot in a district
    "market",
    "social_restaurant",
    "caisse_shop",  # shop approved (conventionné) by the caisse commune
)
POINT_OF_SALE_KINDS = (
    "epicerie_solidaire",
    "buying_group",
    "market",
    "social_restaurant",
    "caisse_shop",
)
CATEGORIES = ("vegetable", "fruit", "legume", "dairy", "egg", "meat", "bakery", "grocery")
UNITS = ("kg", "piece", "bunch", "litre", "dozen", "jar")
STORAGE_CLASSES = ("ambient", "fresh", "chilled", "frozen")
LAND_TYPES = ("open_field", "greenhouse", "orchard")


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One column of a table and the rule its cells obey."""

    name: str
    kind: str  # id | str | int | float | bool | enum | time | date | datetime | weekdays
    required: bool = True  # the column must exist and cells must be non-empty
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    ref: str | None = None  # "table.column" the value must exist in
    unique: bool = False
    default: object = None  # used when the column is optional and the cell empty
    doc: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """A territory file: its name (without extension) and its columns."""

    name: str
    columns: tuple[Column, ...]
    doc: str = ""
    optional: bool = False  # the territory may omit the file

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _c(name: str, kind: str, **kw: Any) -> Column:
    return Column(name=name, kind=kind, **kw)
