"""The section 6 entry commands: refer, advice, actions, conversations, notes, amendments,
closing and reopening (a disclosure, which opens a case, is `record`).  Each parses, finds the
case and refuses there what it can, asks for what is missing, adds one entry to the casebook,
and shows what the policy asks next."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from safeguarding.entry_fields import choice

from . import credentials, output
from .casework import (
    AtOption,
    CaseArgument,
    EditorOption,
    JsonOption,
    TextFileOption,
    ask_name,
    ask_optional,
    casebook,
    name_needed,
    number,
    read_text,
    when,
)

if TYPE_CHECKING:
    from safeguarding.cases import Casebook, Written
    from safeguarding.casestate import CaseState
    from safeguarding.entries import Draft

action_app = typer.Typer(help="Add an action to a case (owner, due date), or record it done.")

ROUTES = "lado|mash|police|county|headteacher|other-school|other|none"
CHANNELS = "phone|email|meeting|in-person|other"
AGREED_HINT = "--at is when the action was agreed (not later than now); --due is when it is due"


@dataclass(frozen=True)
class Entering:
    """A case found for an entry command, as it stands, with the command's `--at` and
    `--json`."""

    book: Casebook
    case: str
    state: CaseState
    moment: datetime | None
    json: bool

    def add(self, draft: Draft, saved: str, said: Callable[[Written], str], **extra: Any) -> None:
        """Add the entry (the command's commit, what it `saved` noted for the exit point), then
        report it: JSON, or what was `said` and the next step."""
        from . import views

        written = output.commit(
            lambda: self.book.add(self.case, draft, self.moment),
            lambda w: f"{saved} as entry {w.entry} of {w.reference}",
        )
        views.report(self.book, written, self.json, said(written), **extra)


@contextmanager
def entering(
    case: str,
    at: str | None,
    text_file: str | None,
    json: bool,
    early: Draft | None = None,
    *,
    future_hint: str | None = None,
) -> Iterator[Entering]:
    """The case, found in the acting user's casebook: an unknown case, and what `early` (the
    entry without its text) checks, refused before anything is asked or read."""
    moment = when(at, future_hint=future_hint)
    with casebook(text_file) as book:
        yield Entering(book, case, book.preflight(case, early, moment), moment, json)


def refer(
    case: CaseArgument,
    to: Annotated[str, typer.Option("--to", metavar=ROUTES, help="Who it was referred to.")],
    contact: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="The person you spoke to (asked for on a terminal)."),
    ] = None,
    reference: Annotated[
        str | None, typer.Option(metavar="REF", help="Their reference number.")
    ] = None,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Record a referral: who was contacted, their reference, and what was said.

    --to none records a decision not to refer; the text is then the reason.
    """
    from safeguarding.categories import ROUTE_TITLES
    from safeguarding.entries import Referral
    from safeguarding.vocabulary import Route

    # The route, and no contact or reference with a decision not to refer, refused first.
    route = Referral(route=to, contact=contact, their_reference=reference).route
    with entering(case, at, text_file, json) as this:
        usual = this.book.categories.lookup(this.state.category).route
        if route != Route.NONE and credentials.is_interactive():
            # Optional in a script; on a terminal asked, so a name need not go in argv.
            if contact is None:
                contact = ask_optional("Who did you speak to? (name; Enter to leave it out)")
            if reference is None:
                reference = ask_optional("Their reference number (Enter if none)")
        label = "The reason for not referring" if route == Route.NONE else "What was said"
        text = read_text(label, text_file, editor)
        draft = Referral(route=route, contact=contact, their_reference=reference, text=text)
        what = "a decision not to refer"
        if route != Route.NONE:
            what = f"the referral to {ROUTE_TITLES[Route(route)]}"
        also = ""
        if route not in (Route.NONE, usual) and usual != Route.NONE:
            # Not refused: a DSL may rightly go elsewhere (the police as well as the LADO).
            also = f" The policy's usual route for this category is {ROUTE_TITLES[usual]}."
        saved = "the referral" if route != Route.NONE else "the decision not to refer"
        this.add(
            draft, saved, lambda w: f"Recorded {what} as entry {w.entry} of {case.upper()}.{also}"
        )


