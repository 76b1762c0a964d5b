"""`safeguard hold …`: a legal hold on a case, which forbids erasing it, and its release."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer
from typer._click import core as click
from typer.core import TyperGroup

from safeguarding import documents_retention

from .. import output
from ..casework import CaseArgument, EditorOption, JsonOption, TextFileOption, casebook, read_text

if TYPE_CHECKING:
    from safeguarding.erasure import Recorded


class _CaseFirst(TyperGroup):
    """`safeguard hold CASE` places a hold: a first word that is not a subcommand is the case of
    `hold place`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["place", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_CaseFirst,
    help="A legal hold: while a case is held, no one may erase it.\n\n"
    "'safeguard hold CASE' is 'safeguard hold place CASE'.",
    no_args_is_help=True,
)


@app.command("place")
def place(
    case: CaseArgument,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Hold a case: no one may erase it until the hold is released.

    A DSL or the headteacher; a restricted case, its members. The reason (who asked for the
    records to be kept, such as an inquiry) is asked for, or read with --text-file."""
    from safeguarding import erasure

    with casebook(text_file) as book:
        erasure.check_hold(book.unlocked, case)
        reason = read_text(
            "Why the case is held (who asked for its records to be kept)",
            text_file,
            editor,
            need="say why the case is held",
        )
        found = output.commit(
            lambda: erasure.hold(book.unlocked, case, reason),
            lambda h: f"the hold on {h.reference} as entry {h.entry}",
        )
    _said(
        found,
        json,
        False,
        lambda h: (
            f"Held {h.reference}: no one may erase it until 'safeguard hold release {h.reference}'."
        ),
    )


@app.command("release")
def release(case: CaseArgument, json: JsonOption = False) -> None:
    """Release the hold on a case: it may be erased again."""
    from safeguarding import erasure

    with casebook() as book:
        found = output.commit(
            lambda: erasure.release(book.unlocked, case),
            lambda h: f"the release of the hold on {h.reference} as entry {h.entry}",
        )
    _said(found, json, True, lambda h: f"Released the hold on {h.reference}.")


@app.command("list")
def list_holds(json: JsonOption = False) -> None:
    """List the holds in force on the cases you may read."""
    from rich.markup import escape
    from rich.table import Table

    from safeguarding import erasure, moments

    with casebook() as book:
        found = erasure.holds(book.unlocked)
    if json:
        output.emit_json(documents_retention.holds(found))
        return
    if not found:
        output.say("No case is held.")
        return
    table = Table("Case", "Held since", "By", "Entry", "Why", title="Holds")
    for h in found:
        table.add_row(
            h.reference, moments.local_text(h.at), escape(h.by), str(h.entry), escape(h.reason)
        )
    output.out.print(table)


def _said(found: Recorded, json: bool, released: bool, said: Callable[[Recorded], str]) -> None:
    if json:
        output.emit_json(documents_retention.hold(found, released))
    else:
        output.say(said(found))
