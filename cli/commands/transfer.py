"""`safeguard transfer …`: a child's file sent to their new school, and its receipt."""

from __future__ import annotations

from collections.abc import Container
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_transfers

from .. import output
from ..casework import TextFileOption, first_word_runs, read_text
from ..context import unlock
from ..output import JsonOption, PersonArgument
from ..settings import school_settings

if TYPE_CHECKING:
    from rich.console import RenderableType

    from safeguarding.transfer import Sent
    from safeguarding.transfers import Transfer


app = typer.Typer(
    cls=first_word_runs("send"),
    help="Send a child's file to their new school; track its receipt.\n\n"
    "'safeguard transfer PERSON …' is 'safeguard transfer send PERSON …'.",
    no_args_is_help=True,
)


ToOption = Annotated[str, typer.Option("--to", metavar="SCHOOL", help="The new school's name.")]
OutputOption = Annotated[
    Path, typer.Option("--output", "-o", metavar="FILE", help="The file to write.")
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key",
        metavar="KEY",
        help="The new school's key, as its 'safeguard school-key' printed it (SGK1-…).",
    ),
]
PdfOnlyOption = Annotated[
    bool,
    typer.Option(
        "--pdf-only",
        help="For a school without safeguard: write the file's PDF, for secure e-mail or hand "
        "delivery; its receipt is then entered by hand.",
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")]


@app.command("send")
def send(
    person: PersonArgument,
    to: ToOption,
    output_path: OutputOption,
    key: KeyOption = None,
    pdf_only: PdfOnlyOption = False,
    force: ForceOption = False,
    json: JsonOption = False,
) -> None:
    """Send a child's whole file to their new school.

    Writes one package sealed to the new school's key: only their vault can open it. Records
    the transfer in the chronology and in each of the child's cases. Its receipt is due
    within 5 school days ('safeguard transfer list', 'safeguard cases --overdue').
    """
    from safeguarding import clock, moments, personfile, transfer_package
    from safeguarding import transfer as sending
    from safeguarding.errors import UsageError

    if key is None and not pdf_only:
        raise UsageError(
            "give the new school's --key, or --pdf-only for a school without safeguard"
        )
    if key is not None and pdf_only:
        raise UsageError("give --key or --pdf-only, not both")
    if str(output_path) == "-":
        raise UsageError("a transfer is written to a file: give --output FILE")
    school = to.strip()
    if not school:
        raise UsageError("--to needs the new school's name")
    recipient = None if key is None else transfer_package.parse_key(key)
    settings, kinds = school_settings()
    layout = personfile.Layout(settings.school_name, kinds, settings.closure_days)
    unlocked = unlock()
    try:
        unlocked.require_manager("send a child's file to another school")
        if recipient is None:
            output.warn_plaintext(
                "transfer", output_path, "Delete it once the new school has confirmed receipt."
            )
        done = sending.send(
            unlocked,
            person,
            school=school,
            key=recipient,
            output=output_path,
            layout=layout,
            force=force,
        )
    finally:
        unlocked.close()
    today = moments.local_date(clock.now())
    if json:
        output.emit_json(documents_transfers.sent(done, today, settings.closure_days))
        return
    output.data_line(str(done.transfer.number))
    for line in _told(done, output_path, settings.closure_days):
        output.say(line)


def _told(done: Sent, output_path: Path, closures: Container[date]) -> list[str]:
    """What `transfer` tells the person sending: what was written, and what to do next."""
    from rich.markup import escape

    t = done.transfer
    due = t.due(closures).strftime("%a %d %b %Y")
    cases = ", ".join(done.cases) or "no case yet"
    what = "PDF" if t.pdf_only else "package"
    lines = [
        f"Transfer {t.number}: the file of {escape(done.person.label)} ({cases}) for "
        f"{escape(t.school)}, written to {escape(str(output_path))} and recorded.",
        f"The {what}'s fingerprint is {done.package_fingerprint}.",
    ]
    if t.key:
        lines.append(
            f"It is sealed to the key with the fingerprint {t.key}: check that it is the one "
            f"{escape(t.school)} read out."
        )
    if done.unread_restricted:
        lines.append(
            "This vault holds cases restricted to their members that you cannot read: if one "
            "is about this child, it is not in this file, and one of its members must send it."
        )
    if t.pdf_only:
        lines.append(
            "Send it by secure e-mail or by hand. When the school confirms it arrived, record "
            f"it: safeguard transfer receipt {t.number} (it asks who confirmed it, and how)."
        )
    else:
        lines.append(
            "Send it to them (it is sealed: only their vault opens it), and read them the "
            "fingerprint. Their 'safeguard import' prints a receipt code; record it: "
            f"safeguard transfer receipt {t.number} CODE."
        )
    lines.append(f"Its receipt is due by the end of {due}.")
    return lines


@app.command("list")
def list_(json: JsonOption = False) -> None:
    """List the files sent to other schools, and whether each arrived.

    A transfer with no receipt 5 school days after it was sent is overdue.
    """
    from safeguarding import clock, moments, people, storage, transfers

    settings, _ = school_settings()
    unlocked = unlock()
    try:
        with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
            found = transfers.sent(unlocked, db)
        names = {person.id: person.label for person in people.everyone(unlocked)}
    finally:
        unlocked.close()
    today = moments.local_date(clock.now())
    closures = settings.closure_days
    if json:
        output.emit_json(documents_transfers.listed(found, today, closures))
        return
    if not found:
        output.say("No files have been sent to other schools.")
        return
    output.out.print(_table(found, names, today, closures))


def _table(
    found: list[Transfer], names: dict[int, str], today: date, closures: Container[date]
) -> RenderableType:
    """The transfers, two lines each (as `cases` lists cases): who, to where, when and by whom;
    then, on a line of its own, its receipt, or its withdrawal and why."""
    from safeguarding import moments
    from safeguarding.timeline import visible

    from ..listing import Runs
    from ..views import two_line_list

    items = []
    for t in found:
        if t.withdrawal is not None:
            w = t.withdrawal
            state = f"withdrawn {moments.local_text(w.at)} by {w.by}: {w.reason.strip()}"
        elif t.receipt is not None:
            state = f"received: confirmed {moments.local_text(t.receipt.at)} by {t.receipt.by}"
            state += f"; {t.receipt.text.strip()}" if t.receipt.text.strip() else ""
        elif t.overdue(today, closures):
            state = f"OVERDUE: due by {t.due(closures).isoformat()}"
        else:
            state = f"awaiting, due by {t.due(closures).isoformat()}"
        fields = [
            str(t.number),
            visible(names.get(t.person, f"person {t.person}")),
            visible(t.school + (" (PDF)" if t.pdf_only else "")),
            visible(f"{moments.local_text(t.sent_at)} by {t.sent_by}"),
        ]
        style = "red" if t.overdue(today, closures) else ""
        items.append((fields, Runs(((visible(state), style),))))
    return two_line_list(("Transfer", "Person", "To", "Sent"), items, title="Files sent")


@app.command("receipt")
def receipt(
    transfer: Annotated[str, typer.Argument(metavar="TRANSFER", help="The transfer's number.")],
    code: Annotated[
        str | None,
        typer.Argument(
            metavar="CODE", help="The receipt code the new school's 'safeguard import' printed."
        ),
    ] = None,
    text_file: TextFileOption = None,
    json: JsonOption = False,
) -> None:
    """Record that the new school received a file.

    For a package: the receipt code their 'safeguard import' printed (a wrong one is refused).
    For a PDF sent by hand or e-mail: who confirmed it arrived, and how (asked, or
    --text-file).
    """
    from safeguarding import clock, moments, storage, transfers

    settings, _ = school_settings()
    unlocked = unlock()
    try:
        with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
            found = transfers.find(transfers.sent(unlocked, db), transfer)
        text = None
        transfers.refuse_settled(found)
        if found.pdf_only and code is None:
            text = read_text("Who at the new school confirmed the PDF arrived, and how", text_file)
        done = output.commit(
            lambda: transfers.confirm(unlocked, transfer, code, text),
            lambda t: f"the receipt of transfer {t.number}",
        )
    finally:
        unlocked.close()
    today = moments.local_date(clock.now())
    if json:
        output.emit_json(documents_transfers.confirmed(done, today, settings.closure_days))
        return
    output.say(f"Recorded: transfer {done.number} was received by {done.school}.")


@app.command("withdraw")
def withdraw(
    transfer: Annotated[str, typer.Argument(metavar="TRANSFER", help="The transfer's number.")],
    text_file: TextFileOption = None,
    json: JsonOption = False,
) -> None:
    """Withdraw a transfer sent by mistake, saying why.

    For a file sent to the wrong school, the wrong child's file, or a package lost and sent
    again: it is no longer awaited or overdue. The reason is asked for (or --text-file). The
    package itself cannot be recalled: ask the school that has it to delete it.
    """
    from safeguarding import clock, moments, storage, transfers

    settings, _ = school_settings()
    unlocked = unlock()
    try:
        unlocked.require_manager("withdraw a transfer")
        with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
            found = transfers.find(transfers.sent(unlocked, db), transfer)
        transfers.refuse_settled(found, withdrawing=True)
        reason = read_text(
            f"Why is transfer {found.number} withdrawn", text_file, need="say why it is withdrawn"
        )
        done = output.commit(
            lambda: transfers.withdraw(unlocked, transfer, reason),
            lambda t: f"the withdrawal of transfer {t.number}",
        )
    finally:
        unlocked.close()
    today = moments.local_date(clock.now())
    if json:
        output.emit_json(documents_transfers.withdrawn(done, today, settings.closure_days))
        return
    for line in _withdrawn(done):
        output.say(line)


def _withdrawn(t: Transfer) -> list[str]:
    """What `transfer withdraw` tells: what it changed here, and what it cannot change there."""
    from rich.markup import escape

    school = escape(t.school)
    lines = [
        f"Recorded: transfer {t.number} to {school} is withdrawn; it is no longer awaited.",
        f"The {'PDF' if t.pdf_only else 'package'} itself cannot be recalled: ask {school} to "
        f"delete it, and delete your copy ({escape(t.to)}) if you kept one.",
    ]
    if t.pdf_only:
        lines.append("It is a PDF in plaintext: anyone who holds it can read it.")
    else:
        lines.append(
            f"It is sealed to the key with the fingerprint {t.key}: only the vault of the school "
            "that key belongs to can read it."
        )
    return lines
