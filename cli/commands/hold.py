"""`safeguard hold …`: a legal hold on a case or a person, which forbids erasing it (every case
about the person), and its release."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_retention

from .. import output
from ..casework import (
    EditorOption,
    JsonOption,
    TextFileOption,
    casebook,
    first_word_runs,
    read_text,
)

if TYPE_CHECKING:
    from safeguarding.erasure import Recorded


def _held(value: str | None) -> str | None:
    """A word that starts `SG-` is a case reference, refused (exit 2) if it is of the wrong
    shape; any other word is a person."""
    from safeguarding import holding
    from safeguarding.casefile import parse_reference

    if value is not None and holding.names_case(value):
        parse_reference(value)
    return value


#: What a hold is placed on: a case, or a person (every case about them).
HeldArgument = Annotated[
    str,
    typer.Argument(
        metavar="CASE|PERSON",
        help="A case (e.g. SG-2026-0007), or a person: their number, or their name if unique.",
        callback=_held,
    ),
]


app = typer.Typer(
    cls=first_word_runs("place"),
    help="A legal hold on a case or a person: no one may erase it.\n\n"
    "'safeguard hold CASE|PERSON' is 'safeguard hold place CASE|PERSON'. A word that starts "
    "SG- is a case reference; any other is a person, by number or unique name.",
    no_args_is_help=True,
)


@app.command("place")
def place(
    held: HeldArgument,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Hold a case or a person: no one may erase it until released.

    A DSL or the headteacher; a restricted case, its members. A hold on a person holds every
    case about them, their file and the files received from their earlier schools, whoever may
    read them. The reason (who asked for the records to be kept, such as an inquiry) is asked
    for, or read with --text-file."""
    from safeguarding import erasure, holding

    case = holding.names_case(held)
    with casebook(text_file) as book:
        if case:
            erasure.check_hold(book.unlocked, held)
        else:
            holding.check(book.unlocked, held)
        reason = read_text(
            "Why it is held (who asked for its records to be kept)",
            text_file,
            editor,
            need="say why it is held",
        )
        found = output.commit(
            lambda: (
                erasure.hold(book.unlocked, held, reason)
                if case
                else holding.place(book.unlocked, held, reason)
            ),
            lambda h: f"the hold on {h.held} as entry {h.entry}",
        )
    _said(
        found,
        json,
        False,
        lambda h: (
            f"Held {h.held}: no one may erase "
            f"{'it' if h.person is None else 'any case about them'} until "
            f"'safeguard hold release {h.reference or h.person}'."
        ),
    )


@app.command("release")
def release(held: HeldArgument, json: JsonOption = False) -> None:
    """Release the hold on a case or a person: it may be erased again."""
    from safeguarding import erasure, holding

    with casebook() as book:
        found = output.commit(
            lambda: (
                erasure.release(book.unlocked, held)
                if holding.names_case(held)
                else holding.release(book.unlocked, held)
            ),
            lambda h: f"the release of the hold on {h.held} as entry {h.entry}",
        )
    _said(found, json, True, lambda h: f"Released the hold on {h.held}.")


@app.command("list")
def list_holds(json: JsonOption = False) -> None:
    """List the holds in force: on the cases you may read, and on people."""
    from rich.markup import escape
    from rich.table import Table

    from safeguarding import erasure, moments

    with casebook() as book:
        found = erasure.holds(book.unlocked) + list(erasure.people_holds(book.unlocked).values())
    if json:
        output.emit_json(documents_retention.holds(found))
        return
    if not found:
        output.say("No case and no person is held.")
        return
    table = Table("Held", "Since", "By", "Entry", "Why", title="Holds")
    for h in found:
        table.add_row(
            escape(h.held), moments.local_text(h.at), escape(h.by), str(h.entry), escape(h.reason)
        )
    output.out.print(table)


def _said(found: Recorded, json: bool, released: bool, said: Callable[[Recorded], str]) -> None:
    if json:
        output.emit_json(documents_retention.hold(found, released))
    else:
        output.say(said(found))
