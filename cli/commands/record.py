"""`safeguard record`: a disclosure, which opens a case.  Given as options in a script, or asked
for on a terminal as a guided interview that ends with a summary to confirm."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from .. import output
from ..casework import (
    AtOption,
    EditorOption,
    JsonOption,
    TextFileOption,
    casebook,
    one_standard_input,
    when,
)
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
    ask_when,
    disclosure,
    review,
)
from ..identifying import SubjectDobOption, SubjectIdOption, from_options, interview

if TYPE_CHECKING:
    from collections.abc import Callable

    from safeguarding.cases import Casebook, Written
    from safeguarding.db import Db
    from safeguarding.entries import Disclosure
    from safeguarding.people import Wanted


def record(
    category: CategoryOption = None,
    subject: SubjectOption = None,
    subject_role: SubjectRoleOption = None,
    subject_id: SubjectIdOption = None,
    subject_dob: SubjectDobOption = None,
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
    """Record a disclosure: opens a case, prints its reference.

    A reference looks like SG-2026-0007.

    A case in an allegation category, or about a user of the vault, is restricted: sealed to
    you and the case manager (the headteacher, or the chair of governors when it is about the
    headteacher), never to a subject; for every other user it does not exist.

    On a terminal, whatever is not given as an option is asked for, then a summary is shown to
    confirm; Ctrl-C saves nothing. The account, in the discloser's own words, comes from the
    prompt, $EDITOR (--editor) or --text-file.

    Each subject may be linked to a person the vault keeps: --subject-id ID, or --subject-dob
    DATE for each --subject (matched by name and date of birth, or added). On a terminal, once
    the vault keeps people, the people of each subject's name are offered.
    """
    one_standard_input({"--text-file": text_file, "--observations-file": observations_file})
    with casebook(text_file, observations_file) as book:
        roles = [r.strip().lower() for r in subject_role or []]
        answers = Answers(
            category, list(subject or []), roles, disclosed_by, relationship, where, received_by
        )
        wanted = from_options(book, answers, subject_id, subject_dob)

        def identify(settled: Answers) -> None:
            nonlocal wanted
            if wanted is None:
                wanted = interview(book, settled.names, settled.roles)

        ask_missing(book, answers, identify)
        # Only the guided interview asks when; with the facts given as options, --at or now.
        moment = ask_when("When was it disclosed?") if at is None and answers.asked else when(at)
        told = disclosure(answers, text_file, observations_file, editor)
        if answers.asked:
            told, moment = review(book, told, moment, text_file is None, editor)
        names = [s.name for s in told.subjects]
        if wanted is not None and names != _as_kept(answers.names):  # changed in the summary
            wanted = interview(book, names, [s.role for s in told.subjects])
        written = output.commit(
            lambda: book.open(told, moment, restricted=restricted, first=_linking(book, wanted)),
            lambda w: f"the disclosure as {w.reference} (entry {w.number})",
        )
        _report(book, written, told, json)


def _as_kept(names: list[str]) -> list[str]:
    """Names as a disclosure keeps them (NFC, trimmed): a name given in another Unicode form
    ('e' and a combining accent for 'é') is the same name, not one changed in the summary."""
    return [unicodedata.normalize("NFC", name).strip() for name in names]


def _linking(
    book: Casebook, wanted: list[Wanted | None] | None
) -> Callable[[Db, Disclosure], Disclosure] | None:
    """What links the subjects to people as the case is opened (None: none is linked)."""
    if wanted is None or not any(wanted):
        return None
    from safeguarding import people

    def first(db: Db, told: Disclosure) -> Disclosure:
        return people.resolve(book.unlocked, db, told, wanted, book.now())

    return first


def _report(book: Casebook, written: Written, told: Disclosure, json: bool) -> None:
    from .. import views

    if json:
        from safeguarding import documents_json

        output.emit_json(documents_json.recorded(written, told.category))
        return
    output.data_line(written.reference)
    message = f"Recorded the disclosure as {written.reference} (entry {written.number})."
    views.report(book, written, False, message)
    views.say_restricted(written)
