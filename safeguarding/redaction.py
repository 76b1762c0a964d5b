"""Redaction for sharing beyond the County team: every name but the subject(s)' replaced by a
role label ("[Discloser]", "[DSL]", "[Contact 2]"), in structured fields and in free text.

It works on a decrypted `CaseFile` in memory and returns a new one; it never touches the vault.
It errs towards hiding: a full name is replaced in any letter case, and each part of a name
(a surname on its own, "Mrs Webb") wherever it is written with a capital.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from safeguarding.casefile import CaseEntry, CaseFile, Kind

#: Payload keys whose values are codes, dates or numbers, never names.
CODE_KEYS = frozenset(
    {
        "category",
        "route",
        "channel",
        "due",
        "format",
        "action",
        "target",
        "outcome",
        "forced",
        "open_actions",
        "redacted",
    }
)

#: The people each kind of entry names, and the role label each gets (unless a vault user).
NAMED_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    Kind.DISCLOSURE: (("disclosed_by", "Discloser"), ("received_by", "Recipient")),
    Kind.REFERRAL: (("contact", "Contact"),),
    Kind.ADVICE: (("source", "Adviser"),),
    Kind.CONVERSATION: (("with", "Person spoken with"),),
    Kind.ACTION: (("owner", "Action owner"),),
}

USER_LABELS = {"dsl": "DSL", "deputy": "Deputy DSL", "head": "Headteacher"}

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

_WORD = re.compile(r"\w+")


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
    _token_pattern: re.Pattern[str] | None = None
    _token_labels: dict[str, str] | None = None

    @classmethod
    def for_case(cls, case: CaseFile, users: Sequence[tuple[str, str]]) -> Redactor:
        """`users`: the vault's users as (name, role); each is labelled by role."""
        disclosure = next((e for e in case.entries if e.kind == Kind.DISCLOSURE), None)
        listed = disclosure.data.get("subjects", []) if disclosure else []
        subjects = tuple(str(s.get("name", "")) for s in listed)
        redactor = cls(subjects=subjects, _people=[], _labels={})
        user_base = {_key(name): USER_LABELS.get(role, "Staff member") for name, role in users}
        for entry in case.entries:
            redactor._add(entry.author, user_base.get(_key(entry.author), "Staff member"))
            for field_name, base in NAMED_FIELDS.get(entry.kind, ()):
                value = entry.data.get(field_name)
                if isinstance(value, str):
                    redactor._add(value, user_base.get(_key(value), base))
        for name, _role in users:
            redactor._add(name, user_base[_key(name)])
        redactor._finish()
        return redactor

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
            self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        protected = {t.casefold() for s in self.subjects for t in _tokens(s)}
        token_labels: dict[str, str] = {}
        for key, name, _ in self._people:
            for token in _tokens(name):
                folded = token.casefold()
                if (
                    len(token) < 3
                    or not token[0].isupper()
                    or folded in ROLE_WORDS
                    or folded in protected
                    or token.isdigit()
                ):
                    continue
                for form in {token, token.upper(), token[0] + token[1:].lower()}:
                    token_labels.setdefault(form, self._labels[key])
        if token_labels:
            forms = sorted(token_labels, key=len, reverse=True)
            self._token_pattern = re.compile(
                rf"(?<!\w)(?:{'|'.join(re.escape(f) for f in forms)})(?!\w)"
            )
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
            result = self._pattern.sub(lambda m: full.get(_key(m.group(0)), "[name]"), result)
        if self._token_pattern is not None and self._token_labels is not None:
            labels = self._token_labels
            result = self._token_pattern.sub(lambda m: labels[m.group(0)], result)
        return result

    def value(self, value: Any, key: str = "") -> Any:
        if key in CODE_KEYS or key == "subjects":
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def entry(self, entry: CaseEntry) -> CaseEntry:
        return replace(entry, author=self.label(entry.author), data=self.value(entry.data))

    def case(self, case: CaseFile) -> CaseFile:
        return replace(case, entries=tuple(self.entry(e) for e in case.entries))


def redact(case: CaseFile, users: Iterable[tuple[str, str]]) -> tuple[CaseFile, Redactor]:
    """The case with every name but the subjects' replaced, and the redactor that did it."""
    redactor = Redactor.for_case(case, list(users))
    return redactor.case(case), redactor
