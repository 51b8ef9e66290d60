"""API keys: created with a role (and a producer for producer keys), stored as sha256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

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
    """Who is calling: the key's id, role and (for a producer) the producer id."""

    key_id: int
    role: str
    producer_id: str | None = None
    name: str = ""


def create_key(store: Store, role: str, *, producer_id: str | None = None,
               name: str = "") -> tuple[str, Principal]:
    """Create a key; return the token (shown once, never stored) and its principal."""
    if role not in ROLES:
        raise InputError(f"--role must be one of {', '.join(ROLES)}; got {role!r}")
    if role == "producer" and not producer_id:
        raise InputError("a producer key needs --producer ID (the producer_id it may read)")
    if role != "producer" and producer_id:
        raise InputError(f"--producer only applies to producer keys, not {role!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.session() as session:
        row = ApiKey(key_hash=hash_token(token), prefix=token[:10], role=role,
                     producer_id=producer_id, name=name, created_at=utcnow())
        session.add(row)
        session.flush()
        principal = Principal(key_id=row.key_id, role=role, producer_id=producer_id, name=name)
    return token, principal


def find_key(store: Store, token: str) -> Principal | None:
    """The principal of a valid (known, not revoked) token, else None."""
    with store.sessions() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_token(token))).first()
        if row is None or row.revoked_at is not None:
            return None
        return Principal(key_id=row.key_id, role=row.role, producer_id=row.producer_id,
                         name=row.name)


def list_keys(store: Store) -> list[ApiKey]:
    """Every key (hashes only), oldest first."""
    with store.sessions() as session:
        return list(session.scalars(select(ApiKey).order_by(ApiKey.key_id)))


def revoke_key(store: Store, key_id: int) -> None:
    """Revoke a key by id (it stops working within the API's key cache lifetime)."""
    with store.session() as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            raise InputError(f"no API key with id {key_id}")
        row.revoked_at = utcnow()
