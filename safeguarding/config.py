"""The school's settings: a TOML file that holds no secret and no record.

Read from `SAFEGUARD_CONFIG`, else ``config.toml`` in the user config folder (platformdirs); a
missing file means the defaults.  A bad value is a `UsageError` naming the key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from safeguarding.deadlines import DEFAULT_COUNTRY, ClosedDays, UnknownPlace
from safeguarding.errors import UsageError

CONTACT_ROUTES = ("lado", "mash", "police", "county")
CONTACT_FIELDS = ("name", "phone", "email")
CALENDAR_KEYS = ("country", "subdiv")
KNOWN_KEYS = frozenset(
    {
        "school_name",
        "categories_file",
        "closure_days",
        "calendar",
        "contacts",
        "terms",
        "lock_after",
        "vault",
    }
)
MAX_CLOSURE_SPAN = 400  # days; a longer range is surely a typing mistake
DEFAULT_LOCK_AFTER = 10.0  # minutes a `safeguard shell` waits for a command before it locks
MAX_LOCK_AFTER = 24 * 60.0


@dataclass(frozen=True)
class Contact:
    name: str = ""
    phone: str = ""
    email: str = ""

    def __str__(self) -> str:
        return " · ".join(part for part in (self.name, self.phone, self.email) if part)


@dataclass(frozen=True)
class Config:
    path: Path
    exists: bool = False
    school_name: str = "Your school"
    categories_file: Path | None = None
    #: The days the school is closed besides weekends: its own (`closure_days` in the file)
    #: and its country's bank holidays (`[calendar]`, England's by default).
    closure_days: ClosedDays = field(default_factory=ClosedDays)
    contacts: dict[str, Contact] = field(default_factory=dict)
    #: The school's terms by name (`[terms]`), each its first and last day, for the report.
    terms: dict[str, tuple[date, date]] = field(default_factory=dict)
    #: Minutes with no command after which `safeguard shell` drops the vault's keys.
    lock_after: float = DEFAULT_LOCK_AFTER
    #: The vault, when neither --vault nor SAFEGUARD_VAULT names one: a file (a relative
    #: path is read beside the config file) or a PostgreSQL URL, as the file gives it.
    vault: str | None = None


def default_path() -> Path:
    variable = os.environ.get("SAFEGUARD_CONFIG")
    if variable:
        return Path(variable).expanduser()
    from platformdirs import user_config_path

    return user_config_path("safeguard", appauthor=False) / "config.toml"


def load(path: Path | None = None) -> Config:
    """The school's config; the defaults when there is no config file.  A file named by
    SAFEGUARD_CONFIG must exist: a misspelt name would otherwise drop the school's name and
    County contacts from every panel and export without a word."""
    named = path is None and bool(os.environ.get("SAFEGUARD_CONFIG"))
    path = path or default_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if named:
            raise UsageError(
                f"there is no config file {path}",
                hint="check SAFEGUARD_CONFIG, or unset it to use the defaults",
            ) from None
        return Config(path=path)
    except OSError as error:
        raise UsageError(f"cannot read the config file {path} ({type(error).__name__})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"the config file {path} is not valid TOML: {error}") from None
    except RecursionError:
        raise UsageError(
            f"the config file {path} nests arrays or tables too deeply to read",
            hint="a config file needs no nesting deeper than [contacts.lado]; see the README",
        ) from None
    return parse(data, path)


def parse(data: dict[str, Any], path: Path) -> Config:
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise UsageError(
            f"{path}: unknown key {unknown[0]!r}",
            hint=f"the keys are: {', '.join(sorted(KNOWN_KEYS))}",
        )
    school = data.get("school_name", Config.school_name)
    if not isinstance(school, str) or not school.strip():
        raise UsageError(f"{path}: 'school_name' must be a non-empty string")
    categories_file = data.get("categories_file")
    if categories_file is not None:
        if not isinstance(categories_file, str) or not categories_file.strip():
            raise UsageError(f"{path}: 'categories_file' must be a path")
        resolved = Path(categories_file).expanduser()
        # A relative path is read beside the config file, wherever safeguard runs from.
        categories_file = resolved if resolved.is_absolute() else path.parent / resolved
    return Config(
        path=path,
        exists=True,
        school_name=school.strip(),
        categories_file=categories_file,
        closure_days=_calendar(
            data.get("calendar", {}), _closure_days(data.get("closure_days", []), path), path
        ),
        contacts=_contacts(data.get("contacts", {}), path),
        terms=_terms(data.get("terms", {}), path),
        lock_after=_lock_after(data.get("lock_after", DEFAULT_LOCK_AFTER), path),
        vault=_vault(data.get("vault"), path),
    )


def _vault(value: Any, path: Path) -> str | None:
    """`vault`: a vault file's path, or a PostgreSQL URL (`postgresql://…`)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise UsageError(
            f"{path}: 'vault' must be a vault file's path or a postgresql:// URL",
            hint='for example vault = "postgresql://school_a@db.trust.example/safeguarding'
            '?schema=school_a"',
        )
    text = value.strip()
    if "://" in text:
        return text
    resolved = Path(text).expanduser()
    return str(resolved if resolved.is_absolute() else path.parent / resolved)


