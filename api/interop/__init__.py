"""Interoperability: Data Food Consortium JSON-LD and Open Food Network orders, in and out.

The entry points the CLI (``vivres import|export``) and the HTTP upload share: each reads the
territory, the source's mapping file, turns the payload into the territory's rows
(:mod:`api.interop.dfc`, :mod:`api.interop.ofn`) and merges them through the territory's own
checks (:mod:`api.interop.apply`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from api.interop import dfc, ofn
from api.interop.apply import Extract, apply
from api.interop.export import export_dfc
from api.interop.graph import read_graph
from api.interop.mapping import Mapping, suggest
from core.territory import load_territory


def import_dfc(payload: bytes, folder: Path, *, name: str, dry_run: bool = False) -> dict[str, Any]:
    """Import a DFC JSON-LD document into the territory in ``folder``; return the report."""
    graph = read_graph(payload, name=name)
    territory = load_territory(folder, strict=True)
    mapping = Mapping.read(folder, "dfc")
    return apply(dfc.extract(graph, mapping, territory), folder, mapping, dry_run=dry_run)


def import_ofn(
    payload: bytes,
    folder: Path,
    *,
    name: str,
    distributor: str | None = None,
    since: pd.Timestamp | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Import an OFN API v0 orders response into the territory in ``folder``."""
    orders = ofn.parse(payload, name=name)
    territory = load_territory(folder, strict=True)
    mapping = Mapping.read(folder, "ofn")
    found = ofn.extract(orders, mapping, territory, distributor=distributor, since=since)
    return apply(found, folder, mapping, dry_run=dry_run)


def suggest_mapping(payload: bytes, folder: Path, *, source: str, name: str) -> dict[str, Any]:
    """List what ``payload`` names in the mapping file with a proposal by name for each
    unmapped entry; only the mapping file is written."""
    territory = load_territory(folder, strict=True)
    mapping = Mapping.read(folder, source)
    found: Extract
    if source == "dfc":
        found = dfc.extract(read_graph(payload, name=name), mapping, territory)
    else:
        found = ofn.extract(ofn.parse(payload, name=name), mapping, territory)
    candidates = {
        "producer": dict(
            zip(territory.producers["producer_id"], territory.producers["name"], strict=True)
        ),
        "product": dict(
            zip(territory.products["product_id"], territory.products["name"], strict=True)
        ),
        "site": dict(zip(territory.sites["site_id"], territory.sites["name"], strict=True)),
    }
    filled = suggest(mapping, candidates)
    path = mapping.write(folder)
    still = [e.source_id for e in mapping.entries() if not e.our_id]
    return {
        "mapping_file": f"interop/{path.name}",
        "suggested": filled,
        "still_unmapped": still,
        "unmapped": found.unmapped,
    }


def export_plan_dfc(
    folder: Path,
    *,
    base: str,
    harvest_csv: Path | None = None,
    pickups_csv: Path | None = None,
    week_start: pd.Timestamp | None = None,
) -> bytes:
    """The DFC JSON-LD of a plan's volumes and/or a week's pickups; the ids are recorded in the
    territory's DFC mapping so the file imports back to the same rows."""
    territory = load_territory(folder, strict=True)
    mapping = Mapping.read(folder, "dfc")
    document = export_dfc(
        territory,
        mapping,
        base=base,
        harvest_csv=harvest_csv,
        pickups_csv=pickups_csv,
        week_start=week_start,
    )
    mapping.write(folder)
    return json.dumps(document, ensure_ascii=False, indent=1).encode()
