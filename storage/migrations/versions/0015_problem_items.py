"""Problems grouped per project (问题所涉事项): the items one problem lists.

Every existing problem lists its own item, so the grouped view starts from what was there.

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "problem_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_problem_items_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["checklist_items.id"],
            name=op.f("fk_problem_items_item_id_checklist_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_items")),
        sa.UniqueConstraint(
            "problem_id", "item_id", name=op.f("uq_problem_items_problem_id_item_id")
        ),
    )
    op.create_index("ix_problem_items_item_id", "problem_items", ["item_id"])
    op.execute(
        "INSERT INTO problem_items (problem_id, item_id, joined_at, reason) "
        "SELECT id, item_id, opened_at, CASE WHEN auto THEN NULL ELSE reason END "
        "FROM problems WHERE item_id IS NOT NULL"
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_problem_items_item_id", table_name="problem_items")
    op.drop_table("problem_items")
