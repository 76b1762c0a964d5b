"""A case's timeline: the one model every view of a chronology is drawn from, and its Rich
rendering (the terminal, and the txt and html exports, are recordings of the same renderables).

It is built from a `CaseFile` and only reads; it never prints (the console is the caller's) and
never reads the clock or the time zone itself: `produced_at` and `tz` are given, so a rendering
is reproducible.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from safeguarding import flow
from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.casestate import CaseState
from safeguarding.categories import Categories, Category
from safeguarding.chronology import Checkpoint
from safeguarding.entries import Fact, Referral, kind_of, title_of
from safeguarding.errors import NotFound
from safeguarding.vocabulary import Kind, Stage

MARKING = "OFFICIAL-SENSITIVE"
#: How many hex digits of the checkpoint's MAC are shown (what `verify --checkpoint` needs).
MAC_PREFIX = 16

REDACTION_NOTICE = "REDACTED: the names of everyone but the subject(s) are replaced by role labels."


@dataclass(frozen=True)
class Item:
    """One entry as a timeline shows it: `number` is its number in the case, which is what
    is shown; `id`, its place in the vault's chronology, links amendments to what they
    correct (`amends`, `amended_by`)."""

    id: int
    number: int
    kind: str
    title: str
    at: datetime
    recorded_at: datetime
    late: bool
    author: str
    facts: tuple[Fact, ...]
    text: str
    observations: str
    amends: int | None
    amended_by: tuple[int, ...]
    data: dict[str, Any] = field(repr=False)
    after: tuple[Fact, ...] = ()  # shown after the text
    byline: str = ""  # who a page says wrote it, if not just `author`
    #: What was said of it since (a transfer withdrawn), the last of `after`: in its JSON too.
    since: tuple[Fact, ...] = ()

    @property
    def by(self) -> str:
        return self.byline or self.author


@dataclass(frozen=True)
class Day:
    day: date
    items: tuple[Item, ...]


@dataclass(frozen=True)
class ActionRow:
    number: int
    text: str
    owner: str
    due: date
    set_at: datetime
    done_at: datetime | None
    overdue: bool
    #: The school whose case it is, for an action of a file received from another school.
    school: str = ""


@dataclass(frozen=True)
class Timeline:
    """Everything a chronology shows, already decided: a renderer only lays it out."""

    school: str
    reference: str
    category_code: str
    category_title: str
    section: str
    subjects: tuple[tuple[str, str], ...]
    status: str
    stage: str
    opened_at: datetime
    closed_at: datetime | None
    outcome: str | None
    referrals: tuple[str, ...]
    next_title: str
    next_due: date | None
    next_overdue: bool
    overdue: tuple[str, ...]
    items: tuple[Item, ...]
    actions: tuple[ActionRow, ...]
    checkpoint: Checkpoint
    produced_at: datetime
    produced_by: str
    tz: tzinfo | None = None
    redacted: bool = False
    restricted: bool = False
    #: A person's file: its cover sheet, shown in place of a case's header facts.
    cover: tuple[tuple[str, str], ...] = ()
    #: What a redacted copy says of itself, at its head.
    notice: str = REDACTION_NOTICE

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def when(self, moment: datetime) -> str:
        return self.local(moment).strftime("%Y-%m-%d %H:%M")

    @property
    def checkpoint_short(self) -> str:
        return f"{self.checkpoint.seq}:{self.checkpoint.mac_hex[:MAC_PREFIX]}"

    def item(self, entry_id: int) -> Item | None:
        return next((i for i in self.items if i.id == entry_id), None)

    @property
    def days(self) -> list[Day]:
        """Entries by local day, in event order; an amendment also stays in its own place."""
        days: list[Day] = []
        current: list[Item] = []
        for item in self.items:
            day = self.local(item.at).date()
            if current and self.local(current[0].at).date() != day:
                days.append(Day(self.local(current[0].at).date(), tuple(current)))
                current = []
            current.append(item)
        if current:
            days.append(Day(self.local(current[0].at).date(), tuple(current)))
        return days


#: The header's line for a restricted case.
RESTRICTED = "restricted: its members and the recovery key only"


def header_facts(t: Timeline) -> list[tuple[str, str]]:
    """The header's label and value pairs, as the PDF and the HTML page show them."""
    if t.cover:
        return list(t.cover)
    category = t.category_code
    if t.category_title:
        category = f"{t.category_title} ({t.category_code})"
    status = t.status if t.status == t.stage else f"{t.status} ({t.stage})"
    if t.outcome:
        status += f", outcome: {t.outcome}"
    next_text = t.next_title
    if t.next_due is not None:
        next_text += f", by the end of {t.next_due.strftime('%a %d %b %Y')}"
    rows = [("School", t.school), ("Category", category)]
    if t.section:
        rows.append(("Policy section", t.section))
    rows += [
        ("Subject(s)", "\n".join(f"{name} ({role})" for name, role in t.subjects)),
        *([("Access", RESTRICTED)] if t.restricted else []),
        ("Status", status),
        ("Opened", t.when(t.opened_at)),
        ("Closed", t.when(t.closed_at) if t.closed_at else "—"),
        ("Referral", "\n".join(t.referrals) or "none recorded"),
        ("Next", next_text),
        ("Overdue", "\n".join(t.overdue) or "nothing"),
    ]
    return rows


