"""Indexes for per-item lookups of the rounds and the digest (索引).

``events (item_id, kind)``: an item's nudges and last actions (the digest's "not
responding", the ladder's facts) without reading the whole work log, which grows by a line
per nudge per day. ``problems (item_id)``: an item's unresolved problem.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_events_item_id_kind", "events", ["item_id", "kind"], unique=False)
    op.create_index("ix_problems_item_id", "problems", ["item_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_problems_item_id", table_name="problems")
    op.drop_index("ix_events_item_id_kind", table_name="events")
