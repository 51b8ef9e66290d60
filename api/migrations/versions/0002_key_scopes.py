"""API keys scoped to territories.

Keys made before this revision have no scope: they answer 403 until an administrator scopes
them (``vivres keys scope KEY_ID --territory ID`` or ``--all-territories``), so no existing
key silently keeps reaching every hub's data.

Revision ID: 0002_key_scopes
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_key_scopes"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("territories", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("all_territories", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("all_territories")
        batch.drop_column("territories")
