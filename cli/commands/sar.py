"""`safeguard sar …`: a subject access request answered (everything held about a person, other
people's names withheld, behind a cover letter), its response date tracked until marked done."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from .. import output
from ..casework import first_word_runs
from ..context import unlock
from ..output import JsonOption, PersonArgument
from ..settings import school_settings

if TYPE_CHECKING:
    from safeguarding.sar import Made
    from safeguarding.unlocked import Unlocked


app = typer.Typer(
    cls=first_word_runs("make"),
    help="Subject access requests: what is held about a person.\n\n"
    "'safeguard sar PERSON --output FILE' is 'safeguard sar make PERSON --output FILE'.",
    no_args_is_help=True,
)


OutputOption = Annotated[
    str, typer.Option("--output", "-o", metavar="FILE", help="The file to write.")
]
FormatOption = Annotated[
    str, typer.Option("--format", "-f", metavar="pdf|html|json", help="What to write.")
]
ReceivedOption = Annotated[
    str | None,
    typer.Option(
        "--received",
        metavar="DATE",
        help="The day the request was received (default: today; not in the future).",
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")]
AgainOption = Annotated[
    int | None,
    typer.Option(
        "--again",
        metavar="N",
        help="Answer request N again (another format, or a case left out): the same request, "
        "with its own dates; the cases its latest answer left out stay left out.",
    ),
]
LeaveOutOption = Annotated[
    list[str] | None,
    typer.Option(
        "--leave-out",
        metavar="CASE",
        help="Leave this case out of the answer (an exemption applies), this school's own or "
        "one of a received file's; SCHOOL:CASE where two cases share a reference. Repeat for "
        "several. Recorded with the request.",
    ),
]


@app.command("make")
def make(
    person: PersonArgument,
    to: OutputOption,
    format: FormatOption = "pdf",
    received: ReceivedOption = None,
    force: ForceOption = False,
    leave_out: LeaveOutOption = None,
    again: AgainOption = None,
    json: JsonOption = False,
) -> None:
    """Answer a subject access request: write everything held about a person.

    Every case about them (their file, with the files received from earlier schools) and every
    other case you may read that names them, as the one who disclosed or in any text (their
    full name, any letter case), with every other person's name replaced by a role label, as
    'export --redact' does; first a cover letter with the date the request was received and
    the response date, one calendar month later. Recorded in the vault's chronology and in each
    case ('safeguard audit'); until 'safeguard sar done N' the request shows in 'safeguard
    cases --overdue' once its response date has passed. A restricted case you are not a member
    of is not included: the request is best answered by someone who may read every case."""
    from safeguarding import clock, documents_sar, moments, personfile, sar
    from safeguarding.errors import UsageError

    fmt = sar.check_format(format)
    if again is not None and received is not None:
        raise UsageError(f"--received is request {again}'s own: leave it out with --again")
    today = moments.local_date(clock.now())
    day = sar.check_received(received, today)
    path = Path(to).expanduser()
    settings, kinds = school_settings()
    layout = personfile.Layout(settings.school_name, kinds, settings.closure_days)
    unlocked = unlock()
    try:
        _check(unlocked, person, path, force, (day, again, leave_out or [], layout.school))
        done = output.commit(
            lambda: sar.make(
                unlocked,
                person,
                received=day,
                fmt=fmt,
                output=path,
                layout=layout,
                force=force,
                leave_out=leave_out or (),
                again=again,
            ),
            lambda d: f"subject access request {d.request.number} as entry {d.request.entry}",
        )
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_sar.made(done, today))
        return
    _said(done)


def _check(
    unlocked: Unlocked,
    person: str,
    path: Path,
    force: bool,
    asked: tuple[date, int | None, list[str], str],
) -> None:
    """An unknown person, a request that cannot be answered again, a case that cannot be left
    out, or a file that cannot be written, refused before the warning that a file of
    plaintext is about to be written (`asked`: the day the request was received, the request
    answered again, the cases to leave out, this school's name)."""
    from safeguarding import sar
    from safeguarding.export import Target

    day, again, leave_out, school = asked
    sar.check(unlocked, person, day, again, (leave_out, school))
    Target(path, force).discard()
    output.warn_plaintext("export", path, "Keep it safe and delete it once it has been sent.")


def _said(done: Made) -> None:
    r = done.request
    if done.unshown:
        output.err.print(
            f"note: {done.unshown} character(s) could not be shown in the PDF's fonts and are "
            "written as [U+XXXX] codes; the html answer shows every character as recorded.",
            markup=False,
            highlight=False,
        )
    cases = ", ".join(r.named) or "no case"
    output.say(
        f"Wrote subject access request {r.number}{' again' if done.again else ''} for person "
        f"{r.person} ({cases}) as "
        f"{r.format} to {escape(str(done.path))}; received {r.received.isoformat()}, response "
        f"due by {r.due.isoformat()}. Recorded as entry {r.entry}; mark it answered with "
        f"'safeguard sar done {r.number}'."
    )
    if r.left_out:
        from safeguarding.sar_held import shown

        left = ", ".join(shown(token) for token in r.left_out)
        kept = (
            f" (an answer made again keeps out whatever an earlier answer of request {r.number} "
            "left out; to include one again, make a new request without --again)"
            if done.again
            else ""
        )
        output.say(f"Left out: {escape(left)}{kept}.")
    if done.review:
        theirs = any("received from" in line for line in done.review)
        output.say(
            "[yellow]Read the answer before it is sent: "
            f"{escape('; '.join(done.review))}. What is said in an open case, or about a member "
            "of staff before the LADO has advised, may have to be withheld (the exemptions for "
            "crime and for serious harm): make the answer again with "
            f"'safeguard sar {r.person} --again {r.number} --leave-out CASE --output FILE'"
            + (" (a received case as 'SCHOOL:CASE' where two share a reference)" if theirs else "")
            + ", and names written only in the texts are not withheld, so check those too.[/]"
        )


@app.command("list")
def list_requests(json: JsonOption = False) -> None:
    """List the subject access requests: each one's person, dates and state."""
    from rich.table import Table

    from safeguarding import clock, documents_sar, moments, sar

    unlocked = unlock()
    try:
        found = sar.requests(unlocked)
    finally:
        unlocked.close()
    today = moments.local_date(clock.now())
    if json:
        output.emit_json(documents_sar.requests(found, today))
        return
    if not found:
        output.say("No subject access request has been recorded.")
        return
    table = Table("SAR", "Person", "Received", "Due", "State", "Cases", title="Requests")
    for r in found:
        table.add_row(
            str(r.number),
            escape(f"{r.person} ({r.name})"),
            r.received.isoformat(),
            r.due.isoformat(),
            r.state(today),
            escape(", ".join(r.named)) or "—",
        )
    output.out.print(table)


@app.command("done")
def done(
    number: Annotated[int, typer.Argument(metavar="N", help="The request's number.")],
    json: JsonOption = False,
) -> None:
    """Mark a subject access request answered: it leaves 'cases --overdue'."""
    from safeguarding import clock, documents_sar, moments, sar

    unlocked = unlock()
    try:
        found = output.commit(
            lambda: sar.done(unlocked, number),
            lambda r: f"request {r.number} marked done as entry {r.done}",
        )
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_sar.marked_done(found, moments.local_date(clock.now())))
        return
    output.say(f"Marked subject access request {found.number} answered (entry {found.done}).")
