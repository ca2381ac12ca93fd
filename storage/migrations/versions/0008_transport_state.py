"""Transport state shared by replicas (通道共享状态): cards, rate slots, small values.

- ``cards``: every interactive card sent (WeCom's template_card TaskId), so that a button
  is answered once and the card then shows who pressed it (issue 16 point 2);
- ``rate_slots``: one row per send counted against a platform limit (WeCom: 30 a minute
  and 1,000 an hour per member, 20 a minute per robot), read by every replica under a
  lock, so that N replicas together stay inside the limit (point 3);
- ``transport_values``: the access token and the progress of messages sent in parts,
  with their expiry;
- ``accounts.unreachable_since``: the platform said the account cannot be reached (WeCom's
  invaliduser / 60111), so the office is told once, not at every failed message.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import JSONList, UTCDateTime

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "cards",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("task_id", sa.String(128), nullable=False),
        sa.Column("chat_external_id", sa.String(128), nullable=False),
        sa.Column("buttons", JSONList(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("pressed_by", sa.String(128), nullable=True),
        sa.Column("pressed_payload", sa.Text(), nullable=True),
        sa.Column("response_code", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("platform", "task_id", name=op.f("pk_cards")),
    )
    op.create_table(
        "rate_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_slots")),
    )
    op.create_index("ix_rate_slots_key_at", "rate_slots", ["key", "at"], unique=False)
    op.create_table(
        "transport_values",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "name", name=op.f("pk_transport_values")),
    )
    op.create_index(
        op.f("ix_transport_values_expires_at"), "transport_values", ["expires_at"], unique=False
    )
    op.add_column("accounts", sa.Column("unreachable_since", UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("unreachable_since")
    op.drop_index(op.f("ix_transport_values_expires_at"), table_name="transport_values")
    op.drop_table("transport_values")
    op.drop_index("ix_rate_slots_key_at", table_name="rate_slots")
    op.drop_table("rate_slots")
    op.drop_table("cards")
