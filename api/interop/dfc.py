"""Data Food Consortium (DFC) JSON-LD → the territory's rows.

What is read (``dfc-b:`` terms of the DFC business ontology):

- ``Organization``/``Enterprise`` → a producer and its farm site (``hasAddress`` →
  ``Address`` with ``latitude``/``longitude``; a farm without coordinates cannot be placed and
  is listed in ``unmapped``), unless it only appears as the ``orderedBy`` of an order (a
  customer: it must be mapped to one of our sites in the mapping file);
- ``SuppliedProduct`` → a product: ``hasQuantity`` (``QuantitativeValue`` in ``dfc-m:`` units)
  gives the kilos of one unit — weights convert, litres count as kilos (noted), pieces need a
  declared weight (mapping to one of our products); ``hasType`` (``dfc-pt:``) gives the
  category; the price of its ``Offer`` in euros gives the prices (no price in euros → listed);
- ``Offer`` listed by a ``SaleSession`` with a ``stockLimitation`` → ``availability.csv``
  (what the farm offers that week: ``stockLimitation`` × the unit's kilos);
- ``Order`` → ``OrderLine``s (``quantity`` × the product's kilos) → ``orders.csv`` rows dated
  by the end of the order's ``SaleSession`` (when the order cycle closes), ``orderedBy`` → site.

Every other node type is counted in ``unknown_types``; nothing unknown is fatal.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import pandas as pd

from api.interop.apply import ORDER_COLUMNS, Extract
from api.interop.graph import DFC_B, Graph, literal, local_name, ref, refs, values
from api.interop.mapping import Entry, Mapping, slug
from core.errors import InputError, RowError
from core.safety import short_repr
from core.territory import Territory

KNOWN_TYPES = (
    "Organization",
    "Enterprise",
    "SuppliedProduct",
    "Offer",
    "CatalogItem",
    "Order",
    "OrderLine",
    "SaleSession",
    "Address",
    "QuantitativeValue",
    "Price",
)
#: dfc-m units → kilos per unit (volumes as kilos: density 1, noted when used).
KG_PER = {
    "Kilogram": 1.0,
    "Gram": 0.001,
    "Milligram": 1e-6,
    "Tonne": 1000.0,
    "Litre": 1.0,
    "Liter": 1.0,
    "Centilitre": 0.01,
    "Centiliter": 0.01,
    "Millilitre": 0.001,
    "Milliliter": 0.001,
}
VOLUMES = {"Litre", "Liter", "Centilitre", "Centiliter", "Millilitre", "Milliliter"}
PIECES = {"Piece", "Unit", "Dozen"}
#: dfc-pt product types → our category; defaults of storage and shelf life by category.
CATEGORY_OF = {
    "vegetable": "vegetable",
    "fruit": "fruit",
    "egg": "egg",
    "dairy-product": "dairy",
    "bakery": "bakery",
    "meat-product": "meat",
    "legume": "legume",
    "dried-goods": "grocery",
}
STORAGE_OF = {"dairy": "chilled", "meat": "chilled", "vegetable": "fresh", "fruit": "fresh"}
SHELF_LIFE_DAYS = {"vegetable": 7, "fruit": 10, "dairy": 10, "meat": 5, "egg": 28, "bakery": 3}
EURO = "Euro"
Miss = Callable[[str, str, str], None]  # (@id, kind, why): a node listed as not mapped
Bad = Callable[[str, str, str, object], None]  # (@id, property, rule, value): a fatal error


def extract(graph: Graph, mapping: Mapping, territory: Territory) -> Extract:
    """Read ``graph`` against the territory and its mapping (new entries are added to it)."""
    unmapped: list[dict[str, str]] = []
    notes: set[str] = set()

    def miss(node_id: str, kind: str, why: str) -> None:
        unmapped.append({"@id": node_id, "type": kind, "why": why})

    errors: list[RowError] = []

    def bad(node_id: str, prop: str, message: str, value: object) -> None:
        errors.append(
            RowError(
                file=graph.name,
                row=None,
                column=f"dfc-b:{prop}",
                message=f"node {short_repr(node_id)}: {message}",
                value=short_repr(value),
            )
        )

    unknown: Counter[str] = Counter()
    for node in graph.nodes.values():
        for typ in node.get("@type", ()):
            name = typ[len(DFC_B) :] if typ.startswith(DFC_B) else typ
            if name not in KNOWN_TYPES:
                unknown[name] += 1

    orgs = graph.of_type("Organization") + graph.of_type("Enterprise")
    customers = {c for o in graph.of_type("Order") for c in refs(o, "orderedBy")}
    supplier_of: dict[str, str] = {}
    for org in orgs:
        for product_id in refs(org, "supplies"):
            supplier_of.setdefault(product_id, org["@id"])
    offers_of: dict[str, list[dict[str, Any]]] = {}
    for offer in graph.of_type("Offer"):
        for product_id in refs(offer, "offeredItem"):
            offers_of.setdefault(product_id, []).append(offer)

    known_products = dict(
        zip(territory.products["product_id"], territory.products["unit"], strict=True)
    )
    sites, producers = [], []
    producer_site: dict[str, str] = {}
    for org in orgs:
        if org["@id"] in customers and not refs(org, "supplies"):
            continue  # a customer: resolved through the mapping when its orders are read
        name = str(literal(org, "name") or "")
        entry = mapping.get("producer", org["@id"])
        if entry is not None and entry.our_id and not entry.managed:
            match = territory.producers.loc[territory.producers["producer_id"] == entry.our_id]
            if len(match):
                producer_site[org["@id"]] = str(match["site_id"].iloc[0])
            else:
                miss(org["@id"], "producer", f"mapped to {entry.our_id!r}, not in producers")
            continue
        our = entry.our_id if entry is not None and entry.our_id else slug(org["@id"], name)
        address = graph.node(ref(org, "hasAddress"))
        lat, lon = _number(literal(address, "latitude")), _number(literal(address, "longitude"))
        if lat is not None and not -90 <= lat <= 90:
            bad(
                str(address.get("@id") if address else org["@id"]),
                "latitude",
                "must be within -90..90",
                lat,
            )
            continue
        if lon is not None and not -180 <= lon <= 180:
            bad(
                str(address.get("@id") if address else org["@id"]),
                "longitude",
                "must be within -180..180",
                lon,
            )
            continue
        if lat is None or lon is None:
            mapping.put(Entry(kind="producer", source_id=org["@id"], name=name))
            miss(
                org["@id"],
                "producer",
                "address without latitude/longitude: a farm needs coordinates — map it to "
                "one of our producers in the mapping file",
            )
            continue
        mapping.put(
            Entry(kind="producer", source_id=org["@id"], our_id=our, name=name, managed=True)
        )
        producer_site[org["@id"]] = our
        street = " ".join(
            str(v) for v in (literal(address, "hasStreet"), literal(address, "hasPostalCode")) if v
        )
        sites.append(
            {
                "site_id": our,
                "name": name or our,
                "kind": "farm",
                "commune": str(literal(address, "hasCity") or ""),
                "address": street,
                "lat": lat,
                "lon": lon,
                "contact": str(literal(org, "email") or ""),
            }
        )
        certified = [graph.node(c) for c in refs(org, "isCertifiedBy")]
        labels = " ".join(str(literal(c, "name") or "") for c in certified).lower()
        producers.append(
            {
                "producer_id": our,
                "site_id": our,
                "name": name or our,
                "labour_h_per_week": 0.0,
                "min_revenue_eur": 0.0,
                "organic": any(w in labels for w in ("organic", "bio", "ab ")),
                "contact": str(literal(org, "email") or ""),
            }
        )
    if producers:
        notes.add(
            "new producers are written with labour_h_per_week 0 and min_revenue_eur 0: "
            "fill them in producers.csv before planning with them"
        )

    products, product_of, kg_of = [], {}, {}
    for product in graph.of_type("SuppliedProduct"):
        pid = product["@id"]
        name = str(literal(product, "name") or _type_name(product) or "")
        qty = graph.node(ref(product, "hasQuantity"))
        amount, unit = _number(literal(qty, "value")), local_name(ref(qty, "hasUnit") or "")
        kg_each = amount * KG_PER[unit] if amount is not None and unit in KG_PER else None
        if unit in VOLUMES and kg_each is not None:
            notes.add("volumes are read as kilos (1 litre = 1 kg)")
        kg_of[pid] = kg_each
        entry = mapping.get("product", pid)
        if entry is not None and entry.our_id and not entry.managed:
            if entry.our_id in known_products:
                product_of[pid] = entry.our_id
            else:
                miss(pid, "product", f"mapped to {entry.our_id!r}, not in products")
            continue
        our = entry.our_id if entry is not None and entry.our_id else slug(pid, name)
        price = _euro_price([graph.node(ref(o, "hasPrice")) for o in offers_of.get(pid, [])])
        why = None
        if kg_each is None:
            why = (
                f"quantity in {unit!r} has no weight" if unit else "no hasQuantity (kilos unknown)"
            )
        elif kg_each <= 0:
            why = f"hasQuantity is {amount:g} {unit}"
        elif price is None:
            why = "no price in euros"
        if why is not None:
            mapping.put(Entry(kind="product", source_id=pid, name=name))
            miss(pid, "product", why + ": map it to one of our products in the mapping file")
            continue
        assert kg_each is not None and price is not None
        category = CATEGORY_OF.get(_type_name(product) or "", "grocery")
        mapping.put(Entry(kind="product", source_id=pid, our_id=our, name=name, managed=True))
        product_of[pid] = our
        by_kg = math.isclose(kg_each, 1.0)
        products.append(
            {
                "product_id": our,
                "name": name or our,
                "category": category,
                "unit": "kg" if by_kg else "piece",
                "kg_per_unit": kg_each,
                "storage_class": STORAGE_OF.get(category, "ambient"),
                "shelf_life_days": SHELF_LIFE_DAYS.get(category, 180),
                "fair_price_eur_per_kg": round(price / kg_each, 4),
                "retail_price_eur_per_unit": price,
            }
        )
        notes.add("storage_class and shelf_life_days of new products are defaults by category")

    availability = _availability(graph, supplier_of, producer_site, product_of, kg_of, miss)
    orders = _orders(graph, mapping, territory, product_of, kg_of, miss, bad)
    if errors:
        raise InputError(errors)
    rows = {
        "sites": pd.DataFrame(sites),
        "producers": pd.DataFrame(producers),
        "products": pd.DataFrame(products),
        "availability": _summed(pd.DataFrame(availability)),
    }
    return Extract(
        source="dfc",
        found={
            "producers": len([o for o in orgs if o["@id"] not in customers or refs(o, "supplies")]),
            "products": len(graph.of_type("SuppliedProduct")),
            "orders": len(graph.of_type("Order")),
        },
        rows=rows,
        orders=orders,
        unmapped=unmapped,
        unknown_types=dict(unknown),
        notes=sorted(notes),
    )


def _availability(
    graph: Graph,
    supplier_of: dict[str, str],
    producer_site: dict[str, str],
    product_of: dict[str, str],
    kg_of: dict[str, float | None],
    miss: Miss,
) -> list[dict[str, Any]]:
    rows = []
    for session in graph.of_type("SaleSession"):
        start = _date(literal(session, "beginDate"))
        for offer_id in refs(session, "lists"):
            offer = graph.node(offer_id)
            limit = _number(literal(offer, "stockLimitation"))
            item = ref(offer, "offeredItem")
            if offer is None or limit is None or limit < 0 or item is None:
                continue  # no limit (DFC writes -1 for "unlimited"): not a volume
            site = producer_site.get(supplier_of.get(item, ""))
            unit_kg = kg_of.get(item) or 0.0
            why = (
                "sale session without a beginDate"
                if start is None
                else "offered product not mapped"
                if item not in product_of or unit_kg <= 0
                else "no supplier placed on our map"
                if site is None
                else None
            )
            if why is not None:
                miss(offer_id, "offer", why)
                continue
            assert start is not None
            monday = start - pd.Timedelta(days=start.weekday())
            rows.append(
                {
                    "week_start": monday,
                    "site_id": site,
                    "product_id": product_of[item],
                    "kg": round(limit * unit_kg, 3),
                }
            )
    return rows


def _orders(
    graph: Graph,
    mapping: Mapping,
    territory: Territory,
    product_of: dict[str, str],
    kg_of: dict[str, float | None],
    miss: Miss,
    bad: Bad,
) -> pd.DataFrame:
    sites = set(territory.sites["site_id"])
    rows = []
    for order in graph.of_type("Order"):
        oid = order["@id"]
        customer = ref(order, "orderedBy") or ""
        site = mapping.our_id("site", customer)
        session = graph.node(ref(order, "belongsTo"))
        day = _date(literal(session, "endDate")) or _date(literal(order, "date"))
        if site is None or site not in sites:
            if customer and mapping.get("site", customer) is None:
                mapping.put(Entry(kind="site", source_id=customer))
            miss(oid, "order", f"orderedBy {customer!r} is not mapped to one of our sites")
            continue
        if site == str(territory.hub["site_id"]):
            miss(oid, "order", "ordered by our hub (a farm pickup), not a shop order")
            continue
        if day is None:
            miss(oid, "order", "no date: neither a sale session endDate nor dfc-b:date")
            continue
        for line_id in refs(order, "hasPart"):
            line = graph.node(line_id)
            count = _quantity(graph, line)
            if count is not None and count < 0:
                bad(line_id, "quantity", "must be >= 0", count)
                continue
            offer = graph.node(ref(line, "concerns"))
            item = ref(offer, "offeredItem") or ref(line, "concerns")
            unit_kg = kg_of.get(item or "") or 0.0
            if count is None or item is None or item not in product_of or unit_kg <= 0:
                miss(line_id, "order line", "no quantity, or its product is not mapped with kilos")
                continue
            kg = count * unit_kg
            price = _euro_price([graph.node(ref(offer, "hasPrice"))])
            rows.append(
                {
                    "order_key": oid,
                    "date": day,
                    "site_id": site,
                    "product_id": product_of[item],
                    "quantity": round(kg, 6),
                    "unit": "kg",
                    "unit_price_eur": round(price / unit_kg, 4) if price is not None else None,
                }
            )
    return pd.DataFrame(rows, columns=["order_key", *ORDER_COLUMNS])


def _summed(availability: pd.DataFrame) -> pd.DataFrame:
    """One row per week × farm × product (two sessions of one week add up)."""
    if availability.empty:
        return availability
    keys = ["week_start", "site_id", "product_id"]
    return availability.groupby(keys, as_index=False, sort=True)["kg"].sum()


def _quantity(graph: Graph, line: dict[str, Any] | None) -> float | None:
    for value in values(line, "quantity"):
        if isinstance(value, dict):  # a QuantitativeValue node
            return _number(literal(graph.node(value["@id"]), "value"))
        return _number(value)
    return None


def _euro_price(prices: list[dict[str, Any] | None]) -> float | None:
    for price in prices:
        if price is not None and local_name(ref(price, "hasUnit") or "") == EURO:
            return _number(literal(price, "value"))
    return None


def _type_name(node: dict[str, Any]) -> str | None:
    kind = ref(node, "hasType")
    return local_name(kind) if kind else None


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _date(value: object) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        return None
    if pd.isna(stamp):
        return None
    return pd.Timestamp(stamp.date())


def fetch(url: str, token: str | None = None, *, client: Any = None) -> bytes:
    """GET a DFC document (``Accept: application/ld+json``, a bearer token when given), read
    within :data:`api.interop.graph.MAX_BYTES`."""
    import httpx

    from api.interop.graph import MAX_BYTES

    if not url.startswith(("https://", "http://")):
        raise InputError.of_file("URL", f"expected an http(s) address; got {short_repr(url)}")
    headers = {"Accept": "application/ld+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    own = client is None
    http = client or httpx.Client(timeout=30.0, follow_redirects=False)
    try:
        with http.stream("GET", url, headers=headers) as answer:
            answer.raise_for_status()
            chunks, size = [], 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise InputError.of_file("URL", f"answer over {MAX_BYTES:,} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise InputError.of_file("URL", f"request failed: {short_repr(str(exc), 200)}") from None
    finally:
        if own:
            http.close()
    return b"".join(chunks)
