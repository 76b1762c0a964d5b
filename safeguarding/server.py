"""Where a vault on a PostgreSQL server is: the server's URL, and the schema holding the vault.

A vault is a file, or `postgresql://…` (`postgres://…`): a libpq URL with one more query
parameter, `schema`, naming the PostgreSQL schema that holds one school's vault (`public` if
it is left out).  The password never comes from the URL: a URL is typed, shown in `ps` and
kept in shell histories, so one holding a password is refused; libpq reads it from
`~/.pgpass`, `PGPASSFILE` or `PGPASSWORD`.  Nothing here connects (see `safeguarding.pg`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from safeguarding.errors import UsageError

SCHEMES = ("postgresql", "postgres")
DEFAULT_SCHEMA = "public"
#: A schema's name as safeguard accepts it: a plain lower-case identifier, never quoted.
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")
WHERE_PASSWORDS_GO = (
    "put the password in ~/.pgpass (or PGPASSFILE, or PGPASSWORD), never in the URL"
)


def is_server(text: str) -> bool:
    """Whether `text` names a vault on a PostgreSQL server rather than a file."""
    scheme, _, rest = text.partition("://")
    return bool(rest) and scheme.lower() in SCHEMES


@dataclass(frozen=True)
class Server:
    """A vault on a PostgreSQL server: `conninfo` (the URL libpq is given, without `schema`)
    and `schema`.  Shown (`str`) as the URL was given, `schema` included."""

    conninfo: str
    schema: str

    @classmethod
    def parse(cls, text: str) -> Server:
        """The server `text` names; `UsageError` (exit 2) for one holding a password or
        naming a schema safeguard will not use.  No message repeats what was given after the
        user name, where a password would be."""
        try:
            parts = urlsplit(text)
            has_password = parts.password is not None
            query = parse_qsl(parts.query, keep_blank_values=True)
        except ValueError:
            raise UsageError(
                "the vault's PostgreSQL URL cannot be read",
                hint="write it as postgresql://USER@HOST/DATABASE?schema=SCHOOL",
            ) from None
        if has_password or any(name == "password" for name, _ in query):
            raise UsageError("the vault's PostgreSQL URL holds a password", hint=WHERE_PASSWORDS_GO)
        schemas = [value for name, value in query if name == "schema"]
        schema = schemas[-1] if schemas else DEFAULT_SCHEMA
        if len(schemas) > 1 or not SCHEMA_NAME.match(schema):
            raise UsageError(
                f"the schema in the vault's URL must be one plain name ({schema!r} is not)",
                hint="lower-case letters, digits and _, starting with a letter: ?schema=school_a",
            )
        rest = urlencode([(name, value) for name, value in query if name != "schema"], safe="/")
        conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, ""))
        return cls(conninfo, schema)

    def __str__(self) -> str:
        parts = urlsplit(self.conninfo)
        query = [*parse_qsl(parts.query, keep_blank_values=True), ("schema", self.schema)]
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe="/"), ""))


#: Where a vault is: a file, or a schema on a PostgreSQL server.
Location = Path | Server


def location(text: str) -> Location:
    """The vault `text` names (`--vault`, SAFEGUARD_VAULT, the config's `vault`)."""
    return Server.parse(text) if is_server(text) else Path(text)
