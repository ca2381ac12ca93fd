"""Running numbers for codes (编号序列): one row per prefix, incremented under its lock.

Project codes were the year's count of projects plus one: two offices accepting at the
same moment on PostgreSQL both read the same count and the second accept failed on the
unique code. A prefix's row is seeded from the codes already issued on first use.

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_sequences",
        sa.Column("prefix", sa.String(length=64), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_code_sequences")),
    )


def downgrade() -> None:
    op.drop_table("code_sequences")
