"""Erasure and legal holds: each case's erasure and the hold in force on it, cached from the
chronology (its signed `erased`, `hold` and `hold_released` entries, which `verify` checks
them against).  An erased case keeps its entries (ciphertext, hash and signature) but no key.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Added in place (SQLite's ADD COLUMN): a batch copy of `cases` would have to drop the table
    # that `case_access`, `case_summaries` and `entries` refer to.
    op.add_column("cases", sa.Column("erased_seq", sa.Integer(), nullable=True))
    op.add_column("cases", sa.Column("held_seq", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE cases DROP COLUMN held_seq")
    op.execute("ALTER TABLE cases DROP COLUMN erased_seq")
