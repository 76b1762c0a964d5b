"""Signatures: each user's Ed25519 key (sealed in their slot, public in the chronology), and
signed, hash-chained entries.

Entries already written keep their chain MAC and are shown as "before signatures"; the first
unlock after the upgrade seals their head into a signed `upgraded` entry.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ALTER TABLE ADD COLUMN: no table is rebuilt, so the chronology's triggers stay in place.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("signing_key", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("key_slots") as batch:
        batch.add_column(sa.Column("signing_key", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("facts", sa.String(), nullable=True))
        batch.add_column(sa.Column("signature", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # SQLite's own DROP COLUMN (3.35+): a batch rebuild would drop `users`, which the other
    # tables' foreign keys refuse. Signatures are lost: entries written since do not verify at
    # 0002, so a downgrade is for tests and emergencies, after a backup.
    for table, column in (
        ("entries", "signature"),
        ("entries", "facts"),
        ("key_slots", "signing_key"),
        ("users", "signing_key"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
