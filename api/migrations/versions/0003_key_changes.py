"""A change counter on API keys, so a running server sees every change of a key at once.

``changes`` goes up by one each time a key's scope is set or the key is revoked; the API's key
cache compares the sum over all keys (with the revocation count and time) every half second and
forgets every verified key when it moved. A counter, not a timestamp: clocks of several hosts
need not agree.

Revision ID: 0003_key_changes
Revises: 0002_key_scopes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_key_changes"
down_revision = "0002_key_scopes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("changes", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("changes")
