"""`safeguard action add` and `action done`: an action agreed, and the record of it done."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from .. import output
from ..casework import (
    AtOption,
    CaseArgument,
    EditorOption,
    JsonOption,
    TextFileOption,
    ask_name,
    name_needed,
    number,
    read_text,
)
from ..entering import entering

app = typer.Typer(help="Add an action to a case, or record it done.", no_args_is_help=True)


AGREED_HINT = "--at is when the action was agreed (not later than now); --due is when it is due"


@app.command("add")
def action_add(
    case: CaseArgument,
    due: Annotated[str, typer.Option(metavar="DATE", help="When it is due, e.g. 2026-11-27.")],
    owner: Annotated[
        str | None,
        typer.Option(metavar="WHO", help="Who is to do it (asked for on a terminal)."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="DATETIME",
            help="When the action was agreed, local time (default: now); not in the future. "
            "When it is to be done is --due.",
        ),
    ] = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Add an action: what, by whom, by when.

    Prints the action's number."""
    from safeguarding import moments
    from safeguarding.entries import Action

    from .. import views

    name_needed(owner, "--owner", "WHO")
    # A due date before the action is agreed, like a closed case, is refused before the owner
    # and the text are asked for.
    early = Action(owner=owner, due=moments.parse_due(due))
    with entering(case, at, text_file, json, early, future_hint=AGREED_HINT) as this:
        owner = ask_name(owner, "Who is to do it? (name or role)")
        text = read_text("What is to be done", text_file, editor)
        draft = dataclasses.replace(early, owner=owner, text=text)
        written = output.commit(
            lambda: this.book.add(case, draft, this.moment),
            lambda w: f"action {w.action} as entry {w.number} of {w.reference}",
        )
        if not json:
            output.data_line(str(written.action))
        message = f"Added action {written.action} (entry {written.number} of {written.reference})."
        views.report(this.book, written, json, message)


@app.command("done")
def action_done(
    case: CaseArgument,
    action_text: Annotated[
        str, typer.Argument(metavar="ACTION", help="The action's number.", show_default=False)
    ],
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Record an action as done, and what was done."""
    from safeguarding.entries import ActionDone

    action = number(action_text, "an action number", "the number 'action add' printed, e.g. 1")
    # An unknown or finished action is refused before any text is asked for.
    early = ActionDone(action=action)
    with entering(case, at, text_file, json, early) as this:
        draft = early.written(read_text("What was done", text_file, editor))
        this.add(
            draft,
            f"action {action} done",
            lambda w: f"Action {action} done (entry {w.number} of {w.reference}).",
            action=action,
        )