def action_status(t: Timeline, action: ActionRow) -> str:
    if action.done_at is not None:
        return f"done {t.local(action.done_at).strftime('%Y-%m-%d')}"
    return "OVERDUE" if action.overdue else "open"


def right_to_left(text: str) -> bool | None:
    """Whether `text` reads right to left: most of its letters are Arabic, Hebrew or another
    right-to-left script; None when it has no letter (digits, punctuation, nothing).

    Most letters rather than the first (Unicode's default): a DSL writes in English, and an
    English sentence that begins with a name in Arabic script ("عائشة said her teacher
    messaged her") reads left to right."""
    left = right = 0
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            left += 1
        elif kind in ("R", "AL"):
            right += 1
    if not left and not right:
        return None
    return right > left


def paragraphs(text: str) -> list[tuple[str, bool]]:
    """`text` as runs of lines that read the same way, and whether each reads right to left.
    A line with no strong character goes with the run before it, so text in one direction
    (nearly all text) stays one run."""
    runs: list[tuple[list[str], bool]] = []
    for line in text.split("\n"):
        rtl = right_to_left(line)
        if runs and (rtl is None or rtl == runs[-1][1]):
            runs[-1][0].append(line)
        else:
            runs.append(([line], bool(rtl)))
    return [("\n".join(lines), rtl) for lines, rtl in runs]


# Building ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Since:
    """What has been said of a case's entries since they were written (a transfer's receipt or
    withdrawal): `notes`, shown after an entry, by its id; `late`, what else is overdue on a
    day (a transfer's receipt), said after the case's own."""

    notes: Mapping[int, tuple[Fact, ...]]
    late: Callable[[date], Sequence[str]]


def build(
    case: CaseFile,
    *,
    school: str,
    categories: Categories | None,
    checkpoint: Checkpoint,
    produced_at: datetime,
    produced_by: str,
    closures: Container[date] = (),
    tz: tzinfo | None = None,
    redacted: bool = False,
    since: Since | None = None,
) -> Timeline:
    """The timeline of `case` as it stands at `produced_at` (which decides what is overdue);
    `since`, what has been said of its entries since they were written."""
    state = flow.fold(case)
    category = _category(categories, state.category)
    today = produced_at.astimezone(tz).date()
    if category is not None:
        step = flow.next_step(state, category, today, closures)
        overdue = tuple(
            f"{o.what}, due {o.due.isoformat()}"
            for o in flow.overdue(state, category, today, closures)
        ) + tuple(since.late(today) if since is not None else ())
        next_title, next_due, next_overdue = step.title, step.due, step.overdue
    else:
        next_title, next_due, next_overdue = "(category not in the categories file)", None, False
        overdue = ()
    if state.stage is Stage.CLOSED:
        next_title, next_due, next_overdue = "None: the case is closed", None, False
    said = since.notes if since is not None else {}
    items = tuple(_item(entry, case, said.get(entry.id, ())) for entry in case.entries)
    return Timeline(
        school=school,
        reference=case.reference,
        category_code=state.category,
        category_title=category.title if category else "",
        section=category.section if category else "",
        subjects=tuple((str(s.get("name", "")), str(s.get("role", ""))) for s in state.subjects),
        status=state.status,
        stage=state.stage.value,
        opened_at=state.disclosed_at,
        closed_at=state.closed_at,
        outcome=state.outcome,
        referrals=tuple(Referral.line(e, tz) for e in case.entries if e.kind == Referral.kind),
        next_title=next_title,
        next_due=next_due,
        next_overdue=next_overdue,
        overdue=overdue,
        items=items,
        actions=_action_rows(state, today),
        checkpoint=checkpoint,
        produced_at=produced_at,
        produced_by=produced_by,
        tz=tz,
        redacted=redacted,
        restricted=case.restricted,
    )


