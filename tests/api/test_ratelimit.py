"""Per-key request rate limit (issue 11, finding 10): one key flooding the API gets 429
problem+json with Retry-After; other keys, ``/v1/health`` and the fast path are handled right."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from api_helpers import test_client

from api.cli import main
from api.http import create_app
from api.http.ratelimit import RateLimiter, limits_from_env
from api.store.keys import create_key


class Clock:
    """A clock the test moves by hand: refills never depend on how fast the machine is."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited(store):
    """An app allowing 60 requests a minute per key, bursts of 5, on a hand-moved clock."""
    app = create_app(store, rate_limit=(60, 5))
    clock = Clock()
    app.state.rate_limiter.clock = clock
    keys = {}
    for name in ("a", "b"):
        token, _ = create_key(store, "planner", territories=["tiny"])
        keys[name] = {"Authorization": f"Bearer {token}"}
    with test_client(app) as client:
        yield SimpleNamespace(client=client, clock=clock, keys=keys, app=app)


def _is_429(answer) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 429
    assert "VIVRES_RATE_LIMIT_PER_MIN" in answer.json()["detail"]


def test_a_key_over_its_rate_gets_429_with_retry_after(limited):
    c, a = limited.client, limited.keys["a"]
    assert [c.get("/v1/me", headers=a).status_code for _ in range(5)] == [200] * 5
    refused = c.get("/v1/me", headers=a)
    _is_429(refused)
    assert refused.headers["retry-after"] == "1"  # 60 a minute: one more each second
    # another key is not affected, health is exempt
    assert c.get("/v1/me", headers=limited.keys["b"]).status_code == 200
    assert all(c.get("/v1/health").status_code == 200 for _ in range(10))
    limited.clock.now += 1.0
    assert c.get("/v1/me", headers=a).status_code == 200
    _is_429(c.get("/v1/me", headers=a))
    limited.clock.now += 60.0  # refills up to the burst, not beyond
    assert [c.get("/v1/me", headers=a).status_code for _ in range(6)] == [200] * 5 + [429]


def test_requests_without_a_key_are_limited_by_address(limited):
    c = limited.client
    assert [c.get("/v1/territories").status_code for _ in range(5)] == [401] * 5
    _is_429(c.get("/v1/territories"))


def test_warm_reads_of_the_fast_path_count_too(limited):
    """A read the cached fast path answers (api/http/fastpath.py) spends the bucket like any
    other: the limiter sits in front of it."""
    c, a = limited.client, limited.keys["a"]
    assert c.get("/v1/me", headers=a).status_code == 200  # the key is verified and cached
    results = limited.app.state.results
    results.put(("job", "j1"), SimpleNamespace(kind="plan", territory_id="tiny"), 1)
    results.put(("summary", "j1"), b'{"fast": true}', 1)
    answers = [c.get("/v1/plans/j1", headers=a) for _ in range(5)]
    assert [r.status_code for r in answers[:4]] == [200] * 4
    assert answers[0].json() == {"fast": True}  # answered from the cache, not by a route
    _is_429(answers[4])


def test_zero_turns_the_limit_off(store):
    app = create_app(store, rate_limit=(0, 0))
    token, _ = create_key(store, "planner", territories=["tiny"])
    with test_client(app) as client:
        answers = [
            client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}) for _ in range(300)
        ]
    assert {r.status_code for r in answers} == {200}


def test_buckets_stay_bounded():
    from api.http import ratelimit

    clock = Clock()
    limiter = RateLimiter(60, 2, clock=clock)
    for i in range(ratelimit.MAX_BUCKETS + 50):
        assert limiter.take(f"k{i}") == 0.0
    assert len(limiter._buckets) <= ratelimit.MAX_BUCKETS


@pytest.mark.parametrize(("value", "message"), [("abc", "whole number"), ("-1", ">= 0")])
def test_bad_rate_settings_are_refused(monkeypatch, capsys, value, message):
    monkeypatch.setenv("VIVRES_RATE_LIMIT_PER_MIN", value)
    with pytest.raises(Exception, match=message):
        limits_from_env()
    assert main(["serve", "--db", "sqlite:///:memory:", "--no-job-worker"]) == 2
    assert "VIVRES_RATE_LIMIT_PER_MIN" in capsys.readouterr().err


def test_defaults(monkeypatch):
    monkeypatch.delenv("VIVRES_RATE_LIMIT_PER_MIN", raising=False)
    monkeypatch.delenv("VIVRES_RATE_LIMIT_BURST", raising=False)
    assert limits_from_env() == (600, 120)
