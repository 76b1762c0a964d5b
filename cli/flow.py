"""The section 6 commands: record a disclosure, then refer, advice, actions, conversations, notes,
amendments, closing and reopening.  Each parses, asks for what is missing, calls the casebook
once, and shows what the policy asks next."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from safeguarding import documents_json
from safeguarding.entry_fields import SubjectRole, check_no_referral_details, choice, long_text
from safeguarding.errors import UsageError

from . import credentials, output
from .casework import (
    AtOption,
    CaseArgument,
    EditorOption,
    JsonOption,
    TextFileOption,
    ask,
    ask_choice,
    ask_name,
    ask_optional,
    casebook,
    confirm,
    name_needed,
    number,
    one_standard_input,
    prompt_lines,
    read_text,
    when,
)

if TYPE_CHECKING:
    from safeguarding.cases import Casebook, Written

action_app = typer.Typer(help="Add an action to a case (owner, due date), or record it done.")

ROLES = "pupil|ex-pupil|staff|volunteer|parent|other"
ROUTES = "lado|mash|police|county|headteacher|other-school|other|none"
CHANNELS = "phone|email|meeting|in-person|other"
AGREED_HINT = "--at is when the action was agreed (not later than now); --due is when it is due"


def _show(book: Casebook, written: Written, json: bool, message: str, **extra: Any) -> None:
    """The one place an entry command reports: JSON on stdout, or a line and the next step."""
    from . import views

    if json:
        output.emit_json(documents_json.entry(written, **extra))
        return
    output.say(message)
    output.err.print(views.next_step_panel(written, book.config, book.today()))


def _saving(write: Callable[[], Written], what: str) -> Written:
    """`write`, the command's commit, with what it saved noted for the exit point."""
    return output.commit(write, lambda w: f"{what} as entry {w.entry} of {w.reference}")


