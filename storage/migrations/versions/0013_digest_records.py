"""Kept digests (简报留存): the facts each day's leaders' digest was rendered from.

`/digest DATE` rebuilt a past day from today's records, so an item closed since showed as
never overdue. The digest job now keeps the day's facts beside its messages.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import JSONDict, UTCDateTime

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_records",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("facts", JSONDict(), nullable=False),
        sa.Column("kept_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_digest_records")),
    )


def downgrade() -> None:
    op.drop_table("digest_records")
