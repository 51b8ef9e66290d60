"""Shared fixtures: the tiny hand-written territory and paths to the shared material."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "data" / "tiny"
SHARED = REPO.parent / "shared"


@pytest.fixture
def tiny_dir() -> Path:
    """The tiny territory (3 shops, 2 farms, 2 vehicles): small enough to check by hand."""
    return TINY


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A writable copy of the tiny territory, for tests that corrupt it."""
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target


@pytest.fixture
def shared_dir() -> Path:
    """``../shared`` beside the checkout; skips the test when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present beside the checkout")
    return SHARED
