"""Web page sessions: signing out ends a session on the server, not only in the browser.

A session cookie carries a random token; the table keeps its sha256, the key it was opened
with (by hash: a revoked key ends its sessions), the session's CSRF token and its end.

Revision ID: 0004_web_sessions
Revises: 0003_key_changes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_web_sessions"
down_revision = "0003_key_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_web_sessions_key_hash", "web_sessions", ["key_hash"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_key_hash", table_name="web_sessions")
    op.drop_table("web_sessions")