def record(
    category: Annotated[
        str | None,
        typer.Option(
            metavar="CODE", help="The category's code ('safeguard categories' lists them)."
        ),
    ] = None,
    subject: Annotated[
        list[str] | None,
        typer.Option("--subject", metavar="NAME", help="Who it is about; repeat for several."),
    ] = None,
    subject_role: Annotated[
        list[str] | None,
        typer.Option(
            "--subject-role",
            metavar=ROLES,
            help="Each subject's role, in the same order (one role: all of them).",
        ),
    ] = None,
    disclosed_by: Annotated[
        str | None, typer.Option("--disclosed-by", metavar="NAME", help="Who disclosed it.")
    ] = None,
    relationship: Annotated[
        str | None,
        typer.Option(help="The discloser's relationship to the subject or school, e.g. pupil."),
    ] = None,
    where: Annotated[str | None, typer.Option(help="Where the disclosure was made.")] = None,
    received_by: Annotated[
        str | None,
        typer.Option("--received-by", metavar="NAME", help="Who received it (default: you)."),
    ] = None,
    at: AtOption = None,
    text_file: TextFileOption = None,
    observations_file: Annotated[
        str | None,
        typer.Option(
            "--observations-file",
            metavar="PATH",
            help="Your own observations or opinion, kept apart from the account.",
        ),
    ] = None,
    editor: EditorOption = False,
    restricted: Annotated[
        bool,
        typer.Option(
            "--restricted",
            help="Only you, the case manager and the recovery key can read the case "
            "(always so for an allegation about staff, and for a case about a user of the "
            "vault).",
        ),
    ] = False,
    json: JsonOption = False,
) -> None:
    """Record a disclosure: opens a case and prints its reference (e.g. SG-2026-0007).

    A case in an allegation category, or about a user of the vault, is restricted: sealed to
    you and the case manager (the headteacher, or the chair of governors when it is about the
    headteacher), never to a subject; for every other user it does not exist.

    On a terminal, whatever is not given as an option is asked for, then a summary is shown to
    confirm; Ctrl-C saves nothing. The account, in the discloser's own words, comes from the
    prompt, $EDITOR (--editor) or --text-file.
    """
    from safeguarding.cases import Disclosure, Subject

    one_standard_input({"--text-file": text_file, "--observations-file": observations_file})
    interactive = credentials.is_interactive()
    with casebook(text_file, observations_file) as book:
        asked = False
        if category is None and interactive:
            codes = book.categories.codes
            titles = [book.categories.get(c).title for c in codes]
            output.err.print("[bold]Category[/bold]")
            category, asked = ask_choice("Category", codes, descriptions=titles), True
        elif category is not None:
            book.categories.get(category)  # an unknown code is refused before any question
        names = list(subject or [])
        roles = [r.strip().lower() for r in subject_role or []]
        if not names and interactive:
            asked = True
            while True:
                names.append(ask("Who is it about? (name)"))
                roles.append(ask_choice("Their role", SubjectRole.ALL))
                if not confirm("Is it about anyone else as well?", False):
                    break
        if names and not roles and interactive:
            asked = True
            roles = [ask_choice(f"Role of {n}", SubjectRole.ALL) for n in names]
        if interactive:
            if disclosed_by is None:
                disclosed_by, asked = ask("Who disclosed it? (name)"), True
            if relationship is None:
                relationship, asked = (
                    ask("Their relationship (e.g. pupil, parent, colleague)"),
                    True,
                )
            if where is None:
                where, asked = ask("Where was it disclosed?"), True
            if received_by is None and asked:
                # Often a teacher heard it first and brought it to the DSL: the record says so.
                received_by = ask_optional(
                    f"Who received it? (name; Enter if it was you, {book.unlocked.user.name})"
                )
        # Only the guided interview asks when; with the facts given as options, --at or now.
        moment = _ask_when("When was it disclosed?") if at is None and asked else when(at)
        _require(
            {
                "--category": category,
                "--subject": names,
                "--subject-role": roles,
                "--disclosed-by": disclosed_by,
                "--relationship": relationship,
                "--where": where,
            }
        )
        roles = [choice(r, SubjectRole.ALL, "subject role") for r in _match_roles(names, roles)]
        subjects = tuple(Subject(n, r) for n, r in zip(names, roles, strict=True))
        account = read_text("The account, in the discloser's own words", text_file, editor)
        long_text(account, "the account")  # refused now, not after the summary is confirmed
        observations = ""
        if observations_file is not None:
            observations = read_text("Your observations", observations_file)
            long_text(observations, "the observations")  # a file given empty is a mistake
        elif (
            interactive
            and text_file is None
            and confirm("Add your own observations or opinion, kept apart from the account?", False)
        ):
            observations = prompt_lines("Your observations or opinion")
        disclosure = Disclosure(
            category=str(category),
            subjects=subjects,
            disclosed_by=str(disclosed_by),
            relationship=str(relationship),
            where=str(where),
            text=account,
            observations=observations,
            received_by=received_by,
            at=moment,
            restricted=restricted,
        )
        if asked and not _confirmed(book, disclosure):
            raise typer.Abort()
        written = output.commit(
            lambda: book.record(disclosure),
            lambda w: f"the disclosure as {w.reference} (entry {w.entry})",
        )
        from . import views

        if json:
            output.emit_json(documents_json.recorded(written, disclosure.category))
            return
        output.data_line(written.reference)
        _show(
            book,
            written,
            False,
            f"Recorded the disclosure as {written.reference} (entry {written.entry}).",
        )
        views.say_restricted(written)


def _ask_when(label: str) -> Any:
    from safeguarding.errors import AmbiguousTime
    from safeguarding.errors import UsageError as Refused

    while True:
        answer = ask(f"{label} (e.g. 20/11/2026 14:30 or yesterday 16:00)", default="now")
        if answer.lower() == "now":
            return None
        try:
            return when(answer)
        except AmbiguousTime as twice:
            # The night the clocks went back: ask which of the two it was.
            output.err.print(twice.message, markup=False)
            written = [text for text, _ in twice.choices]
            which = ask_choice("Which one?", written, None, [about for _, about in twice.choices])
            return when(which)
        except Refused as error:
            output.err.print(error.message, style="red", markup=False)
            if error.hint:
                output.err.print(f"  {error.hint}", markup=False)


