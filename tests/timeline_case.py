"""A fixed case for the timeline and export tests, written through the library on a fixed clock.

Alex Morgan (DSL) records a disclosure about a member of staff (restricted, so Alex gives Priya
Shah access); Priya Shah (deputy) records a conversation late, which is later amended.  Names in
Greek and Cyrillic check the fonts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from safeguarding import categories, membership, timeline
from safeguarding.cases import Casebook
from safeguarding.chronology import Checkpoint
from safeguarding.config import Config
from safeguarding.entries import (
    Action,
    ActionDone,
    Advice,
    Amendment,
    Conversation,
    Disclosure,
    Note,
    Referral,
    Subject,
)
from safeguarding.vault import Role, Unlocked, Vault
from tests.conftest import FAST_KDF

DSL = "Alex Morgan"
DSL_PASSPHRASE = "alex morgan passphrase"
DEPUTY = "Priya Shah"
DEPUTY_PASSPHRASE = "priya shah passphrase"
SCHOOL = "Caldecote Primary School"
SUBJECT = "Daniel Price"
DISCLOSER = "Karen Webb"
CONTACT = "Ελένη Παπαδοπούλου"
ADVISER = "Jide Okafor"
SPOKEN_WITH = "Дмитрий Иванов"
OWNER = "Tom Baker"
#: Everyone but the subject: redaction must leave none of these anywhere.
OTHERS = (DSL, DEPUTY, DISCLOSER, CONTACT, ADVISER, SPOKEN_WITH, OWNER)
PRODUCED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CHECKPOINT = Checkpoint(14, "0123456789abcdef" * 4)


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.moment = at(16, 8, 0)

    def __call__(self) -> datetime:
        return self.moment


@dataclass
class Built:
    path: Path
    reference: str
    texts: list[str]
    config: Config
    amended: int


def build_case(folder: Path) -> Built:
    """The vault at `folder`/vault.db with the fixed case in it."""
    path = folder / "vault.db"
    dsl, _ = Vault.create(path, DSL, DSL_PASSPHRASE, kdf=FAST_KDF)
    dsl.add_user(DEPUTY, Role.DEPUTY, DEPUTY_PASSPHRASE, kdf=FAST_KDF)
    deputy = Vault.open(path).unlock(DEPUTY, DEPUTY_PASSPHRASE)
    config = Config(path=folder / "config.toml", exists=True, school_name=SCHOOL)
    kinds = categories.load()
    clock = Clock()
    book = Casebook(dsl, kinds, config, now=clock)
    deputy_book = Casebook(deputy, kinds, config, now=clock)
    texts: list[str] = []

    def when(recorded: datetime) -> None:
        clock.moment = recorded

    try:
        account = (
            "Mrs Webb said: \"I looked at my daughter's phone last night. Mr Price has been "
            "messaging her on Instagram, saying she was always his favourite and asking which "
            'school she goes to now. She is 15. I do not want him talking to her." Mrs Webb '
            "showed me three messages on her own phone; I did not copy them."
        )
        when(at(16, 8, 50))
        ref = book.open(
            Disclosure(
                category="staff-misuse",
                subjects=(Subject(SUBJECT, "staff"),),
                disclosed_by=DISCLOSER,
                relationship="parent of an ex-pupil",
                where="the school office",
                text=account,
                observations="Mrs Webb was upset but calm. Karen asked to be kept informed.",
            ),
            at(16, 8, 35),
        ).reference
        texts.append(account)
        # An allegation: restricted to Alex and the head; Priya, who will help, is given access.
        membership.grant(dsl, ref, DEPUTY)
        when(at(16, 10, 5))
        referral = f"Told {CONTACT} what Mrs Webb disclosed; the LADO will call back."
        book.add(
            ref,
            Referral(route="lado", contact=CONTACT, their_reference="LADO-0412", text=referral),
            at(16, 9, 55),
        )
        texts.append(referral)
        when(at(16, 15, 40))
        advice = (
            "Not a police matter at this stage. The headteacher should meet Mr Price with an "
            "HR adviser and ask him to end the contact. Okafor will review on Friday."
        )
        book.add(ref, Advice(source=ADVISER, text=advice), at(16, 15, 30))
        texts.append(advice)
        when(at(16, 15, 50))
        first_action = "Meet Mr Price with the HR adviser; ask him to end all online contact."
        book.add(ref, Action(owner=OWNER, due=datetime(2026, 11, 18).date(), text=first_action))
        texts.append(first_action)
        when(at(16, 15, 55))
        second_action = "Call the family: explain what happens next and agree support."
        book.add(ref, Action(owner=DEPUTY, due=datetime(2026, 11, 17).date(), text=second_action))
        texts.append(second_action)
        when(at(19, 16, 0))
        call = f"Spoke to {SPOKEN_WITH}, the family's interpreter; Mrs Webb agreed a check-in."
        conversation = deputy_book.add(
            ref, Conversation(with_whom=SPOKEN_WITH, channel="phone", text=call), at(17, 9, 5)
        )
        texts.append(call)
        when(at(19, 16, 5))
        done = "Spoke to the family (see the conversation above)."
        deputy_book.add(ref, ActionDone(action=2, text=done), at(17, 9, 25))
        texts.append(done)
        when(at(19, 16, 10))
        correction = "Correction: the call was on Tuesday afternoon, not in the morning."
        book.add(ref, Amendment(target=conversation.number, text=correction))
        texts.append(correction)
        when(at(20, 9, 0))
        note = "Tom Baker is away until Monday; the meeting with Mr Price is rearranged."
        book.add(ref, Note(text=note))
        texts.append(note)
    finally:
        dsl.close()
        deputy.close()
    return Built(path, ref, texts, config, conversation.entry)


def fixed_timeline(built: Built, *, redacted: bool = False) -> timeline.Timeline:
    """The case's timeline at PRODUCED_AT, with a fixed checkpoint, in UTC."""
    unlocked = unlock(built)
    try:
        case = Casebook(unlocked, categories.load(), built.config).read(built.reference)
        produced_by = DSL
        if redacted:
            from safeguarding import redaction

            users = [(u.name, u.role.value) for u in unlocked.users()]
            case, redactor = redaction.redact(case, users)
            produced_by = redactor.label(DSL)
    finally:
        unlocked.close()
    return timeline.build(
        case,
        school=SCHOOL,
        categories=categories.load(),
        checkpoint=CHECKPOINT,
        produced_at=PRODUCED_AT,
        produced_by=produced_by,
        tz=UTC,
        redacted=redacted,
    )


def unlock(built: Built) -> Unlocked:
    return Vault.open(built.path).unlock(DSL, DSL_PASSPHRASE)


def add_notes(built: Built, *texts: str) -> None:
    """Notes added to the built case by its DSL, at 10:00 on the 20th."""
    unlocked = unlock(built)
    try:
        clock = Clock()
        clock.moment = at(20, 10, 0)
        book = Casebook(unlocked, categories.load(), built.config, now=clock)
        for text in texts:
            book.add(built.reference, Note(text=text))
    finally:
        unlocked.close()
