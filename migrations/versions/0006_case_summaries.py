"""Case summaries: where each case stands (its stage, next step's inputs, counts and last
entry), sealed with the case's own key and written with each of its entries, so that `cases`
and `note` read one row a case rather than every entry.

Building a summary needs the case's key, which a migration does not have: an upgraded vault
has none, and lists exactly as before (from the chronology) until they are written, lazily:
the first `cases` that lists a case writes its summary, and so does the case's next entry.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_summaries",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("summary", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_summaries")
