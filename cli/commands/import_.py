"""`safeguard import …`: a child's file received from their previous school, and the PDF it
came with."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_transfers

from .. import output
from ..casework import first_word_runs
from ..context import open_vault, unlock
from ..output import JsonOption

if TYPE_CHECKING:
    from rich.table import Table

    from safeguarding.received import Imported

app = typer.Typer(
    cls=first_word_runs("package"),
    help="Import a child's file from their old school; take out its PDF.\n\n"
    "'safeguard import FILE' is 'safeguard import package FILE'.",
    no_args_is_help=True,
)


def _addressed(package: bytes) -> None:
    """Before the passphrase is asked for: that this vault has a school key, and that the
    package is one, whole enough to say whom it was sealed to, and sealed to this vault."""
    from safeguarding import school_key, storage, transfer_package
    from safeguarding.errors import NotAllowed

    transfer_package.check_shape(package)  # a PDF, say, is told so before anything else
    vault = open_vault()
    try:
        with storage.guarded(vault.path), storage.reading(vault.connection) as db:
            publics = school_key.public_keys(db)
    finally:
        vault.close()
    if not publics:
        raise NotAllowed(
            "this vault has no school key, so no package can have been sealed to it",
            hint="run 'safeguard school-key' and send what it prints to the sending school",
        )
    transfer_package.check_addressed(package, publics)


@app.command("package")
def package(
    package: Annotated[
        Path, typer.Argument(metavar="FILE", help="The package the previous school sent.")
    ],
    json: JsonOption = False,
) -> None:
    """Import a child's file sent by their previous school.

    Checks the package (sealed to this school's key, whole, signed by its sender), adds the
    child as a person (or finds them by name and date of birth) with the file as it was sent,
    and prints a receipt code for the sending school.
    """
    from rich.markup import escape

    from safeguarding import transfer
    from safeguarding.errors import NotFound

    try:
        data = package.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"there is no file {package}") from None
    except IsADirectoryError:
        raise NotFound(f"{package} is a folder, not a package") from None
    _addressed(data)
    unlocked = unlock()
    try:
        done = output.commit(
            lambda: transfer.receive(unlocked, data),
            lambda r: f"the file received as entry {r.entry}",
        )
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_transfers.received(done))
        return
    output.data_line(done.code)
    cases = ", ".join(done.cases) or "no case"
    person = f"{'added as' if done.added else 'kept with'} person {done.person.id}"
    output.say(
        f"Imported the file of {escape(done.person.label)} from {escape(done.school)}, sent by "
        f"{escape(done.sent_by)}: {done.entries} entries ({escape(cases)}), {person}. "
        f"'safeguard file {done.person.id}' shows it."
    )
    output.say(
        f"It is received file {done.number}: 'safeguard import pdf {done.number} --output "
        "FILE' writes the PDF the sending school made of it."
    )
    output.say(
        f"The package's fingerprint is {done.fingerprint}: it should be the one the sending "
        f"school read out. Give them this receipt code: {done.code}"
    )


@app.command("list")
def list_(json: JsonOption = False) -> None:
    """List the files received from other schools, with their numbers.

    Each is numbered in the order it was imported: 'safeguard import pdf N' writes the PDF
    it came with.
    """
    from safeguarding import people, received, storage

    unlocked = unlock()
    try:
        with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
            found = received.imported(unlocked, db)
        names = {person.id: person.label for person in people.everyone(unlocked)}
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_transfers.imported(found))
        return
    if not found:
        output.say("No files have been received from other schools.")
        return
    output.out.print(_table(found, names))


def _table(found: list[Imported], names: dict[int, str]) -> Table:
    """The files received, one a row: whose, from where, when, and whether it has a PDF."""
    from rich.table import Table
    from rich.text import Text

    from safeguarding import moments

    table = Table("Received", "Person", "From", "Sent", "Imported", "PDF", title="Files received")
    for one in found:
        f = one.file
        school = f.school + "".join(f"\n(with {earlier}'s)" for earlier in one.earlier)
        table.add_row(
            Text(str(one.number)),
            Text(f"{names.get(f.person, '')} (person {f.person})".strip()),
            Text(school),
            Text(f"{moments.local_text(f.sent_at)} by {f.sent_by}"),
            Text(f"{moments.local_text(f.received_at)} by {f.received_by}"),
            Text("yes" if one.pdf is not None else "no"),
        )
    return table


OutputOption = Annotated[
    Path, typer.Option("--output", "-o", metavar="FILE", help="The file to write.")
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")]


@app.command("pdf")
def pdf(
    number: Annotated[
        str,
        typer.Argument(metavar="N", help="The received file's number ('safeguard import list')."),
    ],
    output_path: OutputOption,
    force: ForceOption = False,
    json: JsonOption = False,
) -> None:
    """Write the PDF a received file came with, as the sender made it.

    Byte for byte, as the sending school made it, to a new file only you can read. It is
    plaintext, outside the encrypted vault; writing it is recorded as an export of the
    child's file ('safeguard audit').
    """
    from rich.markup import escape

    from safeguarding import received, storage, transfer
    from safeguarding.export import Target

    _not_a_pdf_itself(number)
    if str(output_path) == "-":
        from safeguarding.errors import UsageError

        raise UsageError("the PDF is written to a file: give --output FILE")
    unlocked = unlock()
    try:
        with storage.guarded(unlocked.vault.path), storage.reading(unlocked.vault.connection) as db:
            transfer.require_pdf(received.find_imported(received.imported(unlocked, db), number))
        Target(output_path, force).discard()  # the same checks, before the warning
        output.warn_plaintext("PDF", output_path, "Keep it safe, and delete it once read.")
        done = output.commit(
            lambda: transfer.received_pdf(unlocked, number, output_path, force),
            lambda d: f"the export of received file {d.imported.number}'s PDF as entry {d.entry}",
        )
    finally:
        unlocked.close()
    if json:
        output.emit_json(documents_transfers.received_pdf(done))
        return
    f = done.imported.file
    output.say(
        f"Wrote the PDF of person {f.person}'s file that {escape(f.school)} sent (received file "
        f"{done.imported.number}) to {escape(str(done.output))}, exactly as they made it; "
        f"recorded as entry {done.entry} of the vault's chronology."
    )


def _not_a_pdf_itself(number: str) -> None:
    """A file sent as a PDF is given where a number is asked for: it is the PDF already."""
    from safeguarding.errors import UsageError

    path = Path(number)
    if number.strip().isdigit() or not path.is_file():
        return
    with path.open("rb") as given:
        if given.read(5) == b"%PDF-":
            raise UsageError(
                f"{number} is itself a PDF: a file sent as a PDF is the PDF to read, and "
                "there is nothing to take out of it",
                hint="'safeguard import pdf N' takes the number of a file received as a "
                "package ('safeguard import list')",
            )
