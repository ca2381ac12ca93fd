"""Who holds the daily round (巡检租约): the round commits in slices, so a crashed
holder's round is resumed by the next one once its lease has gone silent.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(sa.Column("holder", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("holder")
