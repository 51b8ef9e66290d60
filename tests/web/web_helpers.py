"""Helpers of the web page tests (imported by name: ``from web_helpers import …``)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from api import jobs
from api.store import territories as store_t
from api.store.db import Store

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"
ROUTES = {"week": 48, "time_limit_s": 5, "seed": 1, "knobs": {"day_solution_limit": 50}}
PLAN = {"work": 0.05, "horizon_weeks": 52, "seed": 3}
#: the real week of 6 Jan 2025 (3 order lines of the tiny orders), its farms' confirmations
WEEK = {
    "week": "2025-W02",
    "week_start": "2025-01-06",
    "seed": 1,
    "knobs": {"day_solution_limit": 50},
}
AVAILABILITY = (
    "week_start,site_id,product_id,kg\n2025-01-06,F1,carotte,12\n2025-01-06,F2,carotte,3\n"
)
BAD_ORDERS = (
    "date,site_id,product_id,quantity,unit,unit_price_eur\n"
    "2025-02-03,S1,carotte,-3,kg,2.5\n"
    "2025-02-03,NOPE,carotte,4,kg,2.5\n"
    "31/02/2025,S2,pomme,2,kg,abc\n"
)


def run(store: Store, job_id: str) -> None:
    assert jobs.claim_next(store, "test:0") == job_id
    assert jobs.execute(store, job_id) == "succeeded", jobs.get_job(store, job_id).error


def put_tiny(store: Store, territory_id: str = "tiny") -> None:
    uploads = [
        store_t.Upload(table=p.stem, content=p.read_bytes(), format="csv")
        for p in sorted(TINY.glob("*.csv"))
    ]
    store_t.put_territory(store, territory_id, uploads)


def put_availability(store: Store, text: str = AVAILABILITY, territory_id: str = "tiny") -> None:
    upload = store_t.Upload(table="availability", content=text.encode(), format="csv")
    store_t.put_table(store, territory_id, upload)


def make_client(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    # https: the session cookie is Secure under TLS, and the test client keeps it then
    return TestClient(app, base_url="https://testserver")


CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def sign_in(client, token: str):
    """Sign in through the form; return the response of the page it lands on."""
    form = client.get("/connexion")
    return client.post("/connexion", data={"key": token, "csrf": csrf_of(form.text)})
