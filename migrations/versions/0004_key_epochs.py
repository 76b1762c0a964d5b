"""Key epochs and restricted cases: an X25519 key in every slot, the vault key sealed to it,
every epoch's keys kept in a ring, and restricted cases sealed to their members.

A vault upgraded from an earlier schema is re-keyed once every slot has its X25519 key (each
user's at their next unlock, the recovery key's at its next use); existing allegation cases
become restricted then.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vault_meta") as batch:
        batch.add_column(sa.Column("key_epoch", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("previous_keys", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("rekey_due", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("key_slots") as batch:
        batch.add_column(sa.Column("exchange_key", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("exchange_public", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("restricted", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("rekey_due", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "case_access",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("holder", sa.Integer(), primary_key=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
    )
    # An existing vault: re-key once every slot has its X25519 key.
    op.execute("UPDATE vault_meta SET rekey_due = 1")


def downgrade() -> None:
    op.drop_table("case_access")
    for table, column in (
        ("cases", "rekey_due"),
        ("cases", "restricted"),
        ("key_slots", "exchange_public"),
        ("key_slots", "exchange_key"),
        ("vault_meta", "rekey_due"),
        ("vault_meta", "previous_keys"),
        ("vault_meta", "key_epoch"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
