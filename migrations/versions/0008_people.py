"""People: the children (and adults) a school's cases are about, each a signed event of the
vault's chronology, their fields sealed with the field key and their name's lookup tag beside
them; and the links between people (sibling, parent, carer…).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), sa.ForeignKey("entries.seq"), nullable=False, unique=True),
        sa.Column("name_tag", sa.LargeBinary(), nullable=False, index=True),
        sa.Column("name", sa.LargeBinary(), nullable=False),
        sa.Column("dob", sa.LargeBinary(), nullable=False),
        sa.Column("year_group", sa.LargeBinary(), nullable=False),
        sa.Column("upn", sa.LargeBinary(), nullable=False),
        sa.Column("role", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.String(), nullable=False),
    )
    op.create_table(
        "person_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), sa.ForeignKey("entries.seq"), nullable=False, unique=True),
        sa.Column("person_a", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("person_b", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("relation", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("person_links")
    op.drop_table("people")
