"""Redaction for sharing beyond the County team: every name but the subject(s)' replaced by a
role label ("[Discloser]", "[DSL]", "[Contact 2]"), in structured fields and in free text.

It works on a decrypted `CaseFile` in memory and returns a new one; it never touches the vault.
A full name is replaced in any letter case, with a title before it ("Mrs Karen Webb").  A part
of a name (a surname, a first name) is replaced only where it stands for that person: after a
title ("Mrs Webb", "Dr. Okafor") or on its own ("Okafor will call"), written with a capital.
Beside another capitalised name it is someone else ("Paul Webb", when the discloser is Karen
Webb) and is left as written: a wrong label is worse than a missed name, and the README tells
the user to read a redacted export before sending it.  A part two people share gets the neutral
"[name]".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.entries import kind_of, kinds
from safeguarding.vocabulary import Kind

#: Payload keys whose values are codes, dates or numbers, never names, whatever the kind.
CODE_KEYS = frozenset().union(*(kind.codes for kind in kinds()))

USER_LABELS = {
    "dsl": "DSL",
    "deputy": "Deputy DSL",
    "head": "Headteacher",
    "chair": "Chair of governors",
}

#: Words that are roles, titles or places rather than names: never redacted on their own, and a
#: "name" made only of them (an action owned by "Headteacher") is left as it is.
_ROLE_WORDS_TEXT = """mr mrs ms miss mx dr sir dame prof lado dsl ddsl mash police county school
    head headteacher
    teacher deputy officer duty team the and of for hr adviser advisor social care worker parent
    parents mum dad mother father carer guardian year class office safeguarding lead designated
    council services service children front door governor governors chair senco staff pupil
    manager business it support assistant ta tutor nurse doctor gp cafcass nspcc desk unit
    local authority"""
ROLE_WORDS = frozenset(_ROLE_WORDS_TEXT.split())
#: Capitalised words that are never anyone's name, so do not hide a name beside them: "I told
#: Mrs Webb I would" is about Mrs Webb.
PRONOUNS = frozenset({"i", "i'm", "i've", "i'd", "i'll", "i’m", "i’ve", "i’d", "i’ll"})
#: Two-letter words that start sentences: a two-letter part of a name ("Ed", "Li", "Jo") is
#: replaced on its own, unless it is one of these.
_SHORT_WORDS_TEXT = """am an as at be by do go he hi if in is it me my no of oh ok on or so to up
us we"""
SHORT_WORDS = frozenset(_SHORT_WORDS_TEXT.split())
#: Titles: a part of a name after one of these is that person ("Mrs Webb", "Dr. Okafor").
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame"})
#: Titles that say whether a man or a woman is meant: a part of a name that the case's texts
#: give both a man's and a woman's title ("Mr Webb" and "Mrs Webb") names two people.
GENDERED_TITLES = {"mr": "m", "sir": "m", "mrs": "f", "ms": "f", "miss": "f", "dame": "f"}
#: The label for a part of a name that two people of the case share.
SHARED = "[name]"

_WORD = re.compile(r"\w+")
#: A word of free text as a name is written: "Webb", "Webb's", "Webb-Smith", "O'Brien".
_NAME_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_TITLE_PREFIX = rf"(?:(?:{'|'.join(sorted(TITLES))})\.?\s+)?"
#: A man's or a woman's title and the capitalised word after it.
_GENDERED = re.compile(
    rf"(?<!\w)(?P<title>{'|'.join(sorted(GENDERED_TITLES))})\.?\s+(?P<part>\w+(?:['’-]\w+)*)",
    re.IGNORECASE,
)


def _key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _tokens(name: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFC", name))


def is_role(name: str) -> bool:
    """True for a 'name' made only of role words, e.g. "Headteacher" or "LADO duty officer"."""
    words = _tokens(name)
    return bool(words) and all(w.casefold() in ROLE_WORDS or w.isdigit() for w in words)


@dataclass
class Redactor:
    """Role labels for the people of one case, and the text replacement that applies them."""

    subjects: tuple[str, ...]
    _people: list[tuple[str, str, str]]  # key, name as first seen, base label
    _labels: dict[str, str]
    _pattern: re.Pattern[str] | None = None
    _token_labels: dict[str, str] | None = None
    #: The people whose surname the case's texts give both a man's and a woman's title.
    _two_titled: frozenset[str] = frozenset()

    #: Whether the subjects other than those kept are redacted too (a subject access request).
    _hide_subjects: bool = False

    @classmethod
    def for_case(cls, case: CaseFile, users: Sequence[tuple[str, str]]) -> Redactor:
        """`users`: the vault's users as (name, role); each is labelled by role."""
        disclosure = next((e for e in case.entries if e.kind == Kind.DISCLOSURE), None)
        listed = disclosure.data.get("subjects", []) if disclosure else []
        subjects = tuple(str(s.get("name", "")) for s in listed)
        return cls(subjects=subjects, _people=[], _labels={})._made(case.entries, users)

    @classmethod
    def for_person(
        cls,
        name: str,
        entries: Sequence[CaseEntry],
        users: Sequence[tuple[str, str]],
        others: Iterable[tuple[str, str]] = (),
    ) -> Redactor:
        """Every name in `entries` but one person's `name`: the other subjects' too ("[Subject
        2]"), and `others` (name, label) besides (a subject access request)."""
        redactor = cls(subjects=(name,), _people=[], _labels={}, _hide_subjects=True)
        for entry in entries:
            for subject in entry.data.get("subjects", []) if entry.kind == Kind.DISCLOSURE else []:
                redactor._add(str(subject.get("name", "")), "Subject")
        for other, label in others:
            redactor._add(other, label)
        return redactor._made(entries, users)

    def _made(self, entries: Sequence[CaseEntry], users: Sequence[tuple[str, str]]) -> Redactor:
        redactor = self
        user_base = {_key(name): USER_LABELS.get(role, "Staff member") for name, role in users}
        for entry in entries:
            redactor._add(entry.author, user_base.get(_key(entry.author), "Staff member"))
            for field_name, base in kind_of(entry.kind).named:
                value = entry.data.get(field_name)
                if isinstance(value, str):
                    # Across the cases of a subject access request a role in one ("the
                    # discloser") is not a role in another: there, a person is a person.
                    base = "Person" if self._hide_subjects else base
                    redactor._add(value, user_base.get(_key(value), base))
        for name, _role in users:
            redactor._add(name, user_base[_key(name)])
        redactor._finish()
        redactor._two_titled = redactor._titled_both_ways(_strings([e.data for e in entries]))
        return redactor

    def _titled_both_ways(self, texts: Iterable[str]) -> frozenset[str]:
        """The labels of the people one of whose name parts the texts write after both a man's
        and a woman's title: "Mr Webb" and "Mrs Webb" are two people, whichever is listed."""
        if self._token_labels is None:
            return frozenset()
        genders: dict[str, set[str]] = {}
        for text in texts:
            for match in _GENDERED.finditer(unicodedata.normalize("NFC", text)):
                part = match.group("part")
                part = part[:-2] if part[-2:] in ("'s", "’s") else part
                label = self._token_labels.get(part)
                if label is not None and label != SHARED:
                    gender = GENDERED_TITLES[match.group("title").casefold()]
                    genders.setdefault(label, set()).add(gender)
        return frozenset(label for label, found in genders.items() if len(found) > 1)

    def _add(self, name: str, base: str) -> None:
        key = _key(name)
        if not key or is_role(name) or key in {_key(s) for s in self.subjects}:
            return
        if all(k != key for k, _, _ in self._people):
            self._people.append((key, name, base))

    def _finish(self) -> None:
        counts: dict[str, int] = {}
        for _, _, base in self._people:
            counts[base] = counts.get(base, 0) + 1
        seen: dict[str, int] = {}
        for key, _, base in self._people:
            seen[base] = seen.get(base, 0) + 1
            label = base if counts[base] == 1 else f"{base} {seen[base]}"
            self._labels[key] = f"[{label}]"  # brackets show a reader what was replaced
        names = sorted((name for _, name, _ in self._people), key=len, reverse=True)
        if names:
            alternatives = "|".join(re.escape(unicodedata.normalize("NFC", n)) for n in names)
            self._pattern = re.compile(
                rf"(?<!\w){_TITLE_PREFIX}(?P<name>{alternatives})(?!\w)", re.IGNORECASE
            )
        protected = {t.casefold() for s in self.subjects for t in _tokens(s)}
        token_labels: dict[str, str] = {}
        for key, name, _ in self._people:
            for token in _tokens(name):
                folded = token.casefold()
                if (
                    len(token) < 2
                    or folded in SHORT_WORDS
                    or not token[0].isupper()
                    or folded in ROLE_WORDS
                    or folded in protected
                    or token.isdigit()
                ):
                    continue
                for form in {token, token.upper(), token[0] + token[1:].lower()}:
                    known = token_labels.setdefault(form, self._labels[key])
                    if known != self._labels[key]:
                        token_labels[form] = SHARED  # two people's: no one's label
        if token_labels:
            self._token_labels = token_labels

    @property
    def names(self) -> list[str]:
        """Everyone whose name is replaced, as first seen."""
        return [name for _, name, _ in self._people]

    def label(self, name: str) -> str:
        """The label for a person (a name nobody registered is redacted as text)."""
        return self._labels.get(_key(name)) or self.text(name)

    def text(self, text: str) -> str:
        result = unicodedata.normalize("NFC", text)
        if self._pattern is not None:
            full = self._labels
            result = self._pattern.sub(lambda m: full.get(_key(m.group("name")), SHARED), result)
        if self._token_labels is not None:
            result = self._parts(result, self._token_labels, self._two_titled)
        return result

    @staticmethod
    def _parts(text: str, labels: dict[str, str], two_titled: frozenset[str] = frozenset()) -> str:
        """Parts of names replaced where they stand for their person (see the module's doc).

        Capitalised words next to each other (a space, or a title's dot and a space, between)
        make a run.  A run holding a capitalised word that is not a title, a role word or a part
        of a name is someone else's name, and is left; so is one with parts of two people's.
        Otherwise each title-and-parts in it becomes the person's label, or `SHARED` after a
        man's or a woman's title when the person is in `two_titled` (which of the two is meant
        cannot be told).
        """
        runs: list[list[tuple[int, int, str]]] = []  # (start, end, kind or label) per word
        previous: tuple[int, str] | None = None  # end of the last capitalised word, its kind
        for match in _NAME_WORD.finditer(text):
            word = match.group(0)
            core = word[:-2] if word[-2:] in ("'s", "’s") else word
            if not core[:1].isupper():
                previous = None
                continue
            folded = core.casefold()
            if folded in TITLES:
                kind = "title"
            elif core in labels:
                kind = labels[core]
            elif folded in ROLE_WORDS or folded in PRONOUNS or core.isdigit():
                kind = "role"
            else:
                kind = "other"
            gap = text[previous[0] : match.start()] if previous is not None else ""
            if previous is not None and previous[1] == "title" and gap.startswith("."):
                gap = gap[1:]
            joined = previous is not None and gap.isspace() and gap.count("\n") <= 1
            if not joined:
                runs.append([])
            runs[-1].append((match.start(), match.start() + len(core), kind))
            previous = (match.end(), kind)
        replacements: list[tuple[int, int, str]] = []
        for run in runs:
            kinds = {kind for _, _, kind in run}
            people = kinds - {"title", "role"}
            if "other" in kinds or len(people) != 1:
                continue
            label = people.pop()
            start: int | None = None
            gendered = False
            for index, (begin, end, kind) in enumerate(run):
                if kind == "title":
                    start = begin if start is None else start
                    gendered = gendered or text[begin:end].casefold() in GENDERED_TITLES
                elif kind == label:
                    start = begin if start is None else start
                    following = run[index + 1][2] if index + 1 < len(run) else None
                    if following != label:
                        shown = SHARED if gendered and label in two_titled else label
                        replacements.append((start, end, shown))
                        start, gendered = None, False
                else:
                    start, gendered = None, False
        for begin, end, label in reversed(replacements):
            text = text[:begin] + label + text[end:]
        return text

    def value(self, value: Any, key: str = "") -> Any:
        if key == "subjects" and self._hide_subjects and isinstance(value, list):
            return [self._subject(s) for s in value]
        if key in CODE_KEYS or key == "subjects":
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def _subject(self, subject: Any) -> Any:
        """A subject kept as they are if theirs is the name kept, else only their label and
        role."""
        if not isinstance(subject, dict):
            return subject
        name = str(subject.get("name", ""))
        if self._kept(name):
            return subject
        return {"name": self.label(name), "role": subject.get("role", "")}

    def entry(self, entry: CaseEntry) -> CaseEntry:
        data = self.value(entry.data)
        if self._hide_subjects and "dob" in data and not self._kept(entry.data.get("name")):
            data = {k: v for k, v in data.items() if k not in ("dob", "person")}
        return replace(entry, author=self.label(entry.author), data=data)

    def _kept(self, name: Any) -> bool:
        return isinstance(name, str) and _key(name) in {_key(s) for s in self.subjects}

    def case(self, case: CaseFile) -> CaseFile:
        return replace(case, entries=tuple(self.entry(e) for e in case.entries))


def _strings(value: Any) -> Iterator[str]:
    """Every string in a payload, its lists and dicts."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def redact(case: CaseFile, users: Iterable[tuple[str, str]]) -> tuple[CaseFile, Redactor]:
    """The case with every name but the subjects' replaced, and the redactor that did it."""
    redactor = Redactor.for_case(case, list(users))
    return redactor.case(case), redactor
