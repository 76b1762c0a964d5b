"""`safeguard person …`: the people cases are about, the links between them, and a case's
subject linked to one of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from .. import output
from ..context import unlock
from ..output import CaseArgument, JsonOption, PersonArgument

if TYPE_CHECKING:
    from safeguarding.people import Linked
    from safeguarding.people_rows import PersonInfo

app = typer.Typer(help="Add, list, show and link the people cases are about.", no_args_is_help=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Their full name.")],
    dob: Annotated[
        str, typer.Option("--dob", metavar="DATE", help="Date of birth, e.g. 2015-03-14.")
    ],
    year_group: Annotated[
        str | None, typer.Option("--year-group", metavar="TEXT", help="e.g. Year 4.")
    ] = None,
    upn: Annotated[
        str | None, typer.Option("--upn", metavar="UPN", help="Unique Pupil Number.")
    ] = None,
    role: Annotated[
        str, typer.Option("--role", metavar="pupil|staff|parent|other", help="Who they are.")
    ] = "pupil",
    json: JsonOption = False,
) -> None:
    """Add a person, encrypted in the vault; prints their number.

    Two people may share a name: their dates of birth tell them apart.
    """
    from safeguarding import clock, moments, people

    draft = people.draft(
        name, dob, year_group=year_group, upn=upn, role=role, today=moments.local_date(clock.now())
    )
    unlocked = unlock()
    try:
        added = output.commit(lambda: people.add(unlocked, draft), lambda p: f"person {p.id}")
    finally:
        unlocked.close()
    if json:
        from safeguarding import documents_people

        output.emit_json(documents_people.person(added))
        return
    output.data_line(str(added.id))
    output.say(f"Added person {added.id}: {_escaped(added.label)}.")


def _escaped(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@app.command("list")
def list_people(json: JsonOption = False) -> None:
    """List the people, by name, with their dates of birth."""
    from safeguarding import people

    unlocked = unlock()
    try:
        found = people.everyone(unlocked)
    finally:
        unlocked.close()
    if json:
        from safeguarding import documents_people

        output.emit_json(documents_people.people(found))
        return
    if not found:
        output.say("No people yet: 'safeguard person add NAME --dob DATE' adds one.")
        return
    from rich.table import Table
    from rich.text import Text

    table = Table("#", "Name", "Born", "Year group", "UPN", "Role")
    for p in found:
        table.add_row(str(p.id), Text(p.name), p.dob.isoformat(), Text(p.year_group), p.upn, p.role)
    output.out.print(table)


@app.command("show")
def show(person: PersonArgument, json: JsonOption = False) -> None:
    """Show a person, the people linked to them and the cases about them."""
    from safeguarding import casefile, people, storage

    unlocked = unlock()
    try:
        with (
            storage.guarded(unlocked.vault.path),
            storage.reading(unlocked.vault.connection) as db,
        ):
            found = people.find_in(unlocked, db, person)
            links = people.links_in(unlocked, db, found.id)
            cases = [
                casefile.format_reference(case.year, case.number)
                for case, _ in people.cases_of(unlocked, db, found.id)
            ]
    finally:
        unlocked.close()
    if json:
        from safeguarding import documents_people

        output.emit_json(documents_people.person(found, links, cases))
        return
    _print_person(found, links, cases)


def _print_person(found: PersonInfo, links: list[Linked], cases: list[str]) -> None:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("Person", str(found.id))
    grid.add_row("Name", Text(found.name))
    grid.add_row("Born", found.dob.isoformat())
    grid.add_row("Year group", Text(found.year_group or "—"))
    grid.add_row("UPN", found.upn or "—")
    grid.add_row("Role", found.role)
    grid.add_row(
        "Linked",
        Text("\n".join(f"{ln.person.id}: {ln.person.label}, {ln.relation}" for ln in links))
        if links
        else Text("none"),
    )
    grid.add_row("Cases", "\n".join(cases) or "none")
    output.out.print(grid)


@app.command("link")
def link(
    person: PersonArgument,
    other: Annotated[
        str, typer.Argument(metavar="OTHER", help="The person linked to them (number or name).")
    ],
    relation: Annotated[
        str,
        typer.Option(
            "--as",
            metavar="sibling|parent|carer|other",
            help="What OTHER is to PERSON: their sibling, parent, carer, or other.",
        ),
    ],
    json: JsonOption = False,
) -> None:
    """Link two people: OTHER is PERSON's sibling, parent, carer or other."""
    from safeguarding import clock, people

    unlocked = unlock()
    try:
        first, second, made = output.commit(
            lambda: people.link(unlocked, person, other, relation, clock.now),
            lambda done: f"the link of people {done[0].id} and {done[1].id}",
        )
    finally:
        unlocked.close()
    if json:
        from safeguarding import documents_people

        output.emit_json(documents_people.linked(first, second, made.relation, made.seq))
        return
    output.say(f"Linked person {second.id} to person {first.id} as their {made.relation}.")


@app.command("link-case")
def link_case(
    person: PersonArgument,
    case: CaseArgument,
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject",
            metavar="NAME",
            help="Which of the case's subjects (default: the one of the person's name, or "
            "the only one).",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Link a case's subject to a person, as a signed entry of the case."""
    from safeguarding import clock, people

    unlocked = unlock()
    try:
        found, chosen, entry, number = output.commit(
            lambda: people.link_case(unlocked, person, case, subject, clock.now),
            lambda done: f"the link to person {done[0].id} as entry {done[3]} of {case.upper()}",
        )
    finally:
        unlocked.close()
    reference = case.strip().upper()
    if json:
        from safeguarding import documents_people

        output.emit_json(documents_people.case_linked(found, reference, chosen, entry, number))
        return
    output.say(
        f"Linked {_escaped(chosen)} in {reference} to person {found.id} "
        f"({_escaped(found.label)}); recorded as entry {number} of {reference}."
    )
    from safeguarding.people_rows import same_name

    if same_name(chosen) != same_name(found.name):
        output.say(
            f"[yellow]{_escaped(chosen)} is not the name of person {found.id}: if that is not "
            f"who they are, link them to the right person (the last link stands): 'safeguard "
            f"person link-case PERSON {reference} --subject NAME'.[/]"
        )
