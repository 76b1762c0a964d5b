"""The governors' report laid out once, as plain data that the terminal, the HTML page and the PDF
all render: a title, the school and the period, notices, and sections of rows, tables and bar
charts.  Every count arrives already shown (`report.FEWER` for 1 or 2); a bar for such a count
is drawn as long as 3 and marked, so that 1 and 2 look alike.  Nothing here reads the vault.
"""

from __future__ import annotations

from typing import Any

from safeguarding.report import FEWER, Report, Shown

TITLE = "Safeguarding report for governors"
MARKING = "OFFICIAL-SENSITIVE"

Layout = dict[str, Any]


def _text(value: Shown | None) -> str:
    return "—" if value is None else str(value)


def _days(value: float | int | str | None, unit: str = "working days") -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return f"{value} cases"  # made from 1 or 2 cases: not shown
    number = f"{value:g}"
    return f"{number} {unit[:-1] if number == '1' else unit}"


def bar(label: str, value: Shown) -> dict[str, Any]:
    """One bar: its label, its length (3 for `FEWER`, none for a count withheld) and what is
    written beside it."""
    fewer = value == FEWER
    return {
        "label": label,
        "length": 3 if fewer else value if isinstance(value, int) else 0,
        "text": str(value),
        "fewer": fewer,
    }


def chart(title: str, bars: list[dict[str, Any]], *, columns: bool = False) -> dict[str, Any]:
    """A bar chart: horizontal bars, or with `columns` vertical ones (the months)."""
    return {
        "title": title,
        "bars": bars,
        "longest": max((b["length"] for b in bars), default=0),
        "columns": columns,
    }


def section(title: str, **parts: Any) -> dict[str, Any]:
    return {
        "title": title,
        "rows": parts.get("rows", []),
        "tables": parts.get("tables", []),
        "charts": parts.get("charts", []),
        "notes": parts.get("notes", []),
    }


def build(r: Report) -> Layout:
    produced = r.produced_at.astimezone().strftime("%Y-%m-%d %H:%M")
    notices = list(r.notices)
    if r.not_broken_down != 0:
        notices.append(
            f"Restricted or erased cases opened in the period that could not be broken down: "
            f"{r.not_broken_down}. They are counted in cases opened, closed and open, the time "
            "to close and the months, from what the records hold in clear; a restricted case's "
            "category, subjects, referrals and actions can be read only by its members, who "
            "can make this report with it included, and an erased case's by no one."
        )
    return {
        "title": TITLE,
        "school": r.school,
        "period": r.period.text,
        "marking": MARKING,
        "produced": f"Produced {produced} by safeguard",
        "notices": notices,
        "sections": [_concerns(r), _timeliness(r), _allegations(r), _pattern(r), _housekeeping(r)],
    }


def _concerns(r: Report) -> dict[str, Any]:
    c = r.concerns
    return section(
        "Concerns",
        rows=[
            ["Cases opened in the period", _text(c.opened)],
            ["Cases closed in the period", _text(c.closed)],
            ["Cases open at the end of the period", _text(c.open_at_end)],
        ],
        tables=[
            {
                "title": "Cases opened, by category",
                "head": ["Category", "Policy section", "Cases"],
                "rows": [[title, sect, _text(n)] for title, sect, n in c.by_category],
            },
            {
                "title": "Cases opened, by policy section",
                "head": ["Policy section", "Cases"],
                "rows": [[sect, _text(n)] for sect, n in c.by_section],
            },
            {
                "title": "Cases opened, by the subject's role",
                "head": ["Role", "Cases"],
                "rows": [[role, _text(n)] for role, n in c.by_role],
                "note": "A case about people in more than one role counts once under each.",
            },
        ],
        charts=[chart("Cases opened, by category", [bar(t, n) for t, _, n in c.by_category])],
    )


def _timeliness(r: Report) -> dict[str, Any]:
    t = r.timeliness
    return section(
        "Timeliness",
        rows=[
            ["Cases whose category sets a referral deadline", _text(t.with_deadline)],
            ["Referred, or decided not to, within the deadline", _text(t.on_time)],
            ["Referred, or decided not to, after it", _text(t.late)],
            ["Neither yet", _text(t.outstanding)],
            ["Cases referred", _text(t.referred)],
            ["Median time to referral", _days(t.median_days_to_referral)],
            ["Longest time to referral", _days(t.worst_days_to_referral)],
            ["Actions due in the period", _text(t.actions_due)],
            ["Done by their due date", _text(t.actions_on_time)],
            ["Done after it", _text(t.actions_late)],
            ["Not done", _text(t.actions_not_done)],
            ["Cases closed in the period", _text(t.closed)],
            ["Median time from disclosure to closing", _days(t.median_days_to_close, "days")],
        ],
        charts=[
            chart(
                "Referral deadlines and actions",
                [
                    bar("Referrals on time", t.on_time),
                    bar("Referrals late", t.late),
                    bar("Referrals not yet made", t.outstanding),
                    bar("Actions on time", t.actions_on_time),
                    bar("Actions late", t.actions_late),
                    bar("Actions not done", t.actions_not_done),
                ],
            )
        ],
        notes=["Working days leave out weekends, bank holidays and the school's closure days."],
    )


def _allegations(r: Report) -> dict[str, Any]:
    t = r.timeliness
    return section(
        "Allegations about adults",
        rows=[
            ["Allegations received in the period", _text(t.allegations)],
            ["Referred to the LADO within one working day", _text(t.lado_within_one_day)],
            ["Referred to the LADO later", _text(t.lado_later)],
            ["Not referred to the LADO", _text(t.lado_not_referred)],
            ["Allegations concluded in the period", _text(t.allegations_closed)],
            *[[f"Concluded within {m} month{'s' if m > 1 else ''}", _text(n)] for m, n in t.bands],
        ],
        tables=[
            {
                "title": "Outcomes of the allegations concluded",
                "head": ["Outcome", "Allegations"],
                "rows": [[outcome, _text(n)] for outcome, n in t.outcomes],
            }
        ],
        notes=[
            "KCSIE expects allegations to be referred to the LADO within one working day, and "
            "most to be resolved within one month, nearly all within three and all but the most "
            "exceptional within twelve."
        ],
    )


def _pattern(r: Report) -> dict[str, Any]:
    p = r.pattern
    return section(
        "Pattern",
        rows=[
            [
                "People the period's cases are about who are the subject of another case too",
                _text(p.repeat_subjects),
            ]
        ],
        charts=[
            chart(
                "Cases opened, month by month (the last 12 months)",
                [bar(month, n) for month, n in p.months],
                columns=True,
            )
        ],
    )


def _housekeeping(r: Report) -> dict[str, Any]:
    if not r.backups_given:
        backup = "none given (a backup folder is named with --backups DIR)"
    elif r.last_verified_backup is None:
        backup = "none: no backup in the folder given verifies"
    else:
        backup = r.last_verified_backup.isoformat()
    return section("Housekeeping", rows=[["The last verified backup", backup]])
