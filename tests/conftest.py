"""Shared fixtures: the tiny hand-written territory and paths to the shared material."""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "data" / "tiny"
SHARED = REPO.parent / "shared"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Under ``-n`` (xdist), distribute as ``--dist load`` does but keep each ``xdist_group``
    on one worker (``--dist loadgroup``): the web pages' modules share one solved store per
    process, and a module with a module-scoped template would otherwise build it twice."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:  # a worker names its tests by group as the controller asked
        if workerinput.get("vivres_loadgroup"):
            config.option.loadgroup = True
    elif getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Tell each xdist worker that the controller schedules by group (see pytest_configure)."""
    node.workerinput["vivres_loadgroup"] = node.config.getvalue("dist") == "loadgroup"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Collect the run's garbage once, then freeze what is left: pytest's own cleanup collects
    five times more (unraisable exceptions are still caught by the first), and each pass over a
    worker's whole heap took ≈ 0.5 s."""
    gc.collect()
    gc.freeze()


def _exit_worker_now() -> None:
    """End an xdist worker without tearing its interpreter down (≈ 3 s of freeing objects one by
    one, which the controller waits for). Registered when this conftest is imported, so it runs
    after every exit handler registered later; the worker has already sent its results and its
    exit status is not read."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if os.environ.get("PYTEST_XDIST_WORKER"):
    atexit.register(_exit_worker_now)


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


#: the week of 2025-03-03: S1 (épiceries) has chilled milk, S2 (groupement) and S3 (restaurant)
WEEK_ORDERS = """date,site_id,product_id,quantity,unit,unit_price_eur
2025-03-04,S1,carotte,30,kg,2.5
2025-03-04,S1,lait,20,litre,1.6
2025-03-05,S2,carotte,10,kg,2.5
2025-03-05,S2,pomme,15,kg,3.1
2025-03-06,S3,laitue,50,piece,1.9
2025-03-06,S3,carotte,20,kg,2.5
"""
ORGANISATIONS = """organisation_id,name,kind
epi,Réseau des épiceries,reseau_epiceries
gpa,Fédération des groupements,federation_groupements
chan,Chantier d'insertion,chantier_insertion
"""
SITE_OWNER = {"HUB": "epi", "DEP": "gpa", "S1": "epi", "S2": "gpa", "S3": "chan"}
VEHICLE_OWNER = {"V1": "epi", "V2": "gpa"}  # the chantier has no vehicle


def _mutual_territory(target: Path, *, organisations: bool = True) -> Path:
    shutil.copytree(TINY, target)
    orders = pd.read_csv(target / "orders.csv")
    extra = pd.read_csv(pd.io.common.StringIO(WEEK_ORDERS))
    pd.concat([orders, extra]).to_csv(target / "orders.csv", index=False)
    if organisations:
        (target / "organisations.csv").write_text(ORGANISATIONS, encoding="utf-8")
        for name, key, owner in (
            ("sites", "site_id", SITE_OWNER),
            ("vehicles", "vehicle_id", VEHICLE_OWNER),
        ):
            frame = pd.read_csv(target / f"{name}.csv", dtype=str, keep_default_na=False)
            frame["organisation_id"] = frame[key].map(owner).fillna("")
            frame.to_csv(target / f"{name}.csv", index=False)
    return target


@pytest.fixture
def mutual_territory():
    """A builder of the tiny territory with three organisations and a week of orders
    (2025-W10): ``mutual_territory(folder, organisations=True)``."""
    return _mutual_territory
