"""The governors' report: its figures against a vault of known cases and dates, built through the
library on the tests' clock; small counts hidden; restricted cases counted without being read;
every format free of names; bad input refused with the contract's codes, writing nothing."""

from __future__ import annotations

import html
import json
import os
import re
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from safeguarding import categories, report
from safeguarding.cases import Casebook
from safeguarding.config import Config
from safeguarding.deadlines import ClosedDays
from safeguarding.entries import Action, ActionDone, Closure, Disclosure, Referral, Subject
from safeguarding.vault import Role, Vault
from tests.conftest import FAST_KDF, PASSPHRASE, SetClock, invoke, safeguard_executable

SCHOOL = "Caldecote Primary School"
BOB_PASSPHRASE = "bob the second dsl 2026"
DEPUTY_PASSPHRASE = "dan the deputy 2026"
#: The October half term, closed: a referral deadline runs over it.
HALF_TERM = "2026-10-26..2026-10-30"
HALF_TERM_DAYS = frozenset(date(2026, 10, d) for d in range(26, 31))
AUTUMN = report.Period(date(2026, 9, 1), date(2026, 12, 18), "autumn-2026")
#: When the report is made: the Sunday after the autumn term.
MADE = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
#: Every name and word recorded: none may appear in any format of the report.
CANARIES = (
    "Tom Reed",
    "Amy Shaw",
    "Zed Kaur",
    "Daniel Price",
    "Mark Webb",
    "Old Case",
    "Secret Kid",
    "June Hart",
    "Karen Webb",
    "alice",
    "bob",
    "Canary account words",
    "Canary action words",
)


