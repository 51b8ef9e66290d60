"""Schemathesis fuzzes every operation of the OpenAPI schema: no 5xx, no schema violation.

Bounded (a few examples per operation) to stay fast in CI; ``vivres bench api --fuzz N`` runs a
longer campaign against a live server for the closing figures.
"""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from hypothesis import HealthCheck, settings

from api import jobs
from api.store.keys import create_key
from tests.api.conftest import tiny_files

MAX_EXAMPLES = 6


@pytest.fixture
def fuzz_app(tmp_path):
    from api.http import create_app
    from api.store.db import Store

    store = Store.open(f"sqlite:///{tmp_path / 'fuzz.db'}")
    token, _ = create_key(store, "planner")
    app = create_app(store, max_body_mb=1)
    app.state.fuzz_headers = {"Authorization": f"Bearer {token}"}
    from tests.api.conftest import test_client

    with test_client(app) as client:
        r = client.put("/v1/territories/tiny", files=tiny_files(), headers=app.state.fuzz_headers)
        assert r.status_code == 200
        job = client.post("/v1/territories/tiny/routes", json={"week": 48, "time_limit_s": 1},
                          headers=app.state.fuzz_headers).json()
    jobs.claim_next(store, "fuzz:0")
    jobs.execute(store, job["job_id"])
    yield app
    store.engine.dispose()


@pytest.fixture
def fuzz_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_5xx_and_responses_match_the_schema(case, fuzz_app):
    # every check but positive_data_acceptance: a schema-valid CSV body can still name an
    # unknown site, and rejecting it (422 naming the row) is the point
    case.call_and_validate(headers=fuzz_app.state.fuzz_headers,
                           excluded_checks=[schemathesis.checks.positive_data_acceptance])