def _require(values: dict[str, Any]) -> None:
    missing = [option for option, value in values.items() if not value]
    if missing:
        raise UsageError(
            f"missing {', '.join(missing)}",
            hint="on a terminal they are asked for; in a script give them as options",
        )


def _match_roles(names: list[str], roles: list[str]) -> list[str]:
    if len(roles) == 1:
        return roles * len(names)
    if len(roles) != len(names):
        raise UsageError(
            f"{len(names)} subjects but {len(roles)} roles",
            hint="give one --subject-role for each --subject, or one for all of them",
        )
    return roles


def _confirmed(book: Casebook, d: Any) -> bool:
    from rich.table import Table

    from safeguarding import moments
    from safeguarding.timeline import plain

    # What was typed is shown as typed: `plain` keeps it from being read as Rich markup, and
    # a value too long for its line folds onto the next, never cut with "…" (Rich can misjudge
    # the width of a line with wide characters, and a name cut short is a name misread).
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    category = book.categories.get(d.category)
    table.add_row("Category", plain(f"{category.code} — {category.title}"))
    table.add_row("About", plain(", ".join(f"{s.name} ({s.role})" for s in d.subjects)))
    table.add_row("Disclosed by", plain(f"{d.disclosed_by} ({d.relationship})"))
    table.add_row("Received by", plain(d.received_by or book.unlocked.user.name))
    table.add_row(
        "When", moments.local_text(d.at) if d.at else "now, when saved (" + _now_text() + ")"
    )
    table.add_row("Where", plain(d.where))
    table.add_row("Account", plain(d.text))
    if d.observations:
        table.add_row("Observations", plain(d.observations))
    from rich.panel import Panel

    output.err.print(Panel(table, title="Check before saving", title_align="left"))
    return confirm("Save this record?")


def _now_text() -> str:
    from safeguarding import clock, moments

    return moments.local_text(clock.now())


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
    from safeguarding.vocabulary import Route

    route = to.strip().lower()
    if route not in {r.value for r in Route}:
        raise UsageError(f"unknown route {to!r}; choose one of: {ROUTES.replace('|', ', ')}")
    check_no_referral_details(route, contact, reference)  # before the text is asked for
    label = "The reason for not referring" if route == "none" else "What was said"
    moment = when(at)
    with casebook(text_file) as book:
        file = book.read(case)  # an unknown case is refused before the text is asked for
        usual = book.categories.lookup(str(file.disclosure.data.get("category", ""))).route
        if route != Route.NONE and credentials.is_interactive():
            # Optional in a script; on a terminal asked, so a name need not go in argv.
            if contact is None:
                contact = ask_optional("Who did you speak to? (name; Enter to leave it out)")
            if reference is None:
                reference = ask_optional("Their reference number (Enter if none)")
        text = read_text(label, text_file, editor)
        written = _saving(
            lambda: book.refer(
                case, route, text=text, contact=contact, their_reference=reference, at=moment
            ),
            "the referral" if route != Route.NONE else "the decision not to refer",
        )
        what = (
            "a decision not to refer"
            if route == Route.NONE
            else f"the referral to {ROUTE_TITLES[Route(route)]}"
        )
        message = f"Recorded {what} as entry {written.entry} of {case.upper()}."
        if route not in (Route.NONE, usual) and usual != Route.NONE:
            # Not refused: a DSL may rightly go elsewhere (the police as well as the LADO).
            message += f" The policy's usual route for this category is {ROUTE_TITLES[usual]}."
        _show(book, written, json, message)


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
    name_needed(source, "--from", "WHO")
    moment = when(at)
    with casebook(text_file) as book:
        book.read(case)
        source = ask_name(source, "Who gave the advice? (name, e.g. J. Okafor, LADO)")
        text = read_text("The advice", text_file, editor)
        written = _saving(
            lambda: book.advice(case, source=source, text=text, at=moment), "the advice"
        )
        _show(book, written, json, f"Recorded the advice as entry {written.entry}.")


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

    due_date = moments.parse_due(due)
    name_needed(owner, "--owner", "WHO")
    moment = when(at, future_hint=AGREED_HINT)
    with casebook(text_file) as book:
        book.read(case)
        owner = ask_name(owner, "Who is to do it? (name or role)")
        text = read_text("What is to be done", text_file, editor)
        written = output.commit(
            lambda: book.add_action(case, owner=owner, due=due_date, text=text, at=moment),
            lambda w: f"action {w.action} as entry {w.entry} of {w.reference}",
        )
        if not json:
            output.data_line(str(written.action))
        _show(book, written, json, f"Added action {written.action} (entry {written.entry}).")


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
    action = number(action_text, "an action number", "the number 'action add' printed, e.g. 1")
    moment = when(at)
    with casebook(text_file) as book:
        _check_action(book, case, action)
        text = read_text("What was done", text_file, editor)
        written = _saving(
            lambda: book.complete_action(case, action, text=text, at=moment),
            f"action {action} done",
        )
        _show(book, written, json, f"Action {action} done (entry {written.entry}).", action=action)


