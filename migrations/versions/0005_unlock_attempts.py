"""Failed attempts to unlock: one unsigned row each, outside the chronology.

Whoever fails to unlock holds no key, so the row cannot be signed or sealed with the vault key:
its details (the name as given, the account, the terminal) are sealed to the key slots' X25519
keys, and the name's lookup tag counts a name's failures since its last unlock.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unlock_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.String(), nullable=False),
        sa.Column("tried", sa.String(), nullable=False),
        sa.Column("name_tag", sa.LargeBinary(), nullable=False),
        sa.Column("details", sa.String(), nullable=False),
        sa.Column("cleared_at", sa.String(), nullable=True),
    )
    op.create_index("ix_unlock_attempts_name_tag", "unlock_attempts", ["name_tag"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_unlock_attempts_name_tag", table_name="unlock_attempts")
    op.drop_table("unlock_attempts")
