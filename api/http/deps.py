"""What endpoints share: the store, the caller's key and role, pagination, cached results."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.http.problems import forbidden, unauthorized
from api.store.db import Store
from api.store.keys import Principal, find_key_hash, hash_token, revocation_stamp

KEY_CACHE_TTL_S = 30.0
REVOCATION_CHECK_S = 0.5
#: Roles that read every plan and route result (producers read only their own data).
READ_RESULTS = ("planner", "logistics")

bearer = HTTPBearer(auto_error=False, description="An API key from `vivres keys create`.")


def get_store(request: Request) -> Store:
    return request.app.state.store


class KeyCache:
    """Key hash → principal, kept ``KEY_CACHE_TTL_S``; emptied as soon as a key changes.

    Every ``REVOCATION_CHECK_S`` at most, one tiny query reads the keys table's stamp (the
    number of revoked keys, the latest ``revoked_at``, the sum of the keys' change counters):
    a key revoked or re-scoped by ``vivres keys revoke|scope`` in another process takes effect
    within that delay.
    """

    def __init__(self, store: Store, ttl_s: float = KEY_CACHE_TTL_S):
        self.store, self.ttl_s = store, ttl_s
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._stamp: object = None
        self._checked_at = float("-inf")

    def _drop_if_revoked(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < REVOCATION_CHECK_S:
            return
        self._checked_at = now
        stamp = revocation_stamp(self.store)
        if stamp != self._stamp:
            self._entries.clear()
            self._stamp = stamp

    def peek(self, token: str) -> Principal | None:
        """The principal of a key verified less than the TTL ago (and not revoked since)."""
        self._drop_if_revoked()
        hit = self._entries.get(hash_token(token))
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def lookup(self, token: str) -> Principal | None:
        return self.lookup_hash(hash_token(token))

    def lookup_hash(self, digest: str) -> Principal | None:
        """The principal of a key by its hash (web sessions), with the same cache."""
        self._drop_if_revoked()
        hit = self._entries.get(digest)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = find_key_hash(self.store, digest)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[digest] = (now + self.ttl_s, principal)
        return principal


class ResultCache:
    """Stored results are immutable once a job succeeded: keep the hottest in memory."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self._size = 0
        self._lock = Lock()

    def clear(self) -> None:
        """Forget everything (a territory deleted or replaced)."""
        with self._lock:
            self._items.clear()
            self._size = 0

    def get(self, key: tuple) -> object | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: tuple, value: object, size: int) -> None:
        if size > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (value, size)
            self._size += size
            while self._size > self.max_bytes and self._items:
                _, (_, old) = self._items.popitem(last=False)
                self._size -= old


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <key>``; 401 without a valid key."""
    if credentials is None or not credentials.credentials:
        raise unauthorized(
            "send an API key: 'Authorization: Bearer <key>' "
            "(create one with `vivres keys create --role ...`)"
        )
    found = request.app.state.keys.lookup(credentials.credentials)
    if found is None:
        raise unauthorized("unknown or revoked API key")
    if not found.scoped:
        raise forbidden(
            "this key reaches no territory (made before keys were scoped): "
            f"scope it with `vivres keys scope {found.key_id} --territory ID`"
        )
    return found


Caller = Annotated[Principal, Depends(principal)]


def require(caller: Principal, *roles: str) -> None:
    """403 unless the caller's role is one of ``roles``."""
    if caller.role not in roles:
        raise forbidden(f"a {caller.role} key cannot do this (allowed: {', '.join(roles)})")


def require_producer_access(caller: Principal, producer_id: str) -> None:
    """Planners and logistics read any producer of their territories; a producer only its
    own data (another producer's answers 404, as if it did not exist)."""
    if caller.role == "producer" and caller.producer_id != producer_id:
        from api.store.territories import NotFound

        raise NotFound(f"producer {producer_id!r} not found")


def _query_names(dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def reject_unknown_query(request: Request) -> None:
    """422 for a query parameter the operation does not take: a typo must not be ignored
    (``?producer=P1`` instead of ``?producer_id=P1`` would silently return every row)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.query_params:
        return
    known = _query_names(dependant)
    unknown = sorted({k for k in request.query_params if k not in known})
    names = [k for k, _ in request.query_params.multi_items()]
    repeated = sorted({k for k in names if names.count(k) > 1 and k in known})
    if repeated:  # every parameter takes one value: which one was meant is unknown
        from api.http.problems import ProblemError

        raise ProblemError(
            422,
            "Invalid request",
            f"query parameter(s) given more than once: {', '.join(map(repr, repeated))}",
            slug="invalid-request",
            errors=[{"field": f"query.{k}", "message": "given more than once"} for k in repeated],
        )
    if unknown:
        from api.http.problems import ProblemError

        raise ProblemError(
            422,
            "Invalid request",
            f"unknown query parameter(s): "
            f"{', '.join(map(repr, unknown))}; this operation takes "
            + (", ".join(sorted(known)) or "none"),
            slug="invalid-request",
            errors=[{"field": f"query.{k}", "message": "unknown parameter"} for k in unknown],
        )


Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="rows to skip")]


@dataclass(frozen=True, slots=True)
class Paging:
    """Which page of a table: ``limit`` rows after the first ``offset``."""

    limit: int
    offset: int


def _paging(limit: Limit = 100, offset: Offset = 0) -> Paging:
    return Paging(limit=limit, offset=offset)


#: ``?limit=&offset=`` of a stored table's rows (100 rows a page by default).
Rows = Annotated[Paging, Depends(_paging)]
