"""`safeguard triage`: decide a concern once: add it to a case, or no further action."""

from __future__ import annotations

from typing import Annotated

import typer

from safeguarding import documents_concerns
from safeguarding.errors import UsageError

from .. import output
from ..casework import TextFileOption, read_text
from ..context import STATE, unlock
from ..output import JsonOption


def triage(
    concern: Annotated[int, typer.Argument(help="The concern's number (see 'safeguard inbox').")],
    case: Annotated[
        str | None,
        typer.Option("--case", metavar="CASE", help="Add it to this case, as an entry."),
    ] = None,
    no_action: Annotated[
        bool,
        typer.Option("--no-action", help="No further action; the reason is asked for."),
    ] = False,
    text_file: TextFileOption = None,
    json: JsonOption = False,
) -> None:
    """Decide a concern: add it to a case, or no further action.

    A DSL, a deputy or the headteacher may, once per concern. The entry carries the concern
    as its author signed it (checked again by 'safeguard verify'). With --no-action the
    reason comes from the prompt or --text-file.
    """
    from safeguarding import concerns

    if (case is None) == (not no_action):
        raise UsageError("say what becomes of the concern: --case CASE, or --no-action")
    unlocked = unlock()
    STATE.reminder = None
    try:
        concerns.check_open(unlocked, concern)  # refused now, before the reason is asked
        reason = read_text("The reason for no further action", text_file) if no_action else None
        done = output.commit(
            lambda: concerns.triage(unlocked, concern, case=case, reason=reason),
            lambda t: f"the triage of concern {t.number}",
        )
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_concerns.triaged(done))
        return
    if done.case is not None:
        output.say(f"Added concern {done.number} to {done.case}.")
    else:
        output.say(f"Recorded no further action on concern {done.number}.")