def _check_action(book: Casebook, case: str, action: int) -> None:
    """Refuse an unknown or finished action before asking for any text."""
    from safeguarding import flow

    flow.check_action_done(flow.fold(book.read(case)), action)


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
    from safeguarding.entry_fields import CHANNELS as KNOWN

    choice(channel, KNOWN, "channel")
    name_needed(with_whom, "--with", "WHO")
    moment = when(at)
    with casebook(text_file) as book:
        book.read(case)
        with_whom = ask_name(with_whom, "Who was the conversation with? (name)")
        text = read_text("What was said", text_file, editor)
        written = _saving(
            lambda: book.conversation(
                case, with_whom=with_whom, channel=channel, text=text, at=moment
            ),
            "the conversation",
        )
        _show(book, written, json, f"Recorded the conversation as entry {written.entry}.")


def note(
    case: CaseArgument,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Add a note to a case."""
    moment = when(at)
    with casebook(text_file) as book:
        book.read(case)
        text = read_text("The note", text_file, editor)
        written = _saving(lambda: book.note(case, text=text, at=moment), "the note")
        _show(book, written, json, f"Recorded the note as entry {written.entry}.")


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
    entry = number(entry_text, "an entry number", "the entry's number from the timeline, e.g. 8")
    moment = when(at)
    with casebook(text_file) as book:
        book.read(case).entry(entry)
        text = read_text(f"The correction to entry {entry}", text_file, editor)
        written = _saving(
            lambda: book.amend(case, entry, text=text, at=moment),
            f"the correction of entry {entry}",
        )
        _show(
            book,
            written,
            json,
            f"Recorded the correction of entry {entry} as entry {written.entry}.",
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
    from safeguarding import flow

    moment = when(at)
    with casebook(text_file) as book:
        state = flow.fold(book.read(case))
        category = book.categories.lookup(state.category)
        flow.check_may_add(state, "closure", moment or book.now())
        flow.check_close(state, outcome.strip().lower(), category, force)
        label, need = "Why it is being closed", "say why the case is being closed"
        if state.open_actions:
            label += ", and why the open actions are left"
            need += " and why its open actions are left"
        text = read_text(label, text_file, editor, need=need)
        written = _saving(
            lambda: book.close(case, outcome=outcome, text=text, force=force, at=moment),
            f"the closure ({outcome})",
        )
        _show(book, written, json, f"Closed {written.reference}: {outcome}.")


def reopen(
    case: CaseArgument,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Reopen a closed case; the text is the reason."""
    from safeguarding import flow

    moment = when(at)
    with casebook(text_file) as book:
        flow.check_may_add(flow.fold(book.read(case)), "reopening", moment or book.now())
        text = read_text(
            "Why it is being reopened",
            text_file,
            editor,
            need="say why the case is being reopened",
        )
        written = _saving(lambda: book.reopen(case, text=text, at=moment), "the reopening")
        _show(book, written, json, f"Reopened {written.reference}.")
