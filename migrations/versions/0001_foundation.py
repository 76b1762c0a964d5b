"""The foundation: vault metadata, users and key slots, cases and the append-only chronology.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vault_meta",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(), nullable=False),
        sa.Column("lookup_salt", sa.LargeBinary(), nullable=False),
        sa.Column("head_seq", sa.Integer(), nullable=False),
        sa.Column("head_mac", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_tag", sa.LargeBinary(), nullable=False),
        sa.Column("name", sa.LargeBinary(), nullable=False),
        sa.Column("role", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.String(), nullable=False),
        sa.Column("disabled_at", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_tag"),
    )
    op.create_table(
        "key_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kdf", sa.String(), nullable=False),
        sa.Column("kdf_iterations", sa.Integer(), nullable=False),
        sa.Column("kdf_memory_kib", sa.Integer(), nullable=False),
        sa.Column("kdf_lanes", sa.Integer(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.String(), nullable=False),
        sa.Column("case_key", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "number"),
    )
    op.create_table(
        "entries",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("event_at", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.String(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("mac", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_entries_case_id", "entries", ["case_id"], unique=False)
    # The chronology is append-only: nothing may edit or remove an entry.
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
        return
    op.execute(
        "CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries "
        f"BEGIN SELECT RAISE(ABORT, '{CHANGED}'); END"
    )
    op.execute(
        "CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries "
        f"BEGIN SELECT RAISE(ABORT, '{REMOVED}'); END"
    )


CHANGED = "the chronology is append-only: entries cannot be changed"
REMOVED = "the chronology is append-only: entries cannot be removed"


def _postgresql_triggers() -> None:
    """The same triggers in PL/pgSQL, in the vault's schema, and one more for TRUNCATE."""
    op.execute(
        "CREATE FUNCTION entries_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION USING MESSAGE = TG_ARGV[0]; END $$"
    )
    for name, event, each, message in (
        ("entries_no_update", "UPDATE", "ROW", CHANGED),
        ("entries_no_delete", "DELETE", "ROW", REMOVED),
        ("entries_no_truncate", "TRUNCATE", "STATEMENT", REMOVED),
    ):
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {event} ON entries FOR EACH {each} "
            f"EXECUTE FUNCTION entries_append_only('{message}')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE entries")  # and its triggers with it
        op.execute("DROP FUNCTION entries_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS entries_no_delete")
        op.execute("DROP TRIGGER IF EXISTS entries_no_update")
        op.drop_index("ix_entries_case_id", table_name="entries")
        op.drop_table("entries")
    op.drop_table("cases")
    op.drop_table("key_slots")
    op.drop_table("users")
    op.drop_table("vault_meta")
