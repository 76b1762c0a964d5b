"""Concerns reported by any member of staff: each a signed entry of the chronology whose key is
sealed to the safeguarding team, its author and the recovery key, and its state until triaged.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "concerns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), sa.ForeignKey("entries.seq"), nullable=False, unique=True),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("recorded_at", sa.String(), nullable=False),
        sa.Column("seen_at", sa.String(), nullable=True),
        sa.Column("triaged_seq", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
    )
    op.create_table(
        "concern_keys",
        sa.Column("concern_id", sa.Integer(), sa.ForeignKey("concerns.id"), primary_key=True),
        sa.Column("holder", sa.Integer(), primary_key=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("concern_keys")
    op.drop_table("concerns")