def advice(
    case: CaseArgument,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="WHO",
            help="Who gave the advice, e.g. the LADO (asked for on a terminal).",
        ),
    ] = None,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Record the advice given (e.g. by the LADO or the County Safeguarding team)."""
    from safeguarding.entries import Advice

    name_needed(source, "--from", "WHO")
    with entering(case, at, text_file, json) as this:
        source = ask_name(source, "Who gave the advice? (name, e.g. J. Okafor, LADO)")
        draft = Advice(source=source, text=read_text("The advice", text_file, editor))
        this.add(draft, "the advice", lambda w: f"Recorded the advice as entry {w.entry}.")


@action_app.command("add")
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
    """Add an action to a case: what is to be done, by whom, by when. Prints its number."""
    from safeguarding import moments
    from safeguarding.entries import Action

    from . import views

    due_date = moments.parse_due(due)
    name_needed(owner, "--owner", "WHO")
    with entering(case, at, text_file, json, future_hint=AGREED_HINT) as this:
        owner = ask_name(owner, "Who is to do it? (name or role)")
        text = read_text("What is to be done", text_file, editor)
        draft = Action(owner=owner, due=due_date, text=text)
        written = output.commit(
            lambda: this.book.add(case, draft, this.moment),
            lambda w: f"action {w.action} as entry {w.entry} of {w.reference}",
        )
        if not json:
            output.data_line(str(written.action))
        message = f"Added action {written.action} (entry {written.entry})."
        views.report(this.book, written, json, message)


@action_app.command("done")
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
            lambda w: f"Action {action} done (entry {w.entry}).",
            action=action,
        )


def conversation(
    case: CaseArgument,
    channel: Annotated[str, typer.Option(metavar=CHANNELS, help="How it took place.")],
    with_whom: Annotated[
        str | None,
        typer.Option(
            "--with",
            metavar="WHO",
            help="Who the conversation was with (asked for on a terminal).",
        ),
    ] = None,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Record a conversation: with whom, how, and what was said."""
    from safeguarding.entries import Conversation
    from safeguarding.entry_fields import CHANNELS as KNOWN

    choice(channel, KNOWN, "channel")
    name_needed(with_whom, "--with", "WHO")
    with entering(case, at, text_file, json) as this:
        with_whom = ask_name(with_whom, "Who was the conversation with? (name)")
        text = read_text("What was said", text_file, editor)
        draft = Conversation(with_whom=with_whom, channel=channel, text=text)
        this.add(
            draft, "the conversation", lambda w: f"Recorded the conversation as entry {w.entry}."
        )


def note(
    case: CaseArgument,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Add a note to a case."""
    from safeguarding.entries import Note

    with entering(case, at, text_file, json) as this:
        draft = Note(text=read_text("The note", text_file, editor))
        this.add(draft, "the note", lambda w: f"Recorded the note as entry {w.entry}.")


def amend(
    case: CaseArgument,
    entry_text: Annotated[
        str, typer.Argument(metavar="ENTRY", help="The entry to correct.", show_default=False)
    ],
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Correct an entry: the correction is a new entry; the original stays as it was."""
    from safeguarding.entries import Amendment

    entry = number(entry_text, "an entry number", "the entry's number from the timeline, e.g. 8")
    early = Amendment(target=entry)
    with entering(case, at, text_file, json, early) as this:
        draft = early.written(read_text(f"The correction to entry {entry}", text_file, editor))
        saved = f"the correction of entry {entry}"
        this.add(
            draft,
            saved,
            lambda w: f"Recorded the correction of entry {entry} as entry {w.entry}.",
            amends=entry,
        )


def close(
    case: CaseArgument,
    outcome: Annotated[
        str,
        typer.Option(
            metavar="OUTCOME",
            help="Allegations about adults: substantiated, unsubstantiated, unfounded, false, "
            "malicious. Other cases: resolved, no-further-action, referred-on.",
        ),
    ],
    force: Annotated[
        bool,
        typer.Option("--force", help="Close although actions are open; the text says why."),
    ] = False,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Close a case with its outcome.

    It needs a referral or a recorded decision not to refer, and no open actions (or --force).
    """
    from safeguarding.entries import Closure

    # Closing needs a referral or a decision, and no open actions unless forced: checked first.
    early = Closure(outcome=outcome, force=force)
    with entering(case, at, text_file, json, early) as this:
        label, need = "Why it is being closed", "say why the case is being closed"
        if this.state.open_actions:
            label += ", and why the open actions are left"
            need += " and why its open actions are left"
        draft = early.written(read_text(label, text_file, editor, need=need))
        this.add(draft, f"the closure ({outcome})", lambda w: f"Closed {w.reference}: {outcome}.")


def reopen(
    case: CaseArgument,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Reopen a closed case; the text is the reason."""
    from safeguarding.entries import Reopening

    early = Reopening()
    with entering(case, at, text_file, json, early) as this:
        need = "say why the case is being reopened"
        draft = early.written(read_text("Why it is being reopened", text_file, editor, need=need))
        this.add(draft, "the reopening", lambda w: f"Reopened {w.reference}.")