def _lock_after(value: Any, path: Path) -> float:
    """`lock_after`: minutes, more than none and at most a day (a fraction is allowed)."""
    number = not isinstance(value, bool) and isinstance(value, int | float)
    if not number or not 0 < value <= MAX_LOCK_AFTER:
        raise UsageError(
            f"{path}: 'lock_after' must be a number of minutes, more than 0 and at most "
            f"{MAX_LOCK_AFTER:g}",
            hint=f"for example lock_after = {DEFAULT_LOCK_AFTER:g}",
        )
    return float(value)


def _span(item: str) -> tuple[date, date]:
    """``"2026-12-21..2027-01-01"`` as its first and last day (one date: that day alone);
    `ValueError` if it is not one, runs backwards or is too long."""
    first_text, _, last_text = item.partition("..")
    first = date.fromisoformat(first_text.strip())
    last = date.fromisoformat(last_text.strip()) if last_text else first
    if not 0 <= (last - first).days <= MAX_CLOSURE_SPAN:
        raise ValueError("a span that runs backwards or is too long")
    return first, last


def _terms(value: Any, path: Path) -> dict[str, tuple[date, date]]:
    """`[terms]`: each term's name and its first and last day, as a range:
    ``autumn-2026 = "2026-09-02..2026-12-18"``."""
    problem = f"{path}: 'terms' must be a table of names and ranges (autumn-2026 = \"A..B\")"
    if not isinstance(value, dict):
        raise UsageError(problem)
    terms: dict[str, tuple[date, date]] = {}
    for name, span in value.items():
        try:
            if not isinstance(span, str):
                raise ValueError("not a range")
            terms[name.strip().lower()] = _span(span)
        except ValueError:
            raise UsageError(
                f"{problem}; 'terms.{name}' is not a range of dates that runs forwards"
            ) from None
    return terms


def _closure_days(value: Any, path: Path) -> frozenset[date]:
    """Dates, or ranges written ``"2026-12-21..2027-01-01"`` (both ends included)."""
    problem = f"{path}: 'closure_days' must be a list of dates (2026-12-21) or ranges (A..B)"
    if not isinstance(value, list):
        raise UsageError(problem)
    days: set[date] = set()
    for item in value:
        if isinstance(item, date):
            days.add(item)
            continue
        if not isinstance(item, str):
            raise UsageError(problem)
        try:
            first, last = _span(item)
        except ValueError:
            raise UsageError(f"{problem}; {item!r} is not one (or runs backwards)") from None
        span = (last - first).days
        days.update(first + timedelta(days=n) for n in range(span + 1))
    return frozenset(days)


def _calendar(value: Any, school: frozenset[date], path: Path) -> ClosedDays:
    """The school's closure days on top of the bank holidays of `[calendar]`'s country and
    subdivision (``subdiv``): England's when the table is not there.  A table that is there is
    checked now, so a mistyped code stops every case command, not only those with a deadline."""
    if not isinstance(value, dict):
        raise UsageError(f"{path}: 'calendar' must be a table of {', '.join(CALENDAR_KEYS)}")
    for key, text in value.items():
        if key not in CALENDAR_KEYS:
            raise UsageError(
                f"{path}: unknown key 'calendar.{key}'",
                hint=f"the calendar's keys are: {', '.join(CALENDAR_KEYS)}",
            )
        if not isinstance(text, str) or not text.strip():
            raise UsageError(f"{path}: 'calendar.{key}' must be a code such as GB or ENG")
    if not value:
        return ClosedDays(school)
    country = value.get("country", DEFAULT_COUNTRY).strip().upper()
    subdivision = value["subdiv"].strip() if "subdiv" in value else None
    try:
        closed = ClosedDays.checked(school, country, subdivision)
    except UnknownPlace as unknown:
        if unknown.what == "country":
            raise UsageError(
                f"{path}: 'calendar.country' {country!r} is not a country whose bank holidays "
                "are known",
                hint="give its ISO 3166 code, such as GB, IE or US",
            ) from None
        raise UsageError(
            f"{path}: 'calendar.subdiv' {subdivision!r} is not a part of {country}",
            hint=f"{country}'s parts are: {', '.join(unknown.known)}"
            if unknown.known
            else f"leave 'subdiv' out: {country}'s bank holidays are the same everywhere",
        ) from None
    return closed


def _contacts(value: Any, path: Path) -> dict[str, Contact]:
    if not isinstance(value, dict):
        raise UsageError(f"{path}: 'contacts' must be a table of {', '.join(CONTACT_ROUTES)}")
    contacts: dict[str, Contact] = {}
    for route, details in value.items():
        if route not in CONTACT_ROUTES:
            raise UsageError(
                f"{path}: unknown key 'contacts.{route}'",
                hint=f"contacts can be given for: {', '.join(CONTACT_ROUTES)}",
            )
        if not isinstance(details, dict):
            raise UsageError(f"{path}: 'contacts.{route}' must be a table of name, phone, email")
        for key, text in details.items():
            if key not in CONTACT_FIELDS:
                raise UsageError(f"{path}: unknown key 'contacts.{route}.{key}'")
            if not isinstance(text, str):
                raise UsageError(f"{path}: 'contacts.{route}.{key}' must be a string")
        contacts[route] = Contact(**{k: v.strip() for k, v in details.items()})
    return contacts
