"""The categories a concern is recorded under: data (a TOML file), never code.

The packaged file comes from the school's social networking policy and KCSIE; a school points
`categories_file` in its config at its own.  Loading never prints; a bad file is a `UsageError`
naming the file, the category and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from safeguarding import retention_rules
from safeguarding.errors import UsageError
from safeguarding.retention_rules import DEFAULT_RETIREMENT_AGE, Retention
from safeguarding.vocabulary import Route

ROUTE_TITLES = {
    Route.LADO: "the LADO (Local Authority Designated Officer)",
    Route.MASH: "children's social care (MASH / front door)",
    Route.POLICE: "the police",
    Route.COUNTY: "the County Safeguarding team",
    Route.HEADTEACHER: "the headteacher",
    Route.OTHER_SCHOOL: "the other school",
    Route.OTHER: "another agency",
    Route.NONE: "no one (a decision not to refer)",
}

#: Routes whose contact details come from the [contacts] table of the config file.
COUNTY_ROUTES = frozenset({Route.LADO, Route.MASH, Route.POLICE, Route.COUNTY})

#: Outcomes of an allegation about an adult who works with children (KCSIE).
ALLEGATION_OUTCOMES = ("substantiated", "unsubstantiated", "unfounded", "false", "malicious")
#: Outcomes of every other case.
CONCERN_OUTCOMES = ("resolved", "no-further-action", "referred-on")
OUTCOME_SETS = {
    "allegation": ALLEGATION_OUTCOMES,
    "concern": CONCERN_OUTCOMES,
    "any": ALLEGATION_OUTCOMES + CONCERN_OUTCOMES,  # only for a case whose category has gone
}
#: What a categories file may say in `outcomes`.
FILE_OUTCOMES = ("allegation", "concern")


@dataclass(frozen=True)
class Category:
    code: str
    title: str
    section: str
    route: Route
    deadline_working_days: int | None
    guidance: str
    outcomes: str = "concern"
    #: How long a case of this category is kept, and what then (None: no rule, kept until
    #: someone decides).
    retention: Retention | None = None

    @property
    def allowed_outcomes(self) -> tuple[str, ...]:
        return OUTCOME_SETS[self.outcomes]


class Categories:
    """The categories of one file, in the file's order, found by code."""

    def __init__(
        self,
        categories: list[Category],
        source: str,
        retirement_age: int = DEFAULT_RETIREMENT_AGE,
    ) -> None:
        self.source = source
        #: The normal retirement age a rule counted from `retirement` uses.
        self.retirement_age = retirement_age
        self._by_code = {c.code: c for c in categories}

    def __iter__(self) -> Iterator[Category]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    @property
    def retention_needs_birth(self) -> bool:
        """Whether some category's retention rule counts from a date of birth."""
        return any(c.retention is not None and c.retention.counts_from_birth for c in self)

    @property
    def codes(self) -> list[str]:
        return list(self._by_code)

    def get(self, code: str) -> Category:
        """The category `code`; `UsageError` listing the valid codes if there is none."""
        found = self._by_code.get(code.strip().lower())
        if found is None:
            raise UsageError(
                f"unknown category {code!r}; choose one of: {', '.join(self.codes)}",
                hint="'safeguard categories' lists them with their policy sections",
            )
        return found

    def lookup(self, code: str) -> Category:
        """The category a stored case names.  A school may since have removed it from its file:
        the case must still list, close and verify, so it gets a stand-in with no route or
        deadline that accepts every outcome."""
        found = self._by_code.get(code)
        if found is not None:
            return found
        return Category(
            code=code,
            title=f"{code} (no longer in {self.source})",
            section="?",
            route=Route.NONE,
            deadline_working_days=None,
            guidance=f"The category {code!r} is not in {self.source}; put it back to see its "
            "guidance.",
            outcomes="any",
        )


PACKAGED = "packaged categories"


def packaged_text() -> str:
    return resources.files("safeguarding").joinpath("data/categories.toml").read_text("utf-8")


def load(path: Path | None = None) -> Categories:
    """The categories of `path`, or the packaged ones."""
    if path is None:
        return parse(packaged_text(), PACKAGED)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(
            f"cannot read the categories file {path} ({type(error).__name__})",
            hint="check categories_file in your config.toml",
        ) from None
    return parse(text, str(path))


def parse(text: str, source: str) -> Categories:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{source} is not valid TOML: {error}") from None
    except RecursionError:
        raise UsageError(f"{source} nests arrays or tables too deeply to read") from None
    items = data.get("category")
    if not isinstance(items, list) or not items:
        raise UsageError(f"{source} has no [[category]] tables")
    categories: list[Category] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        category = _category(item, f"{source}, category {index}")
        if category.code in seen:
            raise UsageError(f"{source}: the code {category.code!r} is used twice")
        seen.add(category.code)
        categories.append(category)
    return Categories(categories, source, retention_rules.retirement_age(data, source))


def _category(item: Any, where: str) -> Category:
    if not isinstance(item, dict):
        raise UsageError(f"{where} is not a table")

    def text(key: str) -> str:
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"{where}: '{key}' must be a non-empty string")
        return value.strip()

    code = text("code").lower()
    if not all(ch.isalnum() or ch == "-" for ch in code):
        raise UsageError(f"{where}: 'code' may hold only letters, digits and '-'")
    try:
        route = Route(text("route").lower())
    except ValueError:
        valid = ", ".join(r.value for r in Route)
        raise UsageError(f"{where} ({code}): 'route' must be one of: {valid}") from None
    deadline = item.get("deadline_working_days")
    if deadline is not None and (
        isinstance(deadline, bool) or not isinstance(deadline, int) or not 0 <= deadline <= 60
    ):
        raise UsageError(
            f"{where} ({code}): 'deadline_working_days' must be a whole number from 0 to 60"
        )
    outcomes = item.get("outcomes", "concern")
    if outcomes not in FILE_OUTCOMES:
        raise UsageError(f"{where} ({code}): 'outcomes' must be 'allegation' or 'concern'")
    section = item.get("section")
    if isinstance(section, int):
        section = str(section)
    if not isinstance(section, str) or not section.strip():
        raise UsageError(f"{where} ({code}): 'section' must be a non-empty string")
    return Category(
        code=code,
        title=text("title"),
        section=section.strip(),
        route=route,
        deadline_working_days=deadline,
        guidance=" ".join(text("guidance").split()),
        outcomes=outcomes,
        retention=retention_rules.parse(
            item.get("retention"), f"{where} ({code})", OUTCOME_SETS[outcomes]
        ),
    )
