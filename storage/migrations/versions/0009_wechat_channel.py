"""The WeChat channel (微信服务号): contacts' customer-service windows, template notices
already sent, and platform access tokens shared by replicas.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "wechat_contacts",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("last_inbound_at", UTCDateTime(), nullable=True),
        sa.Column("sends_left", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("openid", name=op.f("pk_wechat_contacts")),
    )
    op.create_table(
        "wechat_notices_sent",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wechat_notices_sent")),
    )
    op.create_table(
        "platform_tokens",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_platform_tokens")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("platform_tokens")
    op.drop_table("wechat_notices_sent")
    op.drop_table("wechat_contacts")
