"""Fixtures of the routing tests (helpers live in routing_helpers.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from routing_helpers import OSM_DIR, site

if TYPE_CHECKING:
    from routing.network import RoadNetwork


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``-n``, the tests reading ``stbarth`` run on one worker: one parse in the run."""
    for item in items:
        if "stbarth" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("stbarth"))


@pytest.fixture
def osm_dir() -> Path:
    """The shared OSM extracts (tests skip cleanly when absent)."""
    if not (OSM_DIR / "saint_barthelemy.osm.pbf").exists():
        pytest.skip("shared OSM extracts not available")
    return OSM_DIR


@pytest.fixture(scope="session")
def stbarth() -> RoadNetwork:
    """Saint-Barthélemy's road network from the shared ``.osm.pbf``, parsed once per process
    (≈ 0.4 s a parse) for the tests that only read it: do not mutate its graph or arrays."""
    path = OSM_DIR / "saint_barthelemy.osm.pbf"
    if not path.exists():
        pytest.skip("shared OSM extracts not available")
    from routing.network import network_from_file

    return network_from_file(path)


@pytest.fixture
def line_sites() -> list[dict]:
    """A hub and three shops due east of it, about 2, 4 and 6 km away (on one parallel)."""
    lat = 47.0
    return [site("HUB", "hub", lat, -1.6)] + [
        site(f"S{i}", "epicerie_solidaire", lat, -1.6 + 0.02632 * i) for i in (1, 2, 3)
    ]
