"""Outbox indexes for the claim (发件箱认领索引): by chat, and pending rows in id order.

The delivery worker claims the first pending rows in id order whose chat has no earlier
row waiting (a retry scheduled later, or a live claim). Without these the claim read the
whole backlog and, for each row, every row in flight: quadratic in the backlog.

- ``(status, id)``, replacing ``(status, not_before, id)``: the pending rows in id order,
  so a claim stops after its batch. With both, SQLite (which keeps no statistics here)
  took the range on ``not_before`` and sorted the whole backlog; the old index's other
  readers (the pending count, the oldest pending row for /healthz) read the pending rows
  either way;
- ``(chat_external_id, platform, status, id)``: a chat's earlier waiting rows. The chat
  leads so that the planner never takes it for the claim's outer scan (by platform alone
  it would walk all of a platform's history).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_outbox_status_id", "outbox", ["status", "id"], unique=False)
    op.drop_index("ix_outbox_status_not_before_id", table_name="outbox")
    op.create_index(
        "ix_outbox_chat_platform_status_id",
        "outbox",
        ["chat_external_id", "platform", "status", "id"],
        unique=False,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_outbox_chat_platform_status_id", table_name="outbox")
    op.create_index(
        "ix_outbox_status_not_before_id", "outbox", ["status", "not_before", "id"], unique=False
    )
    op.drop_index("ix_outbox_status_id", table_name="outbox")
