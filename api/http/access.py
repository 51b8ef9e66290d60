"""Who may see what: one policy for the FastAPI routes and the fast read path.

A key is scoped to territories (``--territory``, or every territory for an admin key made
with ``--all-territories``) and, for a producer, to one producer of its one territory. Whatever
lies outside a key's scope answers 404, as if it did not exist: a key cannot learn that
another hub's territory, job or producer exists.
"""

from __future__ import annotations

from fastapi import Request

from api.http.deps import Caller
from api.store.keys import Principal
from api.store.territories import NotFound


def territory_visible(caller: Principal, territory_id: str | None) -> bool:
    """The key's scope holds this territory."""
    if territory_id is None:
        return False
    return caller.all_territories or territory_id in caller.territories


def producer_visible(caller: Principal, producer_id: str | None) -> bool:
    """Planners and logistics see every producer of their territories; a producer itself."""
    return caller.role != "producer" or caller.producer_id == producer_id


def territories_of(caller: Principal) -> frozenset[str] | None:
    """The territories a list may show (``None``: all of them)."""
    return None if caller.all_territories else caller.territories


def ensure_territory(caller: Principal, territory_id: str) -> None:
    """404 unless the key's scope holds ``territory_id``."""
    if not territory_visible(caller, territory_id):
        raise NotFound(f"territory {territory_id!r} not found")


def ensure_producer(caller: Principal, producer_id: str) -> None:
    """404 for a producer key asking for another producer's data."""
    if not producer_visible(caller, producer_id):
        raise NotFound(f"producer {producer_id!r} not found")


def job_territory(request: Request, job_id: str) -> str | None:
    """The territory of a job (``None``: no such job); a job never changes territory."""
    from api.store.models import Job

    cache = request.app.state.results
    hit = cache.get(("territory-of", job_id))
    if hit is not None:
        return hit
    with request.app.state.store.sessions() as session:
        job = session.get(Job, job_id)
        territory_id = None if job is None else job.territory_id
    if territory_id is not None:
        cache.put(("territory-of", job_id), territory_id, 128)
    return territory_id


def ensure_job(request: Request, caller: Principal, job_id: str) -> None:
    """404 for a job of a territory outside the key's scope (an unknown job passes: the
    route answers its own 404)."""
    territory_id = job_territory(request, job_id)
    if territory_id is not None and not territory_visible(caller, territory_id):
        raise NotFound(f"job {job_id} not found")


def _scenario_territory(request: Request, scenario_id: str) -> str | None:
    from api.store.models import Scenario

    with request.app.state.store.sessions() as session:
        row = session.get(Scenario, scenario_id)
        return None if row is None else row.territory_id


async def scoped(request: Request, caller: Caller) -> None:
    """Router dependency: every ``territory_id``, ``job_id`` and ``producer_id`` in the path
    must lie in the key's scope (404 otherwise), before the route itself runs."""
    params = request.path_params
    if "territory_id" in params:
        ensure_territory(caller, params["territory_id"])
    if "job_id" in params:
        ensure_job(request, caller, params["job_id"])
    if "scenario_id" in params:
        territory_id = _scenario_territory(request, params["scenario_id"])
        if territory_id is not None and not territory_visible(caller, territory_id):
            raise NotFound(f"no scenario {params['scenario_id']!r}")
    if "producer_id" in params:
        ensure_producer(caller, params["producer_id"])
