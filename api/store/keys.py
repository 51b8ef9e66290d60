"""API keys: created with a role (and a producer for producer keys), stored as sha256 hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from api.store.db import Store
from api.store.models import ApiKey, utcnow
from core.errors import InputError

ROLES = ("planner", "logistics", "producer")
TOKEN_PREFIX = "vvr_"


def hash_token(token: str) -> str:
    """The stored form of a key: sha256 of the token (high-entropy, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is calling: the key's id, role, scope (territories, or all for an admin key) and,
    for a producer, the producer id."""

    key_id: int
    role: str
    producer_id: str | None = None
    name: str = ""
    territories: frozenset[str] = frozenset()
    all_territories: bool = False

    @property
    def scoped(self) -> bool:
        """The key has a scope (keys made before scopes existed have none until re-scoped)."""
        return self.all_territories or bool(self.territories)


def _check_scope(
    role: str, territories: tuple[str, ...], all_territories: bool, producer_id: str | None
) -> None:
    if all_territories and territories:
        raise InputError("give --territory or --all-territories, not both")
    if not all_territories and not territories:
        raise InputError(
            "a key needs --territory ID (repeat it for several territories), or "
            "--all-territories for an admin key that reaches every territory"
        )
    if role == "producer" and (all_territories or len(territories) != 1):
        raise InputError(
            "a producer key belongs to one producer of one territory: give "
            "exactly one --territory ID with --producer ID"
        )
    for territory_id in territories:
        if not SLUG.fullmatch(territory_id):
            raise InputError(
                f"--territory must be a territory id (letters, digits, '_', '-', "
                f"up to 64); got {territory_id[:80]!r}"
            )


SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def create_key(
    store: Store,
    role: str,
    *,
    territories: tuple[str, ...] | list[str] = (),
    all_territories: bool = False,
    producer_id: str | None = None,
    name: str = "",
) -> tuple[str, Principal]:
    """Create a key; return the token (shown once, never stored) and its principal."""
    if role not in ROLES:
        raise InputError(f"--role must be one of {', '.join(ROLES)}; got {role!r}")
    if role == "producer" and not producer_id:
        raise InputError("a producer key needs --producer ID (the producer_id it may read)")
    if role != "producer" and producer_id:
        raise InputError(f"--producer only applies to producer keys, not {role!r}")
    territories = tuple(dict.fromkeys(territories))
    _check_scope(role, territories, all_territories, producer_id)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.session() as session:
        row = ApiKey(
            key_hash=hash_token(token),
            prefix=token[:10],
            role=role,
            producer_id=producer_id,
            name=name,
            created_at=utcnow(),
            territories=list(territories),
            all_territories=all_territories,
        )
        session.add(row)
        session.flush()
        principal = _principal(row)
    return token, principal


def scope_key(
    store: Store,
    key_id: int,
    *,
    territories: tuple[str, ...] | list[str] = (),
    all_territories: bool = False,
) -> Principal:
    """Set the territories a key reaches (e.g. a key made before scopes existed); a running
    API applies the new scope within ``REVOCATION_CHECK_S`` (half a second)."""
    territories = tuple(dict.fromkeys(territories))
    with store.session() as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            raise InputError(f"no API key with id {key_id}")
        _check_scope(row.role, territories, all_territories, row.producer_id)
        row.territories = list(territories)
        row.all_territories = all_territories
        row.changes = (row.changes or 0) + 1
        session.flush()
        return _principal(row)


def _principal(row: ApiKey) -> Principal:
    return Principal(
        key_id=row.key_id,
        role=row.role,
        producer_id=row.producer_id,
        name=row.name,
        territories=frozenset(row.territories or ()),
        all_territories=bool(row.all_territories),
    )


def find_key(store: Store, token: str) -> Principal | None:
    """The principal of a valid (known, not revoked) token, else None."""
    return find_key_hash(store, hash_token(token))


def find_key_hash(store: Store, digest: str) -> Principal | None:
    """The principal of a valid key by its stored hash (a web session holds the hash)."""
    with store.sessions() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest)).first()
        if row is None or row.revoked_at is not None:
            return None
        return _principal(row)


def revocation_stamp(store: Store) -> tuple:
    """What changes whenever a key is revoked or re-scoped: (revoked keys, latest revocation
    time, changes counted over all keys)."""
    with store.sessions() as session:
        return tuple(
            session.execute(
                select(
                    func.count(ApiKey.revoked_at),
                    func.max(ApiKey.revoked_at),
                    func.coalesce(func.sum(ApiKey.changes), 0),
                )
            ).one()
        )


def list_keys(store: Store) -> list[ApiKey]:
    """Every key (hashes only), oldest first."""
    with store.sessions() as session:
        return list(session.scalars(select(ApiKey).order_by(ApiKey.key_id)))


def revoke_key(store: Store, key_id: int) -> None:
    """Revoke a key by id (a running API notices within ``REVOCATION_CHECK_S``, half a second)."""
    with store.session() as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            raise InputError(f"no API key with id {key_id}")
        row.revoked_at = utcnow()
        row.changes = (row.changes or 0) + 1
