"""Fixtures of the routing tests (helpers live in routing_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from routing_helpers import OSM_DIR, site


@pytest.fixture
def osm_dir() -> Path:
    """The shared OSM extracts (tests skip cleanly when absent)."""
    if not (OSM_DIR / "saint_barthelemy.osm.pbf").exists():
        pytest.skip("shared OSM extracts not available")
    return OSM_DIR


@pytest.fixture
def line_sites() -> list[dict]:
    """A hub and three shops due east of it, about 2, 4 and 6 km away (on one parallel)."""
    lat = 47.0
    return [site("HUB", "hub", lat, -1.6)] + [
        site(f"S{i}", "epicerie_solidaire", lat, -1.6 + 0.02632 * i) for i in (1, 2, 3)
    ]
