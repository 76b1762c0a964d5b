"""Cases: the open/closed state and closing time, cached from each case's chronology.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every case a 0001 vault can hold is open: 0001 had no way to close one.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("status", sa.String(), nullable=False, server_default="open"))
        batch.add_column(sa.Column("closed_at", sa.String(), nullable=True))
        batch.create_index("ix_cases_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_status")
        batch.drop_column("closed_at")
        batch.drop_column("status")
