"""Open Food Network API v0 orders → ``orders.csv`` rows.

The shape read is OFN's own (``swagger/v0.yaml`` of openfoodfoundation/openfoodnetwork):
``GET /api/v0/orders`` answers ``{"orders": [order…], "pagination": {…}}`` with order summaries
(``number``, ``state``, ``completed_at_utc_iso8601``, ``distributor.id``, ``distributor_name``);
``GET /api/v0/orders/{number}`` adds ``line_items`` (``quantity``, ``price``, ``variant`` with
``id``, ``name_to_display``, ``unit_value`` and ``unit_price_unit``). A saved response may hold
the detailed orders directly (``{"orders": [...]}`` or a bare list).

Only complete orders are read; each line becomes a row in kilos: weights and volumes from the
variant's ``unit_value`` (grams or millilitres), items from our product's ``kg_per_unit``. The
distributor (``distributor:<id>``) maps to one of our sites and the variant
(``variant:<id>``) to one of our products through ``interop/ofn_mapping.csv``; lines are keyed
by the order number, so a second import replaces an order's lines.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from api.interop.apply import ORDER_COLUMNS, Extract
from api.interop.mapping import Entry, Mapping
from core.errors import InputError, InputTooLarge, RowError
from core.safety import short_repr
from core.territory import Territory

MAX_BYTES = 20 * 1024 * 1024
MAX_ORDERS = 20_000
MAX_PAGES = 200
_NUMBER = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
#: unit_price_unit → kilos per unit_value (grams, millilitres as grams).
_KG_PER_UNIT_VALUE = {"kg": 0.001, "g": 0.001, "l": 0.001, "ml": 0.001}


def parse(data: bytes, *, name: str) -> list[dict[str, Any]]:
    """The orders of a saved API v0 response (``{"orders": [...]}`` or a list)."""
    if len(data) > MAX_BYTES:
        raise InputTooLarge(
            [RowError(file=name, row=None, column=None, message=f"over {MAX_BYTES:,} bytes")]
        )
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except RecursionError:
        raise InputTooLarge(
            [RowError(file=name, row=None, column=None, message="nested too deep")]
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError.of_file(name, f"not JSON: {exc}") from None
    orders = document.get("orders") if isinstance(document, dict) else document
    if not isinstance(orders, list) or not all(isinstance(o, dict) for o in orders):
        raise InputError.of_file(name, 'expected {"orders": [...]} or a list of orders')
    if len(orders) > MAX_ORDERS:
        raise InputTooLarge(
            [RowError(file=name, row=None, column=None, message=f"over {MAX_ORDERS:,} orders")]
        )
    return orders


def extract(
    orders: list[dict[str, Any]],
    mapping: Mapping,
    territory: Territory,
    *,
    distributor: str | None = None,
    since: pd.Timestamp | None = None,
) -> Extract:
    """Complete orders (of ``distributor``, completed after ``since``) → order rows."""
    products = territory.products.set_index("product_id")
    sites = set(territory.sites["site_id"])
    unmapped: list[dict[str, str]] = []
    rows: list[dict[str, Any]] = []
    skipped = 0
    for index, order in enumerate(orders):
        number = str(order.get("number", ""))
        label = f"orders[{index}]" + (f" ({short_repr(number)})" if number else "")
        dist = order.get("distributor") if isinstance(order.get("distributor"), dict) else {}
        dist_id = str((dist or {}).get("id", order.get("distributor_id", "")))
        completed = _date(order.get("completed_at_utc_iso8601") or order.get("completed_at"))
        if order.get("state") != "complete" or (distributor and dist_id != str(distributor)):
            skipped += 1
            continue
        if since is not None and (completed is None or completed <= since):
            skipped += 1
            continue
        if not _NUMBER.match(number):
            unmapped.append({"@id": label, "type": "order", "why": "number missing or not plain"})
            continue
        if completed is None:
            unmapped.append({"@id": label, "type": "order", "why": "no completed_at date"})
            continue
        site = mapping.our_id("site", f"distributor:{dist_id}")
        if site is None or site not in sites:
            if mapping.get("site", f"distributor:{dist_id}") is None:
                name = str(order.get("distributor_name", ""))
                mapping.put(Entry(kind="site", source_id=f"distributor:{dist_id}", name=name))
            why = f"distributor {dist_id!r} is not mapped to one of our sites"
            unmapped.append({"@id": label, "type": "order", "why": why})
            continue
        items = order.get("line_items")
        if not isinstance(items, list):
            why = "no line_items (save the detailed order: GET /api/v0/orders/{number})"
            unmapped.append({"@id": label, "type": "order", "why": why})
            continue
        for j, item in enumerate(items):
            where = f"{label} line_items[{j}]"
            row = _line(item if isinstance(item, dict) else {}, mapping, products, where, unmapped)
            if row is not None:
                rows.append(
                    {"order_key": f"ofn:{number}", "date": completed, "site_id": site, **row}
                )
    notes = ["OFN prices are read as euros (the instance's currency)"] if rows else []
    if skipped:
        notes.append(f"{skipped} orders not read: not complete, another distributor or too old")
    return Extract(
        source="ofn",
        found={"producers": 0, "products": 0, "orders": len(orders) - skipped},
        orders=pd.DataFrame(rows, columns=["order_key", *ORDER_COLUMNS]),
        unmapped=unmapped,
        notes=notes,
    )


def _line(
    item: dict[str, Any],
    mapping: Mapping,
    products: pd.DataFrame,
    where: str,
    unmapped: list[dict[str, str]],
) -> dict[str, Any] | None:
    variant = item.get("variant") if isinstance(item.get("variant"), dict) else {}
    variant = variant or {}
    vid = str(variant.get("id", item.get("variant_id", "")))
    product = mapping.our_id("product", f"variant:{vid}")
    if product is None or product not in products.index:
        if mapping.get("product", f"variant:{vid}") is None:
            name = str(variant.get("name_to_display") or variant.get("product_name") or "")
            mapping.put(Entry(kind="product", source_id=f"variant:{vid}", name=name))
        unmapped.append({"@id": where, "type": "line", "why": f"variant {vid!r} not mapped"})
        return None
    quantity = _number(item.get("quantity"))
    unit = str(variant.get("unit_price_unit") or "").strip().lower()
    value = _number(variant.get("unit_value"))
    if unit in _KG_PER_UNIT_VALUE and value is not None:
        kg_each = value * _KG_PER_UNIT_VALUE[unit]
    else:  # items: our product's weight of one unit
        kg_each = float(products.at[product, "kg_per_unit"]) * (value or 1.0)
    if quantity is None or quantity < 0 or kg_each <= 0:
        unmapped.append({"@id": where, "type": "line", "why": "quantity or unit_value unusable"})
        return None
    price = _number(item.get("price"))
    return {
        "product_id": product,
        "quantity": round(quantity * kg_each, 6),
        "unit": "kg",
        "unit_price_eur": round(price / kg_each, 4) if price is not None else None,
    }


def fetch(
    base_url: str,
    token: str,
    *,
    distributor: str,
    since: pd.Timestamp | None = None,
    client: Any = None,
) -> bytes:
    """Fetch the complete orders of ``distributor`` (with their lines) from an OFN instance;
    return them as a saved response (``{"orders": [...]}``)."""
    import httpx

    if not re.match(r"^https?://[^\s/]+", base_url):
        raise InputError.of_file(
            "--url", f"expected an http(s) address; got {short_repr(base_url)}"
        )
    if not _NUMBER.match(str(distributor)):
        raise InputError.of_file("--distributor", "expected an OFN enterprise id")
    own = client is None
    http = client or httpx.Client(timeout=30.0)
    headers = {"X-Spree-Token": token, "Accept": "application/json"}
    base = base_url.rstrip("/") + "/api/v0/orders"
    params: dict[str, Any] = {
        "q[distributor_id_eq]": distributor,
        "q[state_eq]": "complete",
        "per_page": 100,
    }
    if since is not None:
        params["q[completed_at_gt]"] = since.date().isoformat()
    detailed: list[dict[str, Any]] = []
    try:
        page = 1
        while page <= MAX_PAGES:
            answer = http.get(base, params={**params, "page": page}, headers=headers)
            answer.raise_for_status()
            body = answer.json()
            for summary in body.get("orders", []):
                number = str(summary.get("number", ""))
                if not _NUMBER.match(number):
                    continue
                one = http.get(f"{base}/{number}", headers=headers)
                one.raise_for_status()
                detailed.append(one.json())
            if page >= int((body.get("pagination") or {}).get("pages", 1)):
                break
            page += 1
    except httpx.HTTPError as exc:
        raise InputError.of_file(
            "--url", f"OFN API request failed: {short_repr(str(exc), 200)}"
        ) from None
    finally:
        if own:
            http.close()
    return json.dumps({"orders": detailed}).encode()


def _number(value: object) -> float | None:
    try:
        return float(str(value)) if value is not None and not isinstance(value, bool) else None
    except ValueError:
        return None


def _date(value: object) -> pd.Timestamp | None:
    if not value:
        return None
    try:
        stamp = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        return None
    return None if pd.isna(stamp) else pd.Timestamp(stamp.date())