def _action_rows(state: CaseState, today: date) -> tuple[ActionRow, ...]:
    return tuple(
        ActionRow(
            number=a.number,
            text=a.text,
            owner=a.owner,
            due=a.due,
            set_at=a.added_at,
            done_at=a.done_at,
            overdue=not a.done and state.stage is not Stage.CLOSED and today > a.due,
        )
        for a in sorted(state.actions.values(), key=lambda a: a.number)
    )


def _category(categories: Categories | None, code: str) -> Category | None:
    if categories is None:
        return None
    try:
        return categories.lookup(code)
    except NotFound:
        return None


def _item(entry: CaseEntry, case: CaseFile, since: tuple[Fact, ...] = ()) -> Item:
    kind = kind_of(entry.kind)
    return Item(
        id=entry.id,
        number=entry.number,
        kind=entry.kind,
        title=title_of(entry.kind),
        at=entry.event_at,
        recorded_at=entry.recorded_at,
        late=entry.late,
        author=entry.author,
        facts=tuple(kind.facts(entry, case)),
        text=entry.text,
        observations=kind.opinion(entry),
        amends=entry.amends,
        amended_by=entry.amended_by,
        data=entry.data,
        after=(*kind.after(entry), *since),
        byline=kind.byline(entry),
        since=since,
    )


def stub(t: Timeline, item: Item) -> tuple[str, ...] | None:
    """What an amendment shows at its own time, every format alike: a pointer to the entry it
    corrects, where it is shown in full with any correction of it beneath, and which entries
    corrected it in turn.  None for any other entry, or one whose target is not in `t`."""
    if item.kind != Kind.AMENDMENT or item.amends is None:
        return None
    target = t.item(item.amends)
    if target is None:
        return None
    lines = [
        f"Corrects entry {target.number} ({target.title}, {t.when(target.at)}); shown in full "
        "there."
    ]
    # Only later entries: those are what the full view nests beneath this one.
    later = [
        str(shown.number)
        for i in item.amended_by
        if i > item.id and (shown := t.item(i)) is not None
    ]
    if later:
        which = f"entry {later[0]}" if len(later) == 1 else f"entries {', '.join(later)}"
        lines.append(f"Itself corrected by {which}, shown there too.")
    return tuple(lines)


# Display safety (the JSON is `documents_json.case`, the Rich layout `timeline_rich`) -------------

#: Control characters as visible symbols (U+2400's control pictures; C1 as \\xNN), so that
#: recorded text can never move the cursor, clear the screen or ring the bell.  A newline and a
#: tab stay what they are; a Windows line ending ("\\r\\n") is shown as a newline.
#: The bidirectional embeddings, overrides and isolates: recorded text holding one could show
#: its letters in another order than they were written ("Trojan source"), so each is shown as
#: its code.  The marks (LRM, RLM, ALM), which move no letter, stay.
_BIDI_CONTROLS = {
    code: f"[U+{code:04X}]" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
}
_VISIBLE = {
    **{code: chr(0x2400 + code) for code in range(0x20) if code not in (0x09, 0x0A)},
    0x7F: "\u2421",
    **{code: f"\\x{code:02x}" for code in range(0x80, 0xA0)},
    **_BIDI_CONTROLS,
}


#: The same as escapes in plain ASCII, for a font without the control pictures (the PDF's).
_ESCAPED = {
    **{code: f"\\x{code:02x}" for code in range(0x20) if code != 0x0A},
    0x09: "    ",
    0x7F: "\\x7f",
    **{code: f"\\x{code:02x}" for code in range(0x80, 0xA0)},
    **_BIDI_CONTROLS,
}


def visible(text: str, *, pictures: bool = True) -> str:
    """Recorded text as a terminal or an export may show it: control characters made visible
    (as control pictures, or with `pictures=False` as `\\xNN`).  Only for display; the record
    itself (and `--json`) keeps every character."""
    if text.isprintable():  # no control character at all, nor a line break: shown as it is
        return text
    return text.replace("\r\n", "\n").translate(_VISIBLE if pictures else _ESCAPED)
