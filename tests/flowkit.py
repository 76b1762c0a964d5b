"""Helpers for the flow tests: text files to pass with --text-file, and a recorded case."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from safeguarding import storage
from safeguarding.server import Server
from tests.conftest import invoke

Say = Callable[[str], str]


def text_writer(folder: Path) -> Say:
    counter = itertools.count()

    def write(text: str) -> str:
        path = folder / f"text-{next(counter)}.txt"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def record_args(
    text_file: str,
    *,
    category: str = "staff-pupil-contact",
    subject: str = "Daniel Price",
    role: str = "staff",
) -> list[str]:
    """`record` and its options as a script gives them, the account read from `text_file`."""
    return [
        "record",
        "--category",
        category,
        "--subject",
        subject,
        "--subject-role",
        role,
        "--disclosed-by",
        "Karen Webb",
        "--relationship",
        "parent",
        "--where",
        "the school office",
        "--text-file",
        text_file,
    ]


def record(
    say: Say,
    *extra: str,
    category: str = "staff-pupil-contact",
    subject: str = "Daniel Price",
    role: str = "staff",
) -> dict[str, Any]:
    text = say("He has been messaging my daughter.")
    args = record_args(text, category=category, subject=subject, role=role)
    result = invoke(*args, "--json", *extra)
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def entry(say: Say, *args: str, text: str = "Something was said.") -> dict[str, Any]:
    """Run an entry command with --json and a text file; it must succeed."""
    result = invoke(*args, "--text-file", say(text), "--json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def entry_count(vault: Path | Server) -> int:
    """How many entries the vault holds, a file or a schema on a PostgreSQL server."""
    return int(sql_value(vault, "SELECT count(*) FROM entries"))


def sql_value(vault: Path | Server, sql: str, *parameters: Any) -> Any:
    """The first column of the first row of `sql`, read from a vault file or (through the
    library's seam) a schema on a PostgreSQL server; None for no row."""
    if isinstance(vault, Server):
        connection = storage.open_connection(vault)
        try:
            row = connection.execute(sql, parameters).fetchone()
        finally:
            connection.close()
    else:
        with closing(sqlite3.connect(vault)) as db:
            row = db.execute(sql, parameters).fetchone()
    return None if row is None else row[0]


def sql_run(vault: Path | Server, sql: str, *parameters: Any) -> None:
    """Change a vault by hand, as someone with the file or the schema's role could: one
    statement, committed."""
    if isinstance(vault, Server):
        connection = storage.open_connection(vault)  # autocommit
        try:
            connection.execute(sql, parameters)
        finally:
            connection.close()
    else:
        with closing(sqlite3.connect(vault)) as db, db:
            db.execute(sql, parameters)


def corrected_twice(say: Say) -> tuple[str, int, int, int]:
    """A case with a conversation, an amendment of it and an amendment of that amendment:
    the case and the three entries' numbers in it."""
    case = record(say)["case"]
    call = entry(say, "conversation", case, "--with", "Karen Webb", "--channel", "phone")
    first = entry(say, "amend", case, str(call["number"]), text="It was her father, Mr Webb.")
    second = entry(say, "amend", case, str(first["number"]), text="Mr Webb is her stepfather.")
    return case, call["number"], first["number"], second["number"]
