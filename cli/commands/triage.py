"""`safeguard triage`: decide a concern once: add it to a case, open a case from it, or no
further action."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_concerns
from safeguarding.errors import UsageError

from .. import credentials, output
from ..casework import (
    AtOption,
    EditorOption,
    TextFileOption,
    casebook,
    one_standard_input,
    read_text,
    when,
)
from ..context import STATE, concern_number, note_waiting
from ..disclosing import (
    Answers,
    CategoryOption,
    DisclosedByOption,
    ObservationsOption,
    ReceivedByOption,
    RelationshipOption,
    RestrictedOption,
    SubjectOption,
    SubjectRoleOption,
    WhereOption,
    ask_missing,
    disclosure,
    review,
)
from ..output import JsonOption

if TYPE_CHECKING:
    from datetime import datetime

    from safeguarding.cases import Casebook, Written
    from safeguarding.concerns import Item, Triaged
    from safeguarding.db import Case, Db
    from safeguarding.entries import Disclosure


def triage(
    concern: Annotated[str, typer.Argument(help="The concern's number (see 'safeguard inbox').")],
    case: Annotated[
        str | None,
        typer.Option("--case", metavar="CASE", help="Add it to this case, as an entry."),
    ] = None,
    new: Annotated[
        bool,
        typer.Option("--new", help="Open a case from it: a disclosure, then the concern."),
    ] = False,
    no_action: Annotated[
        bool,
        typer.Option("--no-action", help="No further action; the reason is asked for."),
    ] = False,
    category: CategoryOption = None,
    subject: SubjectOption = None,
    subject_role: SubjectRoleOption = None,
    disclosed_by: DisclosedByOption = None,
    relationship: RelationshipOption = None,
    where: WhereOption = None,
    received_by: ReceivedByOption = None,
    at: AtOption = None,
    text_file: TextFileOption = None,
    observations_file: ObservationsOption = None,
    editor: EditorOption = False,
    restricted: RestrictedOption = False,
    json: JsonOption = False,
) -> None:
    """Decide a concern: to a case, a new case, or no action.

    A DSL, a deputy, the headteacher or the chair of governors may, once per concern sealed
    to them. The case's entry carries the concern as its author signed it (checked again by
    'safeguard verify').

    With --new the case is opened as 'safeguard record' opens one, from what the concern
    says: who it is about, where, when, the account (the concern's own words, unless
    --text-file gives another) and who received it (the concern's author). On a terminal
    only what is missing is asked for; in a script give the options of 'record' (at least
    --category, --disclosed-by and --relationship).

    With --no-action the reason comes from the prompt or --text-file.
    """
    number = concern_number(concern)
    _one_outcome(case is not None, new, no_action)
    opening = (category, subject, subject_role, disclosed_by, relationship, where, received_by)
    if not new and (any(opening) or at or observations_file or editor or restricted):
        raise UsageError("the options of 'record' go with --new alone")
    if case is not None and text_file is not None:
        raise UsageError("--text-file goes with --no-action (the reason) or --new (the account)")
    if new:
        roles = [r.strip().lower() for r in subject_role or []]
        answers = Answers(
            category, list(subject or []), roles, disclosed_by, relationship, where, received_by
        )
        _new(number, answers, at, (text_file, observations_file, editor), restricted, json)
    else:
        _decide(number, case, text_file if no_action else None, json)


def _one_outcome(*given: bool) -> None:
    if sum(given) > 1:
        raise UsageError("give only one of --case, --new, --no-action")
    if not any(given):
        raise UsageError("say what becomes of the concern: --case CASE, --new or --no-action")


def _decide(concern: int, case: str | None, reason_file: str | None, json: bool) -> None:
    """Add the concern to an existing case, or (no `case`) no further action; then, as after
    any entry, the case's next step, and the reminder while other concerns wait."""
    from safeguarding import concerns

    with casebook(reason_file) as book:
        unlocked = book.unlocked
        STATE.reminder = None
        concerns.check_open(unlocked, concern)  # refused now, before the reason is asked
        reason = read_text("The reason for no further action", reason_file) if not case else None
        done = output.commit(
            lambda: concerns.triage(unlocked, concern, case=case, reason=reason),
            lambda t: f"the triage of concern {t.number}",
        )
        note_waiting(unlocked)
    if json:
        output.emit_json(documents_concerns.triaged(done))
    elif done.case is not None and done.state is not None:
        from safeguarding.cases import Written

        from .. import views

        added = f"Added concern {done.number} to {done.case} as its entry {done.case_entry}."
        step = book.next_step(done.state)
        written = Written(done.case, done.entry, done.case_entry or 0, done.state, step)
        views.report(book, written, False, added)
    else:
        output.say(f"Recorded no further action on concern {done.number}.")


def _new(
    number: int,
    answers: Answers,
    at: str | None,
    texts: tuple[str | None, str | None, bool],
    restricted: bool,
    json: bool,
) -> None:
    """Open a case from the concern: what it says fills the record's answers, and only what
    is missing is asked for; the disclosure and the concern are written in one transaction."""
    from safeguarding import concerns

    text_file, observations_file, _ = texts
    one_standard_input({"--text-file": text_file, "--observations-file": observations_file})
    with casebook(text_file, observations_file) as book:
        STATE.reminder = None
        item = concerns.check_open(book.unlocked, number)  # refused before anything is asked
        told, moment = _disclosure(book, item, answers, at, texts)
        done: list[Triaged] = []

        def carry(db: Db, case: Case) -> None:
            done.append(concerns.into_case(db, book.unlocked, number, case))

        written = output.commit(
            lambda: book.open(told, moment, restricted=restricted, then=carry),
            lambda w: f"the case {w.reference} from concern {number}",
        )
        note_waiting(book.unlocked)
        _opened(book, written, done[0], item, json)


def _disclosure(
    book: Casebook,
    item: Item,
    answers: Answers,
    at: str | None,
    texts: tuple[str | None, str | None, bool],
) -> tuple[Disclosure, datetime | None]:
    """The disclosure the case opens with: the options, then what the concern says (who it is
    about, where, when, the account, who received it), then, on a terminal, what is missing
    asked for and the summary to confirm."""
    from safeguarding import clock

    text_file, observations_file, editor = texts
    if not answers.names:
        answers.names = [a.name for a in item.content.about]
        answers.roles = answers.roles or [a.role for a in item.content.about]
    answers.where = answers.where or item.content.where
    answers.received_by = answers.received_by or item.author
    if credentials.is_interactive():
        output.say(
            f"A case from concern {item.number}, reported by {item.author}: who it is about, "
            "where, when, the account and who received it come from the concern."
        )
    ask_missing(book, answers)
    moment = when(at) if at is not None else clock.from_text(item.content.at)
    told = disclosure(answers, text_file, observations_file, editor, account=item.content.text)
    if answers.asked and credentials.is_interactive():
        told, moment = review(book, told, moment, text_file is None, editor)
    return told, moment


def _opened(book: Casebook, written: Written, done: Triaged, item: Item, json: bool) -> None:
    from .. import views

    if json:
        output.emit_json(documents_concerns.triaged(done, opened=True))
        return
    output.data_line(written.reference)
    message = (
        f"Opened {written.reference} from concern {done.number}: the disclosure is its entry 1, "
        f"the concern as {item.author} reported it entry 2."
    )
    views.report(book, written, False, message)
    views.say_restricted(written)