def noon(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


@dataclass
class Built:
    path: Path
    config: Config
    references: dict[str, str]


def _disclosure(category: str, subject: str, role: str) -> Disclosure:
    return Disclosure(
        category=category,
        subjects=(Subject(subject, role),),
        disclosed_by="Karen Webb",
        relationship="parent",
        where="the school office",
        text="Canary account words.",
    )


def build_vault(folder: Path) -> Built:
    """alice (DSL) records nine cases; bob (DSL) and dan (deputy) use the vault too.  The
    allegations (E, F) and H are restricted to alice.

    A  child-protection, Tom Reed, Fri 2 Oct; referred Mon 5 Oct (on time, 1 working day);
       action due 20 Oct done 19 Oct; closed 30 Oct (28 days)
    B  child-protection, Amy Shaw, Fri 23 Oct; half term closed; referred Mon 2 Nov (on time,
       1 working day); action due 10 Nov, not done; open
    C  child-protection, Tom Reed again, Mon 2 Nov; referred Thu 5 Nov (late: due Tue 3 Nov,
       3 working days); action due 20 Nov done 23 Nov (late); closed 30 Nov (28 days)
    D  cyberbullying-in-school (no deadline), Zed Kaur, 10 Nov; decided not to refer; open
    E  staff-pupil-contact, Daniel Price (staff), Fri 11 Sep; LADO Mon 14 Sep (within one
       working day); closed unsubstantiated 6 Oct (25 days: within a month)
    F  staff-pupil-contact, Mark Webb (staff), Tue 3 Nov; LADO Thu 5 Nov (later); open
    G  child-protection, Old Case, 15 June (before the term); referred 16 June; open
    H  child-protection, Secret Kid, 12 Oct, restricted; never referred; open
    J  child-protection, June Hart, Fri 28 Aug; bank holiday Mon 31 Aug; referred Tue 1 Sep
       (1 working day); closed 10 Sep (13 days)
    """
    path = folder / "vault.db"
    alice, _ = Vault.create(path, "alice", PASSPHRASE, kdf=FAST_KDF)
    alice.add_user("bob", Role.DSL, BOB_PASSPHRASE, kdf=FAST_KDF)
    alice.add_user("dan", Role.DEPUTY, DEPUTY_PASSPHRASE, kdf=FAST_KDF)
    config = Config(
        path=folder / "config.toml",
        exists=True,
        school_name=SCHOOL,
        closure_days=ClosedDays(HALF_TERM_DAYS),
    )
    book = Casebook(alice, categories.load(), config, now=lambda: MADE)
    refs: dict[str, str] = {}

    def case(name: str, category: str, subject: str, on: datetime, role: str = "pupil") -> str:
        restricted = name == "H"
        refs[name] = book.open(
            _disclosure(category, subject, role), on, restricted=restricted
        ).reference
        return refs[name]

    def refer(ref: str, route: str, on: datetime) -> None:
        book.add(ref, Referral(route=route, text="Canary referral words."), on)

    def act(ref: str, due: date, done: datetime | None, number: int = 1) -> None:
        set_at = noon(due.year, due.month, due.day) - timedelta(days=5)
        book.add(ref, Action(owner="Head", due=due, text="Canary action words."), set_at)
        if done is not None:
            book.add(ref, ActionDone(action=number, text="Canary action words."), done)

    def close(ref: str, outcome: str, on: datetime) -> None:
        book.add(ref, Closure(outcome=outcome, text="Canary closing words."), on)

    try:
        a = case("A", "child-protection", "Tom Reed", noon(2026, 10, 2))
        refer(a, "mash", noon(2026, 10, 5))
        act(a, date(2026, 10, 20), noon(2026, 10, 19))
        close(a, "resolved", noon(2026, 10, 30))
        b = case("B", "child-protection", "Amy Shaw", noon(2026, 10, 23))
        refer(b, "mash", noon(2026, 11, 2))
        act(b, date(2026, 11, 10), None)
        c = case("C", "child-protection", "tom  REED", noon(2026, 11, 2))
        refer(c, "mash", noon(2026, 11, 5))
        act(c, date(2026, 11, 20), noon(2026, 11, 23))
        close(c, "no-further-action", noon(2026, 11, 30))
        d = case("D", "cyberbullying-in-school", "Zed Kaur", noon(2026, 11, 10))
        refer(d, "none", noon(2026, 11, 11))
        e = case("E", "staff-pupil-contact", "Daniel Price", noon(2026, 9, 11), "staff")
        refer(e, "lado", noon(2026, 9, 14))
        close(e, "unsubstantiated", noon(2026, 10, 6))
        f = case("F", "staff-pupil-contact", "Mark Webb", noon(2026, 11, 3), "staff")
        refer(f, "lado", noon(2026, 11, 5))
        g = case("G", "child-protection", "Old Case", noon(2026, 6, 15))
        refer(g, "mash", noon(2026, 6, 16))
        case("H", "child-protection", "Secret Kid", noon(2026, 10, 12))
        j = case("J", "child-protection", "June Hart", noon(2026, 8, 28))
        refer(j, "mash", noon(2026, 9, 1))
        close(j, "resolved", noon(2026, 9, 10))
    finally:
        alice.close()
    return Built(path, config, refs)


@pytest.fixture
def built(tmp_path: Path, set_clock: SetClock) -> Built:
    set_clock(MADE)
    return build_vault(tmp_path)


def make(built: Built, user: str, passphrase: str, period: report.Period = AUTUMN) -> report.Report:
    unlocked = Vault.open(built.path).unlock(user, passphrase)
    try:
        sources = report.Sources(SCHOOL, categories.load(), built.config.closure_days)
        return report.build(unlocked, period, sources, now=lambda: MADE)
    finally:
        unlocked.close()


FEWER = report.FEWER


def test_a_dsl_who_reads_every_case_gets_every_figure(built: Built) -> None:
    r = make(built, "alice", PASSPHRASE)
    c = r.concerns
    # A B C D E F H opened; A C E J closed; B D F G H open on 18 December.
    assert (c.opened, c.closed, c.open_at_end) == (7, 4, 5)
    cats = {section: n for _, section, n in c.by_category}
    assert cats["KCSIE"] == 4  # A B C H
    assert dict(c.by_role) == {"pupil": 5, "staff": FEWER}
    assert r.not_broken_down == 0
    t = r.timeliness
    # Deadlines: A B E on time; C F late; H neither yet (D has no deadline).
    assert (t.with_deadline, t.on_time, t.late, t.outstanding) == (6, 3, FEWER, FEWER)
    # Working days to referral: A 1, B 1 (over the half term), C 3, E 1, F 2.
    assert t.referred == 5
    assert (t.median_days_to_referral, t.worst_days_to_referral) == (1.0, 3)
    # Three actions, one each on time, late and not done: with 3 shown, each "fewer than 3"
    # would be 1, so the total is withheld.
    assert (t.actions_due, t.actions_on_time, t.actions_late, t.actions_not_done) == (
        report.WITHHELD,
        FEWER,
        FEWER,
        FEWER,
    )
    # Days from disclosure to closing: J 13, E 25, A 28, C 28.
    assert (t.closed, t.median_days_to_close) == (4, 26.5)
    assert (t.allegations, t.lado_within_one_day, t.lado_later, t.lado_not_referred) == (
        FEWER,
        FEWER,
        FEWER,
        0,
    )
    assert t.allegations_closed == FEWER
    assert dict(t.outcomes)["unsubstantiated"] == FEWER
    assert dict(t.outcomes)["substantiated"] == 0
    assert t.bands == [(1, FEWER), (3, FEWER), (12, FEWER)]
    months = dict(r.pattern.months)
    assert list(months) == [f"2026-{m:02d}" for m in range(1, 13)]
    assert months["2026-10"] == 3 and months["2026-11"] == 3  # A B H; C D F
    assert months["2026-06"] == FEWER and months["2026-08"] == FEWER
    assert months["2026-03"] == 0
    assert r.pattern.repeat_subjects == FEWER  # Tom Reed, in A and C


def test_working_days_skip_closure_days_and_bank_holidays(built: Built) -> None:
    """B was disclosed on the Friday before half term and referred on the Monday after: one
    working day, on time.  J, on the Friday before the August bank holiday, was referred on
    the Tuesday after it: one working day too."""
    from safeguarding import deadlines

    closures = ClosedDays(HALF_TERM_DAYS)
    assert deadlines.working_days_between(date(2026, 10, 23), date(2026, 11, 2), closures) == 1
    assert deadlines.working_days_between(date(2026, 8, 28), date(2026, 9, 1), closures) == 1
    # In the autumn report the longest time is C's 3, not B's 8 calendar days.
    assert make(built, "alice", PASSPHRASE).timeliness.worst_days_to_referral == 3
    half_term = report.Period(date(2026, 10, 19), date(2026, 10, 23))
    r = make(built, "alice", PASSPHRASE, half_term)
    assert r.timeliness.on_time == FEWER and r.timeliness.late == 0


def test_times_from_one_or_two_cases_are_not_shown(built: Built) -> None:
    """August has J alone (referred in September, its time counted): its median and longest
    time to referral and to closing would be J's own, so they are not shown."""
    summer = report.Period(date(2026, 8, 1), date(2026, 8, 31))
    t = make(built, "alice", PASSPHRASE, summer).timeliness
    assert (t.referred, t.median_days_to_referral, t.worst_days_to_referral) == (FEWER,) * 3
    september = report.Period(date(2026, 9, 1), date(2026, 9, 30))
    t = make(built, "alice", PASSPHRASE, september).timeliness
    assert (t.closed, t.median_days_to_close) == (FEWER, FEWER)  # J alone


def test_restricted_cases_count_without_being_read(built: Built) -> None:
    """bob, a DSL but no member of E, F or H, counts them from what is in clear, and is told
    how many he could not break down."""
    r = make(built, "bob", BOB_PASSPHRASE)
    # 7 opened: A B C (child protection), D (cyberbullying, "fewer than 3") and 3 he cannot
    # open.  With 7, 3 and 3 shown, D's would be 1; withholding a 3 leaves 7 = 3+ and 3 and
    # 1 or 2, still 1; so the total is withheld, and the 3s with it.
    assert (r.concerns.opened, r.concerns.closed, r.concerns.open_at_end) == (
        report.WITHHELD,
        4,
        5,
    )
    assert r.not_broken_down == report.WITHHELD
    cats = {section: n for _, section, n in r.concerns.by_category}
    assert cats == {"KCSIE": report.WITHHELD, "7": FEWER}
    assert r.timeliness.allegations == 0
    assert r.timeliness.median_days_to_close == 26.5  # E's closing is in clear
    assert dict(r.pattern.months)["2026-10"] == 3


def test_small_counts_are_never_shown() -> None:
    assert [report.shown(n) for n in (0, 1, 2, 3, 40)] == [0, FEWER, FEWER, 3, 40]


def test_months_add_as_the_calendar_does() -> None:
    assert report.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert report.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert report.add_months(date(2026, 9, 11), 12) == date(2027, 9, 11)


def test_only_a_dsl_or_the_headteacher_may_make_it(built: Built) -> None:
    from safeguarding.errors import NotAllowed

    with pytest.raises(NotAllowed):
        make(built, "dan", DEPUTY_PASSPHRASE)


# The command line ----------------------------------------------------------------------------


@pytest.fixture
def cli(built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Built:
    config = tmp_path / "config.toml"
    config.write_text(
        f'school_name = "{SCHOOL}"\nclosure_days = ["{HALF_TERM}"]\n\n'
        '[terms]\nautumn-2026 = "2026-09-01..2026-12-18"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    monkeypatch.setenv("SAFEGUARD_VAULT", str(built.path))
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)
    return built


def entries(path: Path) -> int:
    with sqlite3.connect(path) as db:
        count: int = db.execute("SELECT count(*) FROM entries").fetchone()[0]
    return count


def no_canary(text: str) -> None:
    found = [name for name in CANARIES if name.lower() in text.lower()]
    assert not found, f"names in the report: {found}"


def test_the_terminal_report(cli: Built) -> None:
    result = invoke("report", "--term", "autumn-2026")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for heading in (
        "Concerns",
        "Timeliness",
        "Allegations about adults",
        "Pattern",
        "Housekeeping",
    ):
        assert heading in out
    assert SCHOOL in out and "2026-09-01 to 2026-12-18" in out
    assert "fewer than 3" in out and "shown as “fewer than 3”" in out
    assert re.search(r"Cases opened in the period\s+7", out)
    assert re.search(r"2026-10 █+ +3\n", out) and re.search(r"2026-06 ░+ fewer than 3", out)
    assert "none given" in out
    # The note on roles is under the table of roles, before the chart of categories.
    roles = out.index("Cases opened, by the subject's role")
    note = out.index("A case about people in more than one role counts once under each.")
    assert roles < note < out.index("Cases opened, by category", roles)
    no_canary(out)


def test_making_the_report_is_in_the_audit(cli: Built) -> None:
    assert invoke("report", "--from", "2026-09-01", "--to", "2026-12-18").exit_code == 0
    audit = invoke("audit", "--json")
    made = [e for e in json.loads(audit.stdout) if e["action"] == "reported"]
    assert len(made) == 1 and made[0]["who"] == "alice"
    assert made[0]["period"] == "2026-09-01 to 2026-12-18" and made[0]["format"] == "text"
    shown = invoke("audit").stdout
    assert "made the governors' report for 2026-09-01 to 2026-12-18" in shown


def test_json(cli: Built) -> None:
    result = invoke("report", "--term", "autumn-2026", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["schema"], doc["schema_version"]) == ("safeguard.report", 1)
    assert doc["period"] == {"from": "2026-09-01", "to": "2026-12-18", "term": "autumn-2026"}
    assert doc["concerns"]["opened"] == 7 and doc["timeliness"]["late"] == FEWER
    no_canary(result.stdout)


def test_html(cli: Built, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = invoke("report", "--term", "autumn-2026", "--format", "html", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") == 3  # by category, timeliness, months
    assert len(re.findall(r"<rect ", page)) == 3 + 6 + 12  # 3 categories, 6 timings, 12 months
    assert "@top-center" in page and "2026-09-01 to 2026-12-18" in page
    assert "<script" not in page
    # Every label of a horizontal bar ends 8px left of its bar; each of its lines, at most
    # 0.6em (7.2px at 12px) a character, starts at 0 or right of it: none is cut off.
    labels = re.findall(r'<text text-anchor="end">(.*?)</text>', page, re.S)
    assert len(labels) == 3 + 6
    assert any(label.count("<tspan") > 1 for label in labels)  # the long titles are wrapped
    for label in labels:
        for x, line in re.findall(r'<tspan x="([\d.]+)" y="[\d.]+">([^<]*)</tspan>', label):
            assert float(x) - 7.2 * len(html.unescape(line)) >= 0, line
    months = page[page.index("month by month") :]
    assert re.search(r'text-anchor="middle" font-size="9">fewer than 3</text>', months)
    assert "&lt;3" not in page and "<3" not in page
    no_canary(page)


def test_pdf_has_its_text_and_charts(cli: Built, tmp_path: Path) -> None:
    from pypdf import PdfReader

    out = tmp_path / "report.pdf"
    result = invoke("report", "--term", "autumn-2026", "--format", "pdf", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    pdf = PdfReader(out)
    texts = [" ".join(page.extract_text().split()) for page in pdf.pages]
    for text in texts:
        assert SCHOOL in text and "2026-09-01 to 2026-12-18" in text
    whole = "\n".join(texts)
    assert "Cases opened, month by month" in whole and "fewer than 3" in whole
    months = whole[whole.index("Cases opened, month by month") :]
    assert "<3" not in whole and "fewer than 3" in months[: months.index("2026-01")]
    no_canary(whole)
    # Each bar with a length is a filled rectangle in a bar's colour: a vector path in the
    # pages' content.  3 categories; 6 timings; June, August, September, October, November.
    bars = sum(len(BAR.findall(page.get_contents().get_data())) for page in pdf.pages)
    assert bars == 3 + 6 + 5
    no_canary(out.read_bytes().decode("latin-1"))


#: A filled rectangle (four corners, closed, filled) in the colour of a bar, or of a bar for a
#: count of fewer than 3.
BAR = re.compile(
    rb"(?:0 0\.3529412 0\.50980395|0\.8509804 0\.6431373 0\.25490198) scn 0 0 m "
    rb"[\d.]+ 0 l [\d.]+ [\d.]+ l 0 [\d.]+ l\s+h\s+f\b"
)


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--from", "2026-13-01", "--to", "2026-12-18"], 2, "--from"),
        (["--from", "2026-09-01", "--to", "soon"], 2, "--to"),
        (["--from", "2026-12-18", "--to", "2026-09-01"], 2, "after"),
        (["--from", "2026-09-01"], 2, "period"),
        (["--term", "spring-2031"], 2, "autumn-2026"),
        (["--term", "autumn-2026", "--from", "2026-09-01"], 2, "either"),
        (["--term", "autumn-2026", "--format", "pdf"], 2, "--output"),
        (["--term", "autumn-2026", "--format", "docx"], 2, "format"),
        (["--term", "autumn-2026", "--backups", "/nonexistent/backups"], 4, "backup folder"),
        (["--from", "2026-12-21", "--to", "2027-03-31"], 2, "future"),
        (["--from", "0999-01-01", "--to", "2026-12-18"], 2, "too far in the past"),
        (["--from", "2026-10-01 10:00", "--to", "2026-12-18"], 2, "time of day"),
        (["--from", "2026-10-01", "--to", "18/12/2026 17:00"], 2, "time of day"),
        (["--from", "2026-10-01T10:00", "--to", "2026-12-18"], 2, "time of day"),
    ],
)
def test_bad_input_writes_nothing(cli: Built, args: list[str], code: int, says: str) -> None:
    before = entries(cli.path)
    result = invoke("report", *args)
    assert result.exit_code == code, result.stderr
    assert says in result.stderr and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert entries(cli.path) == before


def test_a_deputy_may_not(cli: Built, tmp_path: Path) -> None:
    before = entries(cli.path)
    out = tmp_path / "deputy.pdf"
    env = {"SAFEGUARD_USER": "dan", "SAFEGUARD_PASSPHRASE": DEPUTY_PASSPHRASE}
    result = invoke("report", "--term", "autumn-2026", "-f", "pdf", "-o", str(out), env=env)
    assert result.exit_code == 3
    assert "only a DSL or the headteacher" in result.stderr
    assert not out.exists() and entries(cli.path) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".safeguard-")] == []


def test_an_existing_file_is_never_replaced(cli: Built, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("mine", encoding="utf-8")
    before = entries(cli.path)
    result = invoke("report", "--term", "autumn-2026", "-f", "html", "-o", str(out))
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert out.read_text(encoding="utf-8") == "mine" and entries(cli.path) == before


def test_the_last_verified_backup(cli: Built, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    empty = invoke("report", "--term", "autumn-2026", "--backups", str(folder))
    assert "none: no backup in the folder given verifies" in empty.stdout
    assert invoke("backup", "create", str(folder)).exit_code == 0
    result = invoke("report", "--term", "autumn-2026", "-f", "json", "--backups", str(folder))
    doc = json.loads(result.stdout)
    assert doc["backups_given"] is True and doc["last_verified_backup"] == "2026-12-20"
    assert str(folder) not in result.stdout


def test_a_term_that_runs_backwards_is_refused(cli: Built, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[terms]\nautumn-2026 = "2026-12-18..2026-09-01"\n', encoding="utf-8")
    before = entries(cli.path)
    result = invoke("report", "--term", "autumn-2026")
    assert result.exit_code == 2 and "terms.autumn-2026" in result.stderr
    assert entries(cli.path) == before


@pytest.mark.parametrize(
    ("fmt", "starts"),
    [("text", b"\xe2\x95\xad"), ("json", b"{"), ("html", b"<!DOCTYPE html>"), ("pdf", b"%PDF-")],
)
def test_output_dash_is_standard_output(
    cli: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, starts: bytes
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("report", "--term", "autumn-2026", "--format", fmt, "--output", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.lstrip().startswith(starts)
    assert not (tmp_path / "-").exists()
    audit = json.loads(invoke("audit", "--json").stdout)
    assert [e["output"] for e in audit if e["action"] == "reported"] == ["-"]


def test_a_report_in_a_file_warns_that_it_is_plaintext(cli: Built, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = invoke("report", "--term", "autumn-2026", "-f", "html", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr and "plaintext" in result.stderr
    assert str(out) in result.stderr.replace("\n", "")
    on_screen = invoke("report", "--term", "autumn-2026")
    assert "plaintext" not in on_screen.stderr
    existing = invoke("report", "--term", "autumn-2026", "-f", "html", "-o", str(out))
    assert existing.exit_code == 2 and "plaintext" not in existing.stderr


def test_a_period_that_ends_after_today_runs_to_today(cli: Built) -> None:
    result = invoke("report", "--from", "2026-12-01", "--to", "2027-03-31", "-f", "json")
    assert result.exit_code == 0, result.stderr
    notices = json.loads(result.stdout)["notices"]
    assert any("figures run to today, 2026-12-20" in notice for notice in notices)
    ended = invoke("report", "--term", "autumn-2026", "-f", "json")
    assert not any("run to today" in n for n in json.loads(ended.stdout)["notices"])


def test_a_term_that_starts_in_the_future_is_refused(cli: Built, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[terms]\nspring-2027 = "2027-01-04..2027-03-26"\n', encoding="utf-8")
    result = invoke("report", "--term", "spring-2027")
    assert result.exit_code == 2 and "starts in the future" in result.stderr


def test_restricted_cases_not_opened_in_the_period_are_not_said_to_be_unbroken(
    built: Built,
) -> None:
    """In December nothing is opened: F and H, restricted to alice, are only open at its end,
    so bob has nothing he could not break down, and the report does not say he has."""
    from safeguarding import report_layout

    december = report.Period(date(2026, 12, 1), date(2026, 12, 18))
    r = make(built, "bob", BOB_PASSPHRASE, december)
    assert r.concerns.opened == 0 and r.concerns.open_at_end == 5
    assert r.not_broken_down == 0
    assert not any("broken down" in n for n in report_layout.build(r)["notices"])
    autumn = make(built, "bob", BOB_PASSPHRASE)
    notices = report_layout.build(autumn)["notices"]
    assert any("opened in the period that could not be broken down: withheld" in n for n in notices)


@pytest.mark.parametrize("how", ["terminal", "file"])
def test_at_80_columns_every_count_is_whole(cli: Built, tmp_path: Path, how: str) -> None:
    """In an 80-column terminal (or piped, or in a text file) no count is cut: each chart's
    counts end their rows whole, labels wrap rather than lose their ends, and nothing is
    elided."""
    from safeguarding import report_layout

    if how == "terminal":
        result = invoke("report", "--term", "autumn-2026", env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.stderr
        out = result.stdout
    else:
        out_file = tmp_path / "report.txt"
        result = invoke("report", "--term", "autumn-2026", "-o", str(out_file))
        assert result.exit_code == 0, result.stderr
        out = out_file.read_text(encoding="utf-8")
    lines = [line.rstrip() for line in out.splitlines()]
    assert "…" not in out and max(len(line) for line in lines) <= 80
    doc = report_layout.build(make(cli, "alice", PASSPHRASE))
    cells = [value for part in doc["sections"] for _, value in part["rows"]]
    cells += [row[-1] for part in doc["sections"] for t in part["tables"] for row in t["rows"]]
    bars = [b for part in doc["sections"] for c in part["charts"] for b in c["bars"]]
    cells += [b["text"] for b in bars]
    assert sum(1 for line in lines if line.endswith(FEWER)) == cells.count(FEWER)
    for b in bars:
        first = re.escape(b["label"].split()[0])
        pattern = rf"^{first}\b.*(?:[█░]| ) {re.escape(b['text'])}$"
        assert re.search(pattern, "\n".join(lines), re.M), b
    for t in (t for part in doc["sections"] for t in part["tables"]):
        for row in t["rows"]:
            for word in " ".join(row[:-1]).split():
                assert word in out  # wrapped, never cut


def test_a_small_count_cannot_be_worked_out_from_a_total() -> None:
    from safeguarding.suppression import WITHHELD, hide

    # One part hidden: the next smallest is withheld, and 20 = 10 + 3+ + 1 or 2 has room.
    counts = {"total": 20, "a": 10, "b": 6, "c": 3, "d": 1}
    assert hide(counts, [("total", ["a", "b", "c", "d"])]) == {
        "total": 20,
        "a": 10,
        "b": WITHHELD,  # 3 withheld would leave d = 20 - 10 - 6 - 3: the next is taken
        "c": WITHHELD,
        "d": FEWER,
    }
    # Every part hidden, 4 = 2 + 2: the total is withheld.
    assert hide({"t": 4, "x": 2, "y": 2}, [("t", ["x", "y"])]) == {
        "t": WITHHELD,
        "x": FEWER,
        "y": FEWER,
    }
    # 3 = 1 + 2 or 2 + 1: nothing to work out, nothing more withheld.
    assert hide({"t": 3, "x": 1, "y": 2}, [("t", ["x", "y"])])["t"] == 3
    # Nothing small, nothing withheld; a group that does not add up is no group.
    assert hide({"t": 9, "x": 3, "y": 6}, [("t", ["x", "y"])]) == {"t": 9, "x": 3, "y": 6}
    assert hide({"t": 9, "x": 1, "y": 6}, [("t", ["x", "y"])])["t"] == 9


def test_standard_output_that_fails_after_the_report_is_recorded_says_so(cli: Built) -> None:
    """As for an export: the report is recorded, so exit 0, saying so and what to do."""
    before = entries(cli.path)
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [safeguard_executable(), "report", "--term", "autumn-2026", "-f", "json", "-o", "-"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert "could not write the report to standard output (no space left on device)" in (
        result.stderr
    )
    assert "make it again to a file with --output FILE" in result.stderr
    assert entries(cli.path) == before + 1
