"""Enterprise claims (联络人认领), contact invite codes and wrong-code attempts (错误邀请码).

A person who gives an enterprise's credit code now files a claim that an existing contact
or the office decides, or sends an invite code the office issued for that enterprise
(``invites.enterprise_id``); wrong invite and bind codes are counted per messenger account,
in the store so the limit holds across restarts and replicas.

Revision ID: 0007
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "enterprise_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("stated_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'refused')",
            name=op.f("ck_enterprise_claims_status"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_enterprise_claims_enterprise_id_enterprises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_enterprise_claims_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["persons.id"],
            name=op.f("fk_enterprise_claims_decided_by_id_persons"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_claims")),
    )
    op.create_index(
        "ix_enterprise_claims_enterprise_id_status", "enterprise_claims", ["enterprise_id", "status"]
    )
    op.create_index("ix_enterprise_claims_person_id", "enterprise_claims", ["person_id"])
    op.create_table(
        "code_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_attempts")),
    )
    op.create_index(
        "ix_code_attempts_account_at", "code_attempts", ["platform", "external_id", "at"]
    )
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("enterprise_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_invites_enterprise_id_enterprises"),
            "enterprises",
            ["enterprise_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("invites") as batch:
        batch.drop_constraint(op.f("fk_invites_enterprise_id_enterprises"), type_="foreignkey")
        batch.drop_column("enterprise_id")
    op.drop_index("ix_code_attempts_account_at", table_name="code_attempts")
    op.drop_table("code_attempts")
    op.drop_index("ix_enterprise_claims_person_id", table_name="enterprise_claims")
    op.drop_index("ix_enterprise_claims_enterprise_id_status", table_name="enterprise_claims")
    op.drop_table("enterprise_claims")
