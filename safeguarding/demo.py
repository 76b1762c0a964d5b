"""A worked section 6 case, recorded through the library into a throwaway vault.

A teaching assistant is found to be friends online with a 15-year-old ex-pupil: the disclosure,
the LADO referral, the advice, actions, conversations, a correction and the closure, on a
simulated clock over the past few weeks.  An allegation, so the case is restricted to the DSL
who records it and the headteacher: the vault's deputy DSL is shown not to see it.  Every name
in it is invented.  It never touches the user's own vault.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from safeguarding import access, categories, clock, deadlines
from safeguarding.casefile import CaseFile
from safeguarding.cases import Casebook, Written
from safeguarding.config import Config, Contact
from safeguarding.entries import (
    Action,
    ActionDone,
    Advice,
    Amendment,
    Closure,
    Conversation,
    Disclosure,
    Draft,
    Referral,
    Subject,
)
from safeguarding.timeline import Timeline
from safeguarding.vault import Vault
from safeguarding.vocabulary import Role

DSL_NAME = "Alex Morgan"
HEAD_NAME = "Jo Head"
DEPUTY_NAME = "Sam Patel"

DEMO_CONFIG_CONTACTS = {
    "lado": Contact("LADO duty officer (example)", "01234 000001", "lado@county.example"),
    "mash": Contact("Children's front door (example)", "01234 000002", "mash@county.example"),
    "police": Contact("Police, non-emergency", "101", ""),
}


#: What the parent disclosed, as the DSL records it.
DISCLOSURE = Disclosure(
    category="staff-pupil-contact",
    subjects=(Subject("Daniel Price", "staff"), Subject("Lily Webb", "ex-pupil")),
    disclosed_by="Karen Webb",
    relationship="parent of an ex-pupil (Lily, 15)",
    where="the school office",
    text="Mrs Webb said: \"I looked at Lily's phone last night. Mr Price, the teaching assistant, "
    "is her friend on Instagram and he has been messaging her, saying she was always his "
    "favourite and asking which school she goes to now. Lily is 15. I don't want him talking "
    'to her."',
    observations="Mrs Webb was upset but calm. She showed me three messages on her own phone; I "
    "did not copy them. I told her I must pass this on today.",
)


@dataclass(frozen=True)
class Step:
    """One step of the walk-through: the command a DSL would type, and what it wrote."""

    command: str
    written: Written


@dataclass(frozen=True)
class Demo:
    config: Config
    steps: tuple[Step, ...]
    case: CaseFile
    #: The case's timeline as `safeguard timeline` shows it (read, and logged, the same way).
    timeline: Timeline
    #: Who may read the case (it is restricted), and the cases the deputy DSL can see.
    members: tuple[str, ...]
    deputy_sees: tuple[str, ...]


class _SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment


def _first_monday(today: date) -> date:
    start = today - timedelta(days=28)
    return start - timedelta(days=start.weekday())


def run(folder: Path, today: date | None = None) -> Demo:
    """Build the demo vault in `folder` and walk the case; returns what to show."""

    config = Config(
        path=folder / "config.toml",
        school_name="Caldecote Primary School (demo)",
        contacts=dict(DEMO_CONFIG_CONTACTS),
    )
    unlocked, _ = Vault.create(folder / "demo.db", DSL_NAME, secrets.token_urlsafe(24))
    unlocked.add_user(HEAD_NAME, Role.HEAD, secrets.token_urlsafe(24))
    deputy_passphrase = secrets.token_urlsafe(24)
    unlocked.add_user(DEPUTY_NAME, Role.DEPUTY, deputy_passphrase)
    monday = _first_monday(today or clock.now().astimezone().date())
    sim = _SimulatedClock(_local(monday, 8, 50))
    book = Casebook(unlocked, categories.load(), config, now=sim)
    steps: list[Step] = []

    def step(day: date, hour: int, minute: int, command: str, act: Callable[[], Written]) -> int:
        sim.moment = _local(day, hour, minute)
        written = act()
        steps.append(Step(command, written))
        return written.entry

    def at(day: date, hour: int, minute: int) -> datetime:
        return _local(day, hour, minute)

    def working(n: int) -> date:
        return deadlines.add_working_days(monday, n)

    def adding(draft: Draft, moment: datetime | None = None) -> Callable[[], Written]:
        return lambda: book.add(ref, draft, moment)

    try:
        ref = ""

        def record() -> Written:
            nonlocal ref
            written = book.open(DISCLOSURE, at(monday, 8, 35))
            ref = written.reference
            return written

        step(
            monday,
            8,
            50,
            "safeguard record --category staff-pupil-contact --subject 'Daniel Price' "
            "--subject-role staff --subject 'Lily Webb' --subject-role ex-pupil "
            f"--disclosed-by 'Karen Webb' … --at '{monday} 08:35'",
            record,
        )
        step(
            monday,
            10,
            5,
            "safeguard refer REF --to lado --contact 'J. Okafor, LADO' --reference LADO-0412",
            adding(
                Referral(
                    route="lado",
                    contact="J. Okafor, LADO",
                    their_reference="LADO-0412",
                    text="Told the LADO what Mrs Webb disclosed and that Mr Price teaches Year 5. "
                    "The LADO will discuss it with the police and call back this afternoon.",
                ),
                at(monday, 9, 55),
            ),
        )
        step(
            monday,
            15,
            40,
            "safeguard advice REF --from 'J. Okafor, LADO'",
            adding(
                Advice(
                    source="J. Okafor, LADO",
                    text="Not a police matter at this stage. The headteacher should meet Mr Price "
                    "with an HR adviser, remind him of the policy (sections 3 and 4) and ask him "
                    "to end the contact. Support Lily through her parents. Report back by Friday.",
                ),
                at(monday, 15, 30),
            ),
        )
        step(
            monday,
            15,
            50,
            f"safeguard action add REF --owner Headteacher --due {working(2)}",
            adding(
                Action(
                    owner="Headteacher",
                    due=working(2),
                    text="Meet Mr Price with the HR adviser; ask him to end all online contact.",
                )
            ),
        )
        step(
            monday,
            15,
            55,
            f"safeguard action add REF --owner '{DSL_NAME}' --due {working(1)}",
            adding(
                Action(
                    owner=DSL_NAME,
                    due=working(1),
                    text="Call Lily's parents: explain what happens next and agree support.",
                )
            ),
        )
        tuesday = working(1)
        call = step(
            tuesday,
            9,
            20,
            "safeguard conversation REF --with 'Karen Webb' --channel phone",
            adding(
                Conversation(
                    with_whom="Karen Webb",
                    channel="phone",
                    text="Explained the LADO's advice. Lily has blocked Mr Price. Agreed a "
                    "check-in call next week.",
                ),
                at(tuesday, 9, 5),
            ),
        )
        step(
            tuesday,
            9,
            25,
            "safeguard action done REF 2",
            adding(ActionDone(action=2, text="Spoke to Lily's parents (see entry above).")),
        )
        wednesday = working(2)
        thursday = working(3)
        step(
            thursday,
            16,
            0,
            "safeguard conversation REF --with 'Daniel Price, with the HR adviser' "
            f"--channel meeting --at '{wednesday} 13:00'",
            adding(
                Conversation(
                    with_whom="Daniel Price, with the HR adviser",
                    channel="meeting",
                    text="Mr Price accepted that he had accepted Lily's friend request last year "
                    "and messaged her. He removed the contact during the meeting and will "
                    "attend safeguarding training.",
                ),
                at(wednesday, 13, 0),
            ),
        )
        step(
            thursday,
            16,
            5,
            f"safeguard action done REF 1 --at '{wednesday} 14:00'",
            adding(
                ActionDone(action=1, text="Meeting held on Wednesday; contact ended."),
                at(wednesday, 14, 0),
            ),
        )
        step(
            thursday,
            16,
            10,
            f"safeguard amend REF {call}",
            adding(
                Amendment(
                    target=call,
                    text="Correction: the call was with Lily's father, Paul Webb, not her mother.",
                )
            ),
        )
        friday = working(4)
        step(
            friday,
            11,
            0,
            "safeguard advice REF --from 'J. Okafor, LADO'",
            adding(
                Advice(
                    source="J. Okafor, LADO",
                    text="Outcome agreed at the LADO review: substantiated. Managed by the school "
                    "through a written warning and training; no further LADO action.",
                )
            ),
        )
        step(
            friday,
            11,
            30,
            "safeguard close REF --outcome substantiated",
            adding(
                Closure(
                    outcome="substantiated",
                    text="Closed on the LADO's advice. Record kept as an allegation file.",
                )
            ),
        )
        case = book.read(ref)
        sim.moment = _local(friday, 11, 35)
        view = access.view(
            unlocked,
            ref,
            categories=book.categories,
            school=config.school_name,
            closures=config.closure_days,
            now=sim,
        )
        deputy = Vault.open(folder / "demo.db").unlock(DEPUTY_NAME, deputy_passphrase)
        try:
            seen = tuple(s.reference for s in Casebook(deputy, book.categories, config).list("all"))
        finally:
            deputy.close()
        return Demo(config, tuple(steps), case, view, steps[0].written.members or (), seen)
    finally:
        unlocked.close()


def _local(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute)).astimezone()
