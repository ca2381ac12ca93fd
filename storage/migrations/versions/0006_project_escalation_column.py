"""The project's ladder as its own column (项目升级阶梯列), generated from the snapshot.

The daily round and the silence climb read the ladder of every project with an overdue
item or an open problem. Read out of ``snapshot`` (about 12 KB of JSON per project), that
meant decompressing and walking each whole document: a second at 30,000 projects on
PostgreSQL, the bulk of the round's scan. ``escalation`` is the snapshot's
``escalation`` member as JSON text, kept by the database itself (a generated column:
``STORED`` on PostgreSQL, ``VIRTUAL`` on SQLite, which cannot add a stored column to an
existing table), so no writer can forget it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import JsonMemberText

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    stored = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "projects",
        sa.Column(
            "escalation",
            sa.Text(),
            sa.Computed(
                JsonMemberText(sa.literal_column("snapshot"), "escalation"),
                persisted=True if stored else None,
            ),
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("projects", "escalation")
