"""Schemathesis-generated JSON bodies with every number made non-finite: never a 5xx.

Schemathesis (4.x) generates finite floats only and sends JSON through httpx, which refuses
NaN; so this test takes its generated cases, turns every number of the body into NaN,
Infinity or -Infinity, and sends the JSON text itself. Every answer must be a 4xx
problem+json whose body is strict JSON (no NaN token echoed).
"""

from __future__ import annotations

import json
import math
import warnings
import zlib

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from hypothesis import HealthCheck, settings

from api.store.keys import create_key
from tests.api.conftest import test_client, tiny_files

NON_FINITE = (math.nan, math.inf, -math.inf)


@pytest.fixture
def nonfinite_app(tmp_path):
    from api.http import create_app
    from api.store.db import Store

    store = Store.open(f"sqlite:///{tmp_path / 'fuzz.db'}")
    token, _ = create_key(store, "planner", all_territories=True)
    app = create_app(store, max_body_mb=8, rate_limit=(0, 0))
    app.state.headers = {"Authorization": f"Bearer {token}"}
    with test_client(app) as client:
        assert (
            client.put(
                "/v1/territories/tiny", files=tiny_files(), headers=app.state.headers
            ).status_code
            == 200
        )
    yield app
    store.engine.dispose()


@pytest.fixture
def nonfinite_schema(nonfinite_app):
    return schemathesis.openapi.from_asgi("/openapi.json", nonfinite_app)


schema = schemathesis.pytest.from_fixture("nonfinite_schema")
#: every operation of the schema with non-finite numbers: about 10 s
pytestmark = pytest.mark.slow


def _poison(value, seed: int = 0):
    """Every number of a JSON value replaced by NaN, Infinity or -Infinity."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return NON_FINITE[seed % 3]
    if isinstance(value, list):
        return [_poison(v, seed + i) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _poison(v, seed + zlib.crc32(k.encode())) for k, v in value.items()}
    return value


@schema.parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_non_finite_numbers_in_generated_bodies_never_give_a_5xx(case, nonfinite_app):
    if case.media_type != "application/json" or not isinstance(case.body, dict | list):
        return
    body = _poison(case.body)
    if json.dumps(body) == json.dumps(case.body):
        body = {**body, "time_limit_s": math.nan} if isinstance(body, dict) else body
    path = case.formatted_path
    if "{" in path:
        return
    with test_client(nonfinite_app) as client:
        r = client.request(
            case.method.upper(),
            path,
            params=case.query,
            content=json.dumps(body),  # NaN / Infinity tokens, on purpose
            headers={**nonfinite_app.state.headers, "Content-Type": "application/json"},
        )
    assert r.status_code < 500, r.text[:300]
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
        json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} echoed"))
