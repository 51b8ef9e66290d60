"""What vivres decides, as DFC JSON-LD the farms' tools can load.

- Each producer's planned volumes per week (a plan's ``harvest.csv``) become, per farm, a
  ``dfc-b:Enterprise`` that ``supplies`` one ``SuppliedProduct`` per product (1 kg units, the
  fair price per kg in euros), its ``CatalogItem``, and one ``Offer`` per week whose
  ``stockLimitation`` is the planned kilos, listed by that week's ``SaleSession``
  (Monday → Sunday).
- The week's farm pickups (a week's ``pickups.csv``) become one ``dfc-b:Order`` per farm,
  ordered by the hub, with one ``OrderLine`` per product (``quantity`` in those 1 kg units).

Ids are ``<base>/producers/<id>/…``; the export records them in the territory's DFC mapping
(unmanaged: our rows stay ours), so importing the file back resolves to the same producers,
sites and products — the round trip gives the same volumes (``availability.csv``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from api.interop.dfc import CATEGORY_OF
from api.interop.mapping import Entry, Mapping
from core.csvio import read_csv_any
from core.errors import InputError
from core.territory import Territory

CONTEXT = "https://www.datafoodconsortium.org"
_PT_OF = {ours: theirs for theirs, ours in CATEGORY_OF.items() if ours != "grocery"}


def _read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise InputError.of_file(path.name, "file not found")
    frame = read_csv_any(path, dtype=str, keep_default_na=False)  # French or not
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError.of_file(path.name, "missing columns: " + ", ".join(missing))
    frame["kg"] = pd.to_numeric(frame["kg"], errors="coerce")
    bad = frame["kg"].isna() | (frame["kg"] < 0)
    if bad.any():
        line = int(bad.to_numpy().argmax()) + 2
        raise InputError.of_file(path.name, f"row {line}: kg must be a number >= 0")
    return frame


def export_dfc(
    territory: Territory,
    mapping: Mapping,
    *,
    base: str,
    harvest_csv: Path | None = None,
    pickups_csv: Path | None = None,
    week_start: pd.Timestamp | None = None,
) -> dict[str, Any]:
    """The DFC document of a plan's volumes and/or a week's pickups (mapping entries added)."""
    base = base.rstrip("/")
    products = territory.products.set_index("product_id")
    producers = territory.producers.set_index("producer_id")
    farm_of_site = dict(
        zip(territory.producers["site_id"], territory.producers["producer_id"], strict=True)
    )
    sites = territory.sites.set_index("site_id")
    nodes: dict[str, dict[str, Any]] = {}
    supplies: dict[str, set[str]] = {}

    def enterprise(producer_id: str) -> str:
        node_id = f"{base}/producers/{producer_id}"
        if node_id not in nodes:
            site_id = str(producers.at[producer_id, "site_id"])
            address = f"{node_id}#address"
            nodes[node_id] = {
                "@id": node_id,
                "@type": "dfc-b:Enterprise",
                "dfc-b:name": str(producers.at[producer_id, "name"]),
                "dfc-b:hasAddress": address,
            }
            nodes[address] = {
                "@id": address,
                "@type": "dfc-b:Address",
                "dfc-b:hasCity": str(sites.at[site_id, "commune"] or ""),
                "dfc-b:hasStreet": str(sites.at[site_id, "address"] or ""),
                "dfc-b:latitude": float(sites.at[site_id, "lat"]),
                "dfc-b:longitude": float(sites.at[site_id, "lon"]),
            }
            mapping.put(Entry(kind="producer", source_id=node_id, our_id=producer_id))
        return node_id

    def supplied(producer_id: str, product_id: str) -> str:
        if product_id not in products.index:
            raise InputError.of_file("harvest.csv", f"product {product_id!r} not in products")
        node_id = f"{enterprise(producer_id)}/products/{product_id}"
        if node_id not in nodes:
            category = str(products.at[product_id, "category"])
            nodes[node_id] = {
                "@id": node_id,
                "@type": "dfc-b:SuppliedProduct",
                "dfc-b:name": str(products.at[product_id, "name"]),
                "dfc-b:hasQuantity": {
                    "@type": "dfc-b:QuantitativeValue",
                    "dfc-b:hasUnit": "dfc-m:Kilogram",
                    "dfc-b:value": 1.0,
                },
                "dfc-b:referencedBy": f"{node_id}/catalog_item",
                **({"dfc-b:hasType": f"dfc-pt:{_PT_OF[category]}"} if category in _PT_OF else {}),
            }
            nodes[f"{node_id}/catalog_item"] = {
                "@id": f"{node_id}/catalog_item",
                "@type": "dfc-b:CatalogItem",
                "dfc-b:references": node_id,
                "dfc-b:offeredThrough": [],
            }
            supplies.setdefault(producer_id, set()).add(node_id)
            mapping.put(Entry(kind="product", source_id=node_id, our_id=product_id))
        return node_id

    def offer(producer_id: str, product_id: str, week: pd.Timestamp, kg: float | None) -> str:
        product_node = supplied(producer_id, product_id)
        node_id = f"{product_node}/offers/{week.date().isoformat()}"
        if node_id not in nodes:
            nodes[node_id] = {
                "@id": node_id,
                "@type": "dfc-b:Offer",
                "dfc-b:offeredItem": product_node,
                "dfc-b:hasPrice": {
                    "@type": "dfc-b:Price",
                    "dfc-b:value": float(products.at[product_id, "fair_price_eur_per_kg"]),
                    "dfc-b:hasUnit": "dfc-m:Euro",
                },
            }
            nodes[f"{product_node}/catalog_item"]["dfc-b:offeredThrough"].append(node_id)
            session(week)["dfc-b:lists"].append(node_id)
        if kg is not None:
            nodes[node_id]["dfc-b:stockLimitation"] = round(kg, 3)
        return node_id

    def session(week: pd.Timestamp) -> dict[str, Any]:
        node_id = f"{base}/weeks/{week.date().isoformat()}"
        if node_id not in nodes:
            nodes[node_id] = {
                "@id": node_id,
                "@type": "dfc-b:SaleSession",
                "dfc-b:beginDate": week.date().isoformat(),
                "dfc-b:endDate": (week + pd.Timedelta(days=6)).date().isoformat(),
                "dfc-b:lists": [],
            }
        return nodes[node_id]

    if harvest_csv is not None:
        harvest = _read_table(harvest_csv, ("week_start", "producer_id", "product_id", "kg"))
        volumes = harvest.groupby(["producer_id", "product_id", "week_start"], as_index=False)[
            "kg"
        ].sum()
        for row in volumes.itertuples(index=False):
            if str(row.producer_id) not in producers.index:
                raise InputError.of_file(harvest_csv.name, f"producer {row.producer_id!r} unknown")
            if float(row.kg) > 0:
                offer(
                    str(row.producer_id),
                    str(row.product_id),
                    pd.Timestamp(row.week_start),
                    float(row.kg),
                )
    if pickups_csv is not None:
        if week_start is None:
            raise InputError.of_file("--week", "the week's Monday is needed with pickups")
        hub_id = str(territory.hub["site_id"])
        hub_node = f"{base}/sites/{hub_id}"
        nodes[hub_node] = {
            "@id": hub_node,
            "@type": "dfc-b:Enterprise",
            "dfc-b:name": str(territory.hub["name"]),
        }
        mapping.put(Entry(kind="site", source_id=hub_node, our_id=hub_id))
        pickups = _read_table(pickups_csv, ("site_id", "product_id", "kg"))
        for site_id, part in pickups.loc[pickups["kg"] > 0].groupby("site_id", sort=True):
            producer_id = farm_of_site.get(str(site_id))
            if producer_id is None:
                raise InputError.of_file(
                    pickups_csv.name, f"site {site_id!r} is not a producer's farm"
                )
            order_id = f"{base}/pickups/{week_start.date().isoformat()}/{site_id}"
            lines = []
            for row in part.itertuples(index=False):
                line_id = f"{order_id}/lines/{row.product_id}"
                nodes[line_id] = {
                    "@id": line_id,
                    "@type": "dfc-b:OrderLine",
                    "dfc-b:quantity": round(float(row.kg), 3),
                    "dfc-b:concerns": offer(producer_id, str(row.product_id), week_start, None),
                }
                lines.append(line_id)
            nodes[order_id] = {
                "@id": order_id,
                "@type": "dfc-b:Order",
                "dfc-b:orderedBy": hub_node,
                "dfc-b:soldBy": enterprise(producer_id),
                "dfc-b:belongsTo": session(week_start)["@id"],
                "dfc-b:hasPart": lines,
            }
    for producer_id, product_nodes in supplies.items():
        nodes[enterprise(producer_id)]["dfc-b:supplies"] = sorted(product_nodes)
    return {"@context": CONTEXT, "@graph": [nodes[k] for k in sorted(nodes)]}
