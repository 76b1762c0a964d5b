"""Who a disclosure's subjects are: each linked to a person the vault keeps, by `--subject-id`,
by `--subject-dob` (matched by name and date of birth, or added), or on a terminal chosen from
the people of that name, with their dates of birth to tell them apart."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding.entry_fields import short
from safeguarding.errors import SafeguardError, UsageError

from . import credentials, output
from .casework import ask_optional, is_number

if TYPE_CHECKING:
    from safeguarding.cases import Casebook
    from safeguarding.people import Wanted

    from .disclosing import Answers

SubjectIdOption = Annotated[
    list[str] | None,
    typer.Option(
        "--subject-id",
        metavar="ID",
        help="A subject who is a person the vault keeps, by number ('safeguard person "
        "list'); repeat for several.",
    ),
]
SubjectDobOption = Annotated[
    list[str] | None,
    typer.Option(
        "--subject-dob",
        metavar="DATE",
        help="Each --subject's date of birth, in the same order: links them to the person of "
        "that name and date of birth, added if there is none.",
    ),
]

#: A person's role, as a subject's role (the other way round: `people.ROLE_OF_SUBJECT`).
_SUBJECT_ROLE = {"pupil": "pupil", "staff": "staff", "parent": "parent", "other": "other"}


def from_options(
    book: Casebook, answers: Answers, ids: list[str] | None, dobs: list[str] | None
) -> list[Wanted | None] | None:
    """The people the options link the subjects to (None: the options name none).  Each
    `--subject-id` adds its person as a subject, after the `--subject`s."""
    from safeguarding import clock, moments, people

    if not ids and not dobs:
        return None
    if dobs and len(dobs) != len(answers.names):
        raise UsageError(
            f"{_count(len(answers.names), 'subject', 'subjects')} but "
            f"{_count(len(dobs), 'date of birth', 'dates of birth')}",
            hint="give one --subject-dob for each --subject, in the same order",
        )
    roles = _roles_for(answers, len(answers.names))
    today = moments.local_date(clock.now())
    wanted: list[Wanted | None] = []
    given: list[str | None] = list(dobs) if dobs else [None] * len(answers.names)
    for name, role, dob in zip(answers.names, roles, given, strict=True):
        if dob is None:
            wanted.append(None)
            continue
        kind = _role(role)
        draft = people.draft(name, dob, year_group=None, upn=None, role=kind, today=today)
        wanted.append(people.Wanted(draft=draft))
    single = answers.roles[0] if len(answers.roles) == 1 else None
    answers.roles = [single] * len(answers.names) if single else answers.roles
    for text in ids or []:
        if not is_number(text.strip()):
            raise UsageError(f"{text!r} is not a person's number", hint="e.g. --subject-id 3")
        found = people.find(book.unlocked, text)
        answers.names.append(found.name)
        answers.roles.append(single or _SUBJECT_ROLE[found.role])
        wanted.append(people.Wanted(person=found.id))
    return wanted


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _roles_for(answers: Answers, count: int) -> list[str]:
    if len(answers.roles) == 1:
        return answers.roles * count
    if len(answers.roles) == count:
        return list(answers.roles)
    return ["other"] * count  # refused with the rest, when the disclosure is made


def _role(subject_role: str) -> str:
    from safeguarding.people import ROLE_OF_SUBJECT

    return ROLE_OF_SUBJECT.get(subject_role.strip().lower(), "other")


def interview(book: Casebook, names: list[str], roles: list[str]) -> list[Wanted | None] | None:
    """On a terminal, once the vault keeps people: for each subject, the person they are,
    chosen among those of that name, or added (None: not asked)."""
    from safeguarding import people

    if not credentials.is_interactive() or not people.anyone(book.unlocked):
        return None
    padded = _pad(roles, names)
    return [_ask_person(book, name, role) for name, role in zip(names, padded, strict=True)]


def _pad(roles: list[str], names: list[str]) -> list[str]:
    return roles * len(names) if len(roles) == 1 else roles + ["other"] * (len(names) - len(roles))


def _ask_person(book: Casebook, name: str, role: str) -> Wanted | None:
    from rich.markup import escape

    from safeguarding import people

    found = people.matching(book.unlocked, name)
    shown = escape(name)
    if not found:
        output.err.print(f"{shown} is not among the people yet.")
        return _new_person(book, name, role)
    output.err.print(f"People called {shown}:")
    for number, person in enumerate(found, start=1):
        year = f", {escape(person.year_group)}" if person.year_group else ""
        output.err.print(f"  [bold]{number:>2}[/bold]  {escape(person.label)}{year}")
    while True:
        answer = (
            ask_optional(f"Which is {shown}? (1-{len(found)}; n: someone new; Enter: do not link)")
            or ""
        ).lower()
        if not answer:
            return None
        if answer == "n":
            return _new_person(book, name, role)
        if is_number(answer) and 1 <= int(answer) <= len(found):
            return people.Wanted(person=found[int(answer) - 1].id)
        output.err.print(f"[red]Answer a number from 1 to {len(found)}, n, or Enter.[/red]")


def _new_person(book: Casebook, name: str, role: str) -> Wanted | None:
    from rich.markup import escape

    from safeguarding import clock, moments, people

    while True:
        dob = ask_optional(
            f"Date of birth of {escape(name)}, to add them as a person (Enter: do not link)"
        )
        if dob is None:
            return None
        try:
            draft = people.draft(
                name,
                dob,
                year_group=None,
                upn=None,
                role=_role(role),
                today=moments.local_date(clock.now()),
            )
        except SafeguardError as refused:
            output.err.print(refused.message, style="red", markup=False)
            continue
        year = ask_optional("Their year group (Enter to leave out)")
        if year:
            draft = replace(draft, year_group=short(year, "the year group"))
        return people.Wanted(draft=draft, new=True)
