"""Schema migrations of a vault through Alembic, from the packaged `safeguarding.migrations`.

Alembic is imported only here, and only when a migration or a schema check is asked for.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

import safeguarding.migrations
from safeguarding import storage
from safeguarding.errors import VaultUnusable
from safeguarding.server import Location


def _config(connection: Connection) -> Any:
    from alembic.config import Config

    # Alembic's default stdout is whatever sys.stdout was when it was first imported; safeguard
    # never wants its messages ("No new upgrade operations detected.") anyway.
    config = Config(stdout=io.StringIO())
    config.set_main_option("script_location", str(Path(safeguarding.migrations.__file__).parent))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the vault to `revision` in one transaction."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_config(conn), revision)


def revisions() -> tuple[str, ...]:
    """Alembic's chain of revisions, oldest first: what `storage.KNOWN_REVISIONS` must say."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(Path(safeguarding.migrations.__file__).parent))
    return tuple(reversed([r.revision for r in script.walk_revisions()]))


def check_drift(engine: Engine) -> None:
    """Raise if the models and the migrated schema differ (`alembic check`)."""
    from alembic import command

    with engine.begin() as conn:
        command.check(_config(conn))


@dataclass(frozen=True)
class SchemaState:
    revision: str
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head


def _inspect(path: Location) -> tuple[Engine, SchemaState]:
    """Open the vault without requiring the current schema (that is what we report)."""
    connection = storage.open_connection(path)
    engine = storage.make_engine(path)
    try:
        with storage.guarded(path), contextlib.closing(connection):
            revision = storage.read_revision(connection)
        if revision is None:
            raise VaultUnusable(
                f"{path} is not a safeguard vault",
                hint="check --vault / SAFEGUARD_VAULT",
            )
        if revision not in storage.KNOWN_REVISIONS:
            raise VaultUnusable(
                f"the vault's schema ({revision}) is newer than this safeguard understands",
                hint="install the newer safeguard that last wrote this vault",
            )
    except BaseException:
        engine.dispose()
        raise
    return engine, SchemaState(revision, storage.HEAD_REVISION)


def status(path: Location) -> SchemaState:
    engine, state = _inspect(path)
    engine.dispose()
    return state


def upgrade_vault(path: Location) -> tuple[str, str]:
    """Bring the vault to the current schema; returns the revisions before and after."""
    engine, state = _inspect(path)
    try:
        if not state.up_to_date:
            with storage.guarded(path):
                upgrade(engine)
    finally:
        engine.dispose()
    return state.revision, state.head
