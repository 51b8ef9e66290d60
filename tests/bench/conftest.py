"""The benchmark-only VRP stack (benchmarks/vrp): needs the [bench] extra, skipped without it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

if str(REPO) not in sys.path:  # `benchmarks` is a folder of the checkout, not installed
    sys.path.insert(0, str(REPO))


@pytest.fixture
def vrp_dir() -> Path:
    """The shared CVRPLIB / Solomon instances (tests skip cleanly when absent)."""
    folder = REPO.parent / "shared" / "benchmarks" / "vrp"
    if not folder.exists():
        pytest.skip("shared benchmark instances not available")
    return folder
