"""Small counts kept from being shown, or worked out: a count of 1 or 2 is shown as `FEWER`, and
where a total is shown with its parts, more is withheld until no hidden count can be worked out
by subtraction.

A reader who knows the rule knows that a count shown as `FEWER` is 1 or 2, and that one shown
as `WITHHELD` is 3 or more (only such counts are withheld).  For each total shown with its parts
(`Group`), every count hidden is narrowed to the values that the sums allow, over and over
across all the totals, as the reader could; while one of them comes down to a single value, the
smallest part still shown of a total it is in is withheld too (or the total, if no part is
shown).  Nothing here knows what the counts are of.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

FEWER = "fewer than 3"
WITHHELD = "withheld"
#: A total, and the parts that add up to it (keys of the counts).
Group = tuple[str, Sequence[str]]


def hide(counts: Mapping[str, int], groups: Sequence[Group]) -> dict[str, int | str]:
    """Each count as it may be shown: the count itself, `FEWER` or `WITHHELD`.  A group whose
    parts do not add up to its total is not one a reader can subtract in, and is left out."""
    exact: list[Group] = [
        (t, list(parts)) for t, parts in groups if sum(counts[p] for p in parts) == counts[t]
    ]
    hidden = {key: FEWER for key, n in counts.items() if 0 < n < 3}
    cap = 2 * max([3, *counts.values()]) + 3
    while exposed := _exposed(counts, hidden, exact, cap):
        more = _next(counts, hidden, exact, exposed)
        if more is None:
            break
        hidden[more] = WITHHELD
    return {key: hidden.get(key, n) for key, n in counts.items()}


def _next(
    counts: Mapping[str, int], hidden: Mapping[str, str], groups: list[Group], exposed: str
) -> str | None:
    """The count to withhold so that `exposed` cannot be worked out: the smallest part shown of
    a total it is in (or of which it is the total), else that total."""
    for total, parts in groups:
        if exposed != total and exposed not in parts:
            continue
        shown = sorted((counts[p], p) for p in parts if p not in hidden and counts[p] > 0)
        if shown:
            return shown[0][1]
        if total not in hidden:
            return total
    return None


def _domain(n: int, how: str | None, cap: int) -> int:
    """The values a count may have, as a bit set, to a reader who sees it shown as `how`."""
    if how is None:
        return 1 << n
    if how == FEWER:
        return 0b110
    return ((1 << (cap + 1)) - 1) & ~0b111  # 3 or more


def _sums(domains: Sequence[int], cap: int) -> int:
    """Every sum of one value from each of `domains` (bit sets), up to `cap`."""
    found, limit = 1, (1 << (cap + 1)) - 1
    for domain in domains:
        total, value = 0, 0
        while domain >> value:
            if domain >> value & 1:
                total |= found << value
            value += 1
        found = total & limit
    return found


def _exposed(
    counts: Mapping[str, int], hidden: Mapping[str, str], groups: list[Group], cap: int
) -> str | None:
    """A hidden count the sums leave a single value (or none) for, if there is one."""
    domains = {key: _domain(n, hidden.get(key), cap) for key, n in counts.items()}
    changed = True
    while changed:
        changed = False
        for total, parts in groups:
            narrowed = domains[total] & _sums([domains[p] for p in parts], cap)
            changed |= narrowed != domains[total]
            domains[total] = narrowed
            for index, part in enumerate(parts):
                others = _sums([domains[p] for n, p in enumerate(parts) if n != index], cap)
                allowed = sum(
                    1 << v
                    for v in range(cap + 1)
                    if domains[part] >> v & 1 and _reaches(domains[total], others, v)
                )
                changed |= allowed != domains[part]
                domains[part] = allowed
    return next((key for key in hidden if domains[key].bit_count() <= 1), None)


def _reaches(totals: int, others: int, value: int) -> bool:
    """Whether some total is `value` and some sum of the others."""
    return bool((totals >> value) & others)
