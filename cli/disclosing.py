"""What `record` and `triage --new` share: the options a disclosure is given by, the questions
that ask for what they leave out, and the summary to confirm before it is saved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from safeguarding.entry_fields import SubjectRole, choice, long_text
from safeguarding.errors import SafeguardError, UsageError

from . import credentials, output
from .casework import (
    ask,
    ask_choice,
    ask_optional,
    confirm,
    is_number,
    prompt_lines,
    read_text,
    when,
)

if TYPE_CHECKING:
    from safeguarding.cases import Casebook
    from safeguarding.entries import Disclosure

ROLES = "pupil|ex-pupil|staff|volunteer|parent|other"

CategoryOption = Annotated[
    str | None,
    typer.Option(metavar="CODE", help="The category's code ('safeguard categories' lists them)."),
]
SubjectOption = Annotated[
    list[str] | None,
    typer.Option("--subject", metavar="NAME", help="Who it is about; repeat for several."),
]
SubjectRoleOption = Annotated[
    list[str] | None,
    typer.Option(
        "--subject-role",
        metavar=ROLES,
        help="Each subject's role, in the same order (one role: all of them).",
    ),
]
DisclosedByOption = Annotated[
    str | None, typer.Option("--disclosed-by", metavar="NAME", help="Who disclosed it.")
]
RelationshipOption = Annotated[
    str | None,
    typer.Option(help="The discloser's relationship to the subject or school, e.g. pupil."),
]
WhereOption = Annotated[str | None, typer.Option(help="Where the disclosure was made.")]
ReceivedByOption = Annotated[
    str | None,
    typer.Option("--received-by", metavar="NAME", help="Who received it (default: you)."),
]
ObservationsOption = Annotated[
    str | None,
    typer.Option(
        "--observations-file",
        metavar="PATH",
        help="Your own observations or opinion, kept apart from the account.",
    ),
]
RestrictedOption = Annotated[
    bool,
    typer.Option(
        "--restricted",
        help="Only you, the case manager and the recovery key can read the case "
        "(always so for an allegation about staff, and for a case about a user of the "
        "vault).",
    ),
]


@dataclass
class Answers:
    """A disclosure's facts as the options give them, then as the questions add to them:
    `asked` once any question was asked, which makes the record a guided interview."""

    category: str | None
    names: list[str]
    roles: list[str]
    disclosed_by: str | None
    relationship: str | None
    where: str | None
    received_by: str | None
    asked: bool = False


def ask_missing(
    book: Casebook, answers: Answers, subjects: Callable[[Answers], None] | None = None
) -> None:
    """On a terminal, ask for what the options left out; `subjects`, once who it is about is
    settled, before who disclosed it is asked."""
    interactive = credentials.is_interactive()
    if answers.category is None and interactive:
        codes = book.categories.codes
        titles = [book.categories.get(c).title for c in codes]
        output.err.print("[bold]Category[/bold]")
        answers.category, answers.asked = ask_choice("Category", codes, descriptions=titles), True
    elif answers.category is not None:
        book.categories.get(answers.category)  # an unknown code is refused before any question
    if not answers.names and interactive:
        answers.asked = True
        while True:
            answers.names.append(ask("Who is it about? (name)"))
            answers.roles.append(ask_choice("Their role", SubjectRole.ALL))
            if not confirm("Is it about anyone else as well?", False):
                break
    if answers.names and not answers.roles and interactive:
        answers.asked = True
        answers.roles = [ask_choice(f"Role of {n}", SubjectRole.ALL) for n in answers.names]
    if subjects is not None:
        subjects(answers)
    if not interactive:
        return
    if answers.disclosed_by is None:
        answers.disclosed_by, answers.asked = ask("Who disclosed it? (name)"), True
    if answers.relationship is None:
        question = "Their relationship (e.g. pupil, parent, colleague)"
        answers.relationship, answers.asked = ask(question), True
    if answers.where is None:
        answers.where, answers.asked = ask("Where was it disclosed?"), True
    if answers.received_by is None and answers.asked:
        # Often a teacher heard it first and brought it to the DSL: the record says so.
        answers.received_by = ask_optional(
            f"Who received it? (name; Enter if it was you, {book.unlocked.user.name})"
        )


def disclosure(
    answers: Answers,
    text_file: str | None,
    observations_file: str | None,
    editor: bool,
    account: str | None = None,
) -> Disclosure:
    """The disclosure, once every fact is there: then the account (`account`, unless
    `text_file` or `editor` gives another), then any observations."""
    from safeguarding.entries import Disclosure, Subject

    _require(
        {
            "--category": answers.category,
            "--subject": answers.names,
            "--subject-role": answers.roles,
            "--disclosed-by": answers.disclosed_by,
            "--relationship": answers.relationship,
            "--where": answers.where,
        }
    )
    roles = [choice(r, SubjectRole.ALL, "subject role") for r in _match_roles(answers)]
    if account is None or text_file is not None or editor:
        account = read_text("The account, in the discloser's own words", text_file, editor)
    long_text(account, "the account")  # refused now, not after the summary is confirmed
    observations = ""
    if observations_file is not None:
        observations = read_text("Your observations", observations_file)
        long_text(observations, "the observations")  # a file given empty is a mistake
    elif (
        credentials.is_interactive()
        and text_file is None
        and confirm("Add your own observations or opinion, kept apart from the account?", False)
    ):
        observations = prompt_lines("Your observations or opinion")
    return Disclosure(
        category=str(answers.category),
        subjects=tuple(Subject(n, r) for n, r in zip(answers.names, roles, strict=True)),
        disclosed_by=str(answers.disclosed_by),
        relationship=str(answers.relationship),
        where=str(answers.where),
        text=account,
        observations=observations,
        received_by=answers.received_by,
    )


def ask_when(
    label: str,
    example: str = "20/11/2026 14:30 or yesterday 16:00",
    future_hint: str | None = None,
) -> Any:
    """When something happened, asked until it is a moment (None: now); on the night the
    clocks go back, which of the two it was."""
    from safeguarding.errors import AmbiguousTime
    from safeguarding.errors import UsageError as Refused

    while True:
        answer = ask(f"{label} (e.g. {example})", default="now")
        if answer.lower() == "now":
            return None
        try:
            return when(answer, future_hint=future_hint)
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


def _match_roles(answers: Answers) -> list[str]:
    names, roles = answers.names, answers.roles
    if len(roles) == 1:
        return roles * len(names)
    if len(roles) != len(names):
        raise UsageError(
            f"{len(names)} subjects but {len(roles)} roles",
            hint="give one --subject-role for each --subject, or one for all of them",
        )
    return roles


#: What the review offers to change, in the order the summary shows it.
ANSWERS = ("Category", "About", "Disclosed by", "Received by", "When", "Where", "Account")


def review(
    book: Casebook, d: Disclosure, at: datetime | None, typed: bool, editor: bool
) -> tuple[Disclosure, datetime | None]:
    """The summary, until it is saved: y saves; a number changes that answer and shows it
    again; n asks "Discard what you typed?" before anything is thrown away."""
    changeable = len(ANSWERS) + 1 if typed else len(ANSWERS) - 1  # the account from a file
    while True:
        _summary(book, d, at)
        try:
            answer = ask(
                f"Save this record? (y: save, n: discard, 1-{changeable}: change that answer)",
                default="y",
            ).lower()
        except typer.Abort:  # Ctrl-D: asked about, as n is (and input truly at its end cancels)
            answer = "n"
        if answer in ("y", "yes"):
            return d, at
        if answer in ("n", "no"):
            if confirm("Discard what you typed?", False):
                raise typer.Abort()
            continue
        if not (is_number(answer) and 1 <= int(answer) <= changeable):
            output.err.print(f"[red]Answer y, n, or a number from 1 to {changeable}.[/red]")
            continue
        try:
            d, at = _change(book, d, at, int(answer), editor)
        except SafeguardError as refused:  # the answer as it was stands, and nothing is lost
            output.err.print(refused.message, style="red", markup=False)


def _change(
    book: Casebook, d: Disclosure, at: datetime | None, which: int, editor: bool
) -> tuple[Disclosure, datetime | None]:
    """The disclosure with answer `which` (numbered as the summary shows them) asked again."""
    from dataclasses import replace

    from safeguarding.entries import Subject

    if which == 1:
        codes = book.categories.codes
        titles = [book.categories.get(c).title for c in codes]
        return replace(d, category=ask_choice("Category", codes, d.category, titles)), at
    if which == 2:
        subjects = []
        while True:
            name = ask("Who is it about? (name)")
            subjects.append(Subject(name, ask_choice("Their role", SubjectRole.ALL)))
            if not confirm("Is it about anyone else as well?", False):
                return replace(d, subjects=tuple(subjects)), at
    if which == 3:
        by = ask("Who disclosed it? (name)", d.disclosed_by)
        return replace(
            d, disclosed_by=by, relationship=ask("Their relationship", d.relationship)
        ), at
    if which == 4:
        received = ask_optional(
            f"Who received it? (name; Enter if it was you, {book.unlocked.user.name})"
        )
        return replace(d, received_by=received), at
    if which == 5:
        return d, ask_when("When was it disclosed?")
    if which == 6:
        return replace(d, where=ask("Where was it disclosed?", d.where)), at
    if which == 7:
        account = read_text("The account, in the discloser's own words", None, editor)
        return replace(d, text=long_text(account, "the account")), at
    return replace(d, observations=prompt_lines("Your observations or opinion")), at


def _summary(book: Casebook, d: Disclosure, at: datetime | None) -> None:
    from rich.panel import Panel
    from rich.table import Table

    from safeguarding import moments
    from safeguarding.timeline_rich import plain

    # What was typed is shown as typed: `plain` keeps it from being read as Rich markup, and
    # a value too long for its line folds onto the next, never cut with "…" (Rich can misjudge
    # the width of a line with wide characters, and a name cut short is a name misread).
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, justify="right", style="bold")
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    category = book.categories.get(d.category)
    rows = [
        plain(f"{category.code} — {category.title}"),
        plain(", ".join(f"{s.name} ({s.role})" for s in d.subjects)),
        plain(f"{d.disclosed_by} ({d.relationship})"),
        plain(d.received_by or book.unlocked.user.name),
        plain(moments.local_text(at) if at else "now, when saved (" + _now_text() + ")"),
        plain(d.where),
        plain(d.text),
        plain(d.observations or "(none)"),
    ]
    for number, (label, value) in enumerate(zip((*ANSWERS, "Observations"), rows, strict=True)):
        table.add_row(str(number + 1), label, value)
    output.err.print(Panel(table, title="Check before saving", title_align="left"))


def _now_text() -> str:
    from safeguarding import clock, moments

    return moments.local_text(clock.now())
