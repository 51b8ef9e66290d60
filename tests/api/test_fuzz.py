"""Schemathesis fuzzes every operation of the OpenAPI schema: no 5xx, no schema violation.

Half of the generated ids are swapped for real ones (the tiny territory, a solved plan and
week, producer P1) so the fuzzing reaches the stored results, not only the 404s. Bounded to a
few examples (4) per operation, the same every run, for CI; ``VIVRES_FUZZ_EXAMPLES=200``
runs a longer, random campaign.
"""

from __future__ import annotations

import os
import warnings
import zlib

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from hypothesis import HealthCheck, settings

from api import jobs
from api.store.keys import create_key
from tests.api.conftest import test_client, tiny_files

MAX_EXAMPLES = int(os.environ.get("VIVRES_FUZZ_EXAMPLES", "4"))
#: CI replays the same examples every run; a campaign (VIVRES_FUZZ_EXAMPLES set) explores anew
DERANDOMIZE = "VIVRES_FUZZ_EXAMPLES" not in os.environ
TOKEN: dict[str, str] = {}


@schemathesis.auth(refresh_interval=None)
class PlannerKey:
    """The planner key, set as auth so negative tests never mutate it into a valid request."""

    def get(self, case, context):
        # registered for every schema of the process: under pytest-xdist the other fuzz module
        # (test_fuzz_nonfinite, its own key and headers) may run where fuzz_app has not
        return TOKEN.get("planner", "")

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@pytest.fixture
def fuzz_app(tmp_path):
    from api.http import create_app
    from api.store.db import Store

    store = Store.open(f"sqlite:///{tmp_path / 'fuzz.db'}")
    token, _ = create_key(store, "planner", all_territories=True)
    TOKEN["planner"] = token
    app = create_app(store, max_body_mb=8, rate_limit=(0, 0))
    headers = {"Authorization": f"Bearer {token}"}
    with test_client(app) as client:
        assert (
            client.put("/v1/territories/tiny", files=tiny_files(), headers=headers).status_code
            == 200
        )
        plan = client.post(
            "/v1/territories/tiny/plans", json={"time_limit_s": 3}, headers=headers
        ).json()["job_id"]
        routes = client.post(
            "/v1/territories/tiny/routes", json={"week": 48, "time_limit_s": 1}, headers=headers
        ).json()["job_id"]
    for job_id in (plan, routes):
        assert jobs.claim_next(store, "fuzz:0") == job_id
        assert jobs.execute(store, job_id) == "succeeded", jobs.get_job(store, job_id).error
    app.state.fuzz = {"headers": headers, "plan": plan, "routes": routes}
    yield app
    store.engine.dispose()


@pytest.fixture
def fuzz_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


schema = schemathesis.pytest.from_fixture("fuzz_schema")
#: every operation of the schema fuzzed: about 20 s (`-m "not slow"` skips it)
pytestmark = pytest.mark.slow


def _real_ids(case, known: dict) -> None:
    """Swap about half of the generated ids for existing ones."""
    params = case.path_parameters or {}
    for name, value in list(params.items()):
        if not isinstance(value, str) or zlib.crc32(value.encode()) % 2:
            continue
        if name == "job_id":
            params[name] = known["plan"] if "/plans/" in case.path else known["routes"]
        elif name == "territory_id" and case.method.upper() != "DELETE":
            params[name] = "tiny"
        elif name == "producer_id":
            params[name] = "P1"


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=DERANDOMIZE,
)
def test_no_5xx_and_responses_match_the_schema(case, fuzz_app):
    _real_ids(case, fuzz_app.state.fuzz)
    # every check but positive_data_acceptance: a schema-valid CSV body can still name an
    # unknown site, and rejecting it (422 naming the row) is the point
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])
