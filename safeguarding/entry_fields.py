"""What an entry's fields may hold: one-line names, free text kept exactly, known choices."""

from __future__ import annotations

import unicodedata

from safeguarding.errors import UsageError
from safeguarding.vocabulary import Route


class SubjectRole:
    ALL = ("pupil", "ex-pupil", "staff", "volunteer", "parent", "other")


CHANNELS = ("phone", "email", "meeting", "in-person", "other")
MAX_SHORT = 200
MAX_TEXT = 100_000


def _utf8(text: str, what: str) -> str:
    """Refuse what cannot be stored as UTF-8 (lone surrogates, e.g. from undecodable argv)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{what} is not UTF-8 text; nothing was saved") from None
    return text


def short(value: str | None, what: str) -> str:
    """A name, place or reference: one line, not empty."""
    text = unicodedata.normalize("NFC", _utf8(value or "", what)).strip()
    if not text:
        raise UsageError(f"{what} cannot be empty")
    if len(text) > MAX_SHORT:
        raise UsageError(f"{what} can be at most {MAX_SHORT} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise UsageError(f"{what} must be one line")
    return text


def long_text(value: str | None, what: str, *, required: bool = True) -> str:
    """Free text exactly as given, every character kept (line endings, trailing newlines,
    control characters): a record reads back byte for byte.  Only empty or whitespace-only
    text and text over `MAX_TEXT` characters are refused."""
    text = _utf8(value or "", what)
    if not text.strip():
        if required:
            raise UsageError(f"{what} cannot be empty; nothing was saved")
        return ""
    if len(text) > MAX_TEXT:
        raise UsageError(f"{what} is longer than {MAX_TEXT:,} characters; nothing was saved")
    return text


def choice(value: str, choices: tuple[str, ...], what: str) -> str:
    cleaned = value.strip().lower()
    if cleaned not in choices:
        raise UsageError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")
    return cleaned


def check_no_referral_details(route: str, contact: str | None, reference: str | None) -> None:
    """A decision not to refer (route `none`) has no one contacted and no reference of theirs."""
    if route == Route.NONE and (contact or reference):
        given = " and ".join(
            option
            for option, value in (("--contact", contact), ("--reference", reference))
            if value
        )
        raise UsageError(
            f"--to none records a decision not to refer: it takes no {given}; nothing was saved",
            hint="for a referral, give --to with who it went to (e.g. --to lado)",
        )
