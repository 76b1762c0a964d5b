"""Alembic environment: migrates the vault handed over by `safeguarding.migrate`.

It never opens a database of its own choosing: the caller passes the connection.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import safeguarding.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("safeguard migrations run through 'safeguard db upgrade'")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
