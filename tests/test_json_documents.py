"""Every `--json` document, one snapshot a command: the real command on a vault made at a fixed
moment, its document compared with `tests/golden/json/NAME.json`.

What differs from one run to the next is masked explicitly, never by guesswork: the test's own
folder (`<tmp>`), the time of day in a backup's name, and the keys each test names, whose values
must still have the form given (a time, a hash, a size).  `UPDATE_GOLDEN=1` writes the snapshots
afresh; read their diff before committing it: a key renamed, retyped or taken away is a new
`schema_version`, and the README says so.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from safeguarding import (
    documents_concerns,
    documents_json,
    documents_people,
    documents_retention,
    documents_sar,
    documents_transfers,
)
from safeguarding.documents_json import ARRAYS
from tests import timeline_case as tc
from tests.conftest import DEPUTY_PASSPHRASE, PASSPHRASE, SetClock, VaultInfo, every_command, invoke
from tests.flowkit import Say, record_args
from tests.test_release_fixtures import ALEX, old  # noqa: F401 (the fixture)

GOLDEN = Path(__file__).parent / "golden" / "json"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

#: A Wednesday morning; in November, London is on UTC.
MOMENT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

# The forms of what is masked.  A named group masks only that part (`<hash>`); without one, the
# whole value becomes `<key>`.
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)"
HASH = r"[0-9a-f]{64}"
VAULT_ID = r"[0-9a-f]{32}"
CHECKPOINT = r"\d+:(?P<hash>[0-9a-f]{64})"
NUMBER = r"\d+"
VERSION = r"\d+\.\d+\.\d+\S*"
RECOVERY_KEY = r"([A-Z2-7]{4}-){7}[A-Z2-7]{4}"

#: A backup is named for the moment it was taken: its date is fixed, its time of day is not.
BACKUP_TIME = re.compile(r"(?<=safeguard-\d{8}T)\d{6}(?=Z)")

BOB = {"SAFEGUARD_NEW_PASSPHRASE": DEPUTY_PASSPHRASE}

#: Every document: the concern commands' are named beside the others'.
SCHEMAS = {
    **documents_json.SCHEMAS,
    **documents_concerns.SCHEMAS,
    **documents_people.SCHEMAS,
    **documents_retention.SCHEMAS,
    **documents_transfers.SCHEMAS,
    **documents_sar.SCHEMAS,
}


@pytest.fixture(autouse=True)
def fixed(set_clock: SetClock) -> Iterator[None]:
    """The tests' moment, in the school's time zone."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/London"
    time.tzset()
    set_clock(MOMENT)
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


# The snapshot ------------------------------------------------------------------------------


def document(*args: str, env: dict[str, str] | None = None, code: int = 0) -> Any:
    """Run a command with `--json`: its exit code must be `code`, its stdout one document."""
    result = invoke(*args, "--json", env=env)
    assert result.exit_code == code, result.stderr
    return json.loads(result.stdout)


def snapshot(name: str, found: Any, schema: str, folder: Path, **masks: str) -> None:
    """`found` is the document `schema` names, and, masked, the one in `name`.json."""
    _check_schema(found, schema)
    used: set[str] = set()
    shown = _masked(found, str(folder), {k: re.compile(v) for k, v in masks.items()}, used)
    assert used == set(masks), f"masks for keys the document does not have: {set(masks) - used}"
    golden = GOLDEN / f"{name}.json"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(shown, ensure_ascii=False, indent=2) + "\n", "utf-8")
    assert shown == json.loads(golden.read_text(encoding="utf-8"))


def _check_schema(found: Any, schema: str) -> None:
    assert schema in SCHEMAS
    if schema in ARRAYS:
        assert isinstance(found, list) and found, "an array documented by an empty one"
        assert all("schema" not in item for item in found)
        return
    assert isinstance(found, dict)
    assert list(found)[:2] == ["schema", "schema_version"]
    assert (found["schema"], found["schema_version"]) == (schema, SCHEMAS[schema])


def _masked(value: Any, folder: str, masks: dict[str, re.Pattern[str]], used: set[str]) -> Any:
    if isinstance(value, dict):
        shown = {}
        for key, item in value.items():
            item = _masked(item, folder, masks, used)
            if key in masks and item is not None:
                used.add(key)
                items = item if isinstance(item, list) else [item]
                masked = [_mask(key, element, masks[key]) for element in items]
                item = masked if isinstance(item, list) else masked[0]
            shown[key] = item
        return shown
    if isinstance(value, list):
        return [_masked(item, folder, masks, used) for item in value]
    if isinstance(value, str):
        return BACKUP_TIME.sub("<time>", value.replace(folder, "<tmp>"))
    return value


def _mask(key: str, value: Any, form: re.Pattern[str]) -> str:
    text = str(value)
    match = form.fullmatch(text)
    assert match, f"{key}: {text!r} is not of the form {form.pattern}"
    if not form.groupindex:
        return f"<{key}>"
    for group in sorted(form.groupindex, key=match.start, reverse=True):
        text = text[: match.start(group)] + f"<{group}>" + text[match.end(group) :]
    return text


def json_commands(command: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command that takes `--json`, as the words that name it."""
    command = command or every_command()
    if any("--json" in getattr(param, "opts", ()) for param in command.params):
        yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from json_commands(sub, (*path, name))


def test_every_command_that_takes_json_has_its_snapshot_and_one_option() -> None:
    found = list(json_commands())
    assert len(found) > 20
    missing = [" ".join(path) for path in found if not (GOLDEN / f"{'-'.join(path)}.json").exists()]
    assert not missing, f"no snapshot in {GOLDEN} for: {missing}"
    helps = {
        param.help
        for path in found
        for param in _command(path).params
        if "--json" in getattr(param, "opts", ())
    }
    assert helps == {"Print one JSON document on stdout."}


def _command(path: tuple[str, ...]) -> Any:
    command: Any = every_command()
    for word in path:
        command = command.commands[word]
    return command


def test_the_readme_names_every_schema() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### JSON documents") :]
    missing = [name for name in SCHEMAS if f"`{name}`" not in section]
    assert not missing, f"schemas missing from the README's JSON documents: {missing}"


# The vault and its users -------------------------------------------------------------------


def test_init(tmp_path: Path) -> None:
    found = document("--user", "alice", "init", env={"SAFEGUARD_PASSPHRASE": PASSPHRASE})
    snapshot("init", found, "safeguard.init", tmp_path, recovery_key=RECOVERY_KEY)


def test_verify(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    record(say)
    found = document("verify")
    snapshot("verify", found, "safeguard.verify", tmp_path, checkpoint=CHECKPOINT)


def test_verify_with_the_recovery_key(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    record(say)
    found = document("verify", "--recovery", env={"SAFEGUARD_RECOVERY_KEY": vault.recovery_key})
    snapshot("verify-recovery", found, "safeguard.verify", tmp_path, checkpoint=CHECKPOINT)


def test_verify_failed(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    record(say)
    found = document("verify", "--checkpoint", "2:" + "0" * 64, code=1)
    snapshot("verify-failed", found, "safeguard.verify", tmp_path)


def test_checkpoint(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    record(say)
    found = document("checkpoint")
    snapshot(
        "checkpoint",
        found,
        "safeguard.checkpoint",
        tmp_path,
        checkpoint=CHECKPOINT,
        recorded_at=TIME,
    )


def test_user_add(vault: VaultInfo, tmp_path: Path) -> None:
    found = document("user", "add", "bob", "--role", "deputy", env=BOB)
    snapshot("user-add", found, "safeguard.user.add", tmp_path)


def test_user_list(vault: VaultInfo, tmp_path: Path) -> None:
    document("user", "add", "bob", "--role", "deputy", env=BOB)
    document("user", "disable", "bob")
    found = document("user", "list")
    snapshot("user-list", found, "safeguard.user.list", tmp_path, added_at=TIME, disabled_at=TIME)


def test_user_passwd(vault: VaultInfo, tmp_path: Path) -> None:
    found = document("user", "passwd", env={"SAFEGUARD_NEW_PASSPHRASE": "alice's second one"})
    snapshot("user-passwd", found, "safeguard.user.passwd", tmp_path)


def test_user_disable(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    document("user", "add", "bob", "--role", "deputy", env=BOB)
    case = record(say)["case"]
    document("access", "grant", case, "bob")
    found = document("user", "disable", "bob")
    snapshot("user-disable", found, "safeguard.user.disable", tmp_path, disabled_at=TIME)


def test_db_status(vault: VaultInfo, tmp_path: Path) -> None:
    snapshot("db-status", document("db", "status"), "safeguard.db.status", tmp_path)


def test_db_upgrade(old: Path, tmp_path: Path) -> None:  # noqa: F811
    found = document("db", "upgrade", env=ALEX)
    snapshot("db-upgrade", found, "safeguard.db.upgrade", tmp_path)


# Cases and their entries -------------------------------------------------------------------


def record(say: Say, category: str = "staff-pupil-contact", role: str = "staff") -> Any:
    """A disclosure made yesterday afternoon (an allegation about staff, unless told)."""
    text = say("He has been messaging my daughter.")
    args = record_args(text, category=category, subject="Daniel Price", role=role)
    return document(*args, "--at", "2026-11-24 15:00")


def entry(say: Say, *args: str) -> Any:
    return document(*args, "--text-file", say("Something was said."))


def test_categories(tmp_path: Path) -> None:
    snapshot("categories", document("categories"), "safeguard.categories", tmp_path)


def test_record(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    snapshot("record", record(say), "safeguard.entry", tmp_path)


def test_refer(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    case = record(say)["case"]
    found = entry(
        say, "refer", case, "--to", "lado", "--contact", "J. Okafor", "--reference", "L-1"
    )
    snapshot("refer", found, "safeguard.entry", tmp_path)


def test_advice(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    case = record(say)["case"]
    entry(say, "refer", case, "--to", "lado")
    found = entry(say, "advice", case, "--from", "J. Okafor")
    snapshot("advice", found, "safeguard.entry", tmp_path)


def test_action_add(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    case = record(say)["case"]
    entry(say, "refer", case, "--to", "lado")
    found = entry(say, "action", "add", case, "--owner", "Headteacher", "--due", "2026-12-02")
    snapshot("action-add", found, "safeguard.entry", tmp_path)


def test_action_done(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    case = record(say)["case"]
    entry(say, "refer", case, "--to", "lado")
    entry(say, "action", "add", case, "--owner", "Headteacher", "--due", "2026-12-02")
    found = entry(say, "action", "done", case, "1")
    snapshot("action-done", found, "safeguard.entry", tmp_path)


def test_conversation(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    case = record(say)["case"]
    found = entry(say, "conversation", case, "--with", "Karen Webb", "--channel", "phone")
    snapshot("conversation", found, "safeguard.entry", tmp_path)


def test_note(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    case = record(say)["case"]
    snapshot("note", entry(say, "note", case), "safeguard.entry", tmp_path)


def test_amend(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    case = record(say)["case"]
    noted = entry(say, "note", case)
    found = entry(say, "amend", case, str(noted["number"]))
    snapshot("amend", found, "safeguard.entry", tmp_path)


def test_close(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    case = record(say)["case"]
    entry(say, "refer", case, "--to", "lado")
    found = entry(say, "close", case, "--outcome", "substantiated")
    snapshot("close", found, "safeguard.entry", tmp_path)


def test_reopen(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    case = record(say)["case"]
    entry(say, "refer", case, "--to", "lado")
    entry(say, "close", case, "--outcome", "substantiated")
    snapshot("reopen", entry(say, "reopen", case), "safeguard.entry", tmp_path)


def test_cases(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    record(say)
    concern = record(say, category="child-protection", role="pupil")["case"]
    entry(say, "refer", concern, "--to", "mash")
    entry(say, "action", "add", concern, "--owner", "Class teacher", "--due", "2026-11-25")
    snapshot("cases", document("cases"), "safeguard.cases", tmp_path)


# A case's chronology, and who read it ------------------------------------------------------


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tc.Built:
    """The timeline tests' case, written on their own fixed clock, with its DSL acting."""
    case = tc.build_case(tmp_path)
    monkeypatch.setenv("SAFEGUARD_VAULT", str(case.path))
    monkeypatch.setenv("SAFEGUARD_USER", tc.DSL)
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", tc.DSL_PASSPHRASE)
    return case


def test_timeline(built: tc.Built, tmp_path: Path) -> None:
    found = document("timeline", built.reference)
    snapshot("timeline", found, "safeguard.case", tmp_path, produced_at=TIME, checkpoint=CHECKPOINT)


def test_export(built: tc.Built, tmp_path: Path) -> None:
    to = tmp_path / "case.json"
    found = document("export", built.reference, "--format", "json", "--output", str(to))
    snapshot("export", found, "safeguard.export", tmp_path, checkpoint=CHECKPOINT)
    written = json.loads(to.read_text(encoding="utf-8"))
    assert (written["schema"], written["schema_version"]) == ("safeguard.case", 2)


def test_audit(built: tc.Built, tmp_path: Path) -> None:
    document("timeline", built.reference)
    document("export", built.reference, "--format", "json", "--output", str(tmp_path / "c.json"))
    report = str(tmp_path / "report.json")
    made = invoke(
        "report", "--from", "2026-11-01", "--to", "2026-11-30", "-f", "json", "-o", report
    )
    assert made.exit_code == 0, made.stderr
    snapshot("audit", document("audit"), "safeguard.audit", tmp_path, at=TIME)


def test_report(built: tc.Built, tmp_path: Path) -> None:
    """`report --format json`, the governors' report: printed, not a `--json` receipt."""
    result = invoke("report", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    snapshot("report", found, "safeguard.report", tmp_path, produced_at=TIME)


def test_audit_mine(built: tc.Built, tmp_path: Path) -> None:
    document("timeline", built.reference)
    found = document("audit", "--mine")
    snapshot("audit-mine", found, "safeguard.audit", tmp_path, at=TIME)


def test_access_show(built: tc.Built, tmp_path: Path) -> None:
    found = document("access", "show", built.reference)
    snapshot("access-show", found, "safeguard.members", tmp_path)


def test_access_grant(built: tc.Built, tmp_path: Path) -> None:
    document("user", "add", "Sam Okoro", "--role", "head", env=BOB)
    found = document("access", "grant", built.reference, "Sam Okoro")
    snapshot("access-grant", found, "safeguard.members", tmp_path)


def test_access_revoke(built: tc.Built, tmp_path: Path) -> None:
    found = document("access", "revoke", built.reference, tc.DEPUTY)
    snapshot("access-revoke", found, "safeguard.members", tmp_path)


# Backups -----------------------------------------------------------------------------------

MANIFEST = {
    "created_at": TIME,
    "size": NUMBER,
    "sha256": HASH,
    "mac": HASH,
    "vault_id": VAULT_ID,
    "tool_version": VERSION,
}


def backups(say: Say, set_clock: SetClock, folder: Path, *days: int) -> list[Path]:
    """A case, then a backup into `folder` at 02:00 on each of `days` (of November 2026)."""
    record(say)
    made = []
    for day in days:
        set_clock(datetime(2026, 11, day, 2, 0, tzinfo=UTC))
        made.append(Path(document("backup", "create", str(folder))["backup"]))
    return made


def test_backup_create(vault: VaultInfo, say: Say, tmp_path: Path, set_clock: SetClock) -> None:
    record(say)
    folder = tmp_path / "backups"
    folder.mkdir()
    set_clock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    found = document("backup", "create", str(folder))
    snapshot("backup-create", found, "safeguard.backup.create", tmp_path, **MANIFEST)


def test_backup_verify(vault: VaultInfo, say: Say, tmp_path: Path, set_clock: SetClock) -> None:
    (tmp_path / "backups").mkdir()
    (made,) = backups(say, set_clock, tmp_path / "backups", 26)
    found = document("backup", "verify", str(made))
    snapshot("backup-verify", found, "safeguard.backup.verify", tmp_path, checkpoint=CHECKPOINT)


def test_backup_verify_failed(
    vault: VaultInfo, say: Say, tmp_path: Path, set_clock: SetClock
) -> None:
    (tmp_path / "backups").mkdir()
    (made,) = backups(say, set_clock, tmp_path / "backups", 26)
    made.with_suffix(".json").unlink()
    found = document("backup", "verify", str(made), code=1)
    snapshot("backup-verify-failed", found, "safeguard.backup.verify", tmp_path)


def test_backup_list(vault: VaultInfo, say: Say, tmp_path: Path, set_clock: SetClock) -> None:
    (tmp_path / "backups").mkdir()
    backups(say, set_clock, tmp_path / "backups", 26, 27)
    found = document("backup", "list", str(tmp_path / "backups"))
    masks = {"size": NUMBER, "checkpoint": CHECKPOINT}
    snapshot("backup-list", found, "safeguard.backup.list", tmp_path, **masks)


def test_backup_prune(vault: VaultInfo, say: Say, tmp_path: Path, set_clock: SetClock) -> None:
    (tmp_path / "backups").mkdir()
    backups(say, set_clock, tmp_path / "backups", 26, 27)
    found = document("backup", "prune", str(tmp_path / "backups"), "--keep-last", "1")
    snapshot("backup-prune", found, "safeguard.backup.prune", tmp_path)


def test_backup_status(vault: VaultInfo, say: Say, tmp_path: Path, set_clock: SetClock) -> None:
    (tmp_path / "backups").mkdir()
    backups(say, set_clock, tmp_path / "backups", 26, 27)
    set_clock(datetime(2026, 11, 27, 7, 30, tzinfo=UTC))
    found = document("backup", "status", str(tmp_path / "backups"))
    snapshot("backup-status", found, "safeguard.backup.status", tmp_path, age_seconds=NUMBER)


def test_backup_status_failed(
    vault: VaultInfo, say: Say, tmp_path: Path, set_clock: SetClock
) -> None:
    (tmp_path / "backups").mkdir()
    backups(say, set_clock, tmp_path / "backups", 26)
    set_clock(datetime(2026, 11, 29, 7, 30, tzinfo=UTC))
    found = document("backup", "status", str(tmp_path / "backups"), code=1)
    snapshot("backup-status-failed", found, "safeguard.backup.status", tmp_path)


def test_restore(vault: VaultInfo, say: Say, tmp_path: Path, set_clock: SetClock) -> None:
    (tmp_path / "backups").mkdir()
    (made,) = backups(say, set_clock, tmp_path / "backups", 26)
    found = document("restore", str(made), "--to", str(tmp_path / "restored.db"))
    snapshot("restore", found, "safeguard.restore", tmp_path, checkpoint=CHECKPOINT)


# Concerns ----------------------------------------------------------------------------------

TESS = {"SAFEGUARD_USER": "Tess Teacher", "SAFEGUARD_PASSPHRASE": "tess passphrase 2026"}


def concern(say: Say) -> Any:
    """A member of staff, Tess, and her concern about something seen this morning."""
    new = {"SAFEGUARD_NEW_PASSPHRASE": TESS["SAFEGUARD_PASSPHRASE"]}
    document("user", "add", TESS["SAFEGUARD_USER"], "--role", "staff", env=new)
    return document(
        "concern", "--about", "Amy Price", "--about-role", "pupil", "--at", "2026-11-25 08:45",
        "--where", "the playground", "--text-file", say("Amy said: he hits me."),
        "--observations-file", say("She was shaking."), env=TESS,
    )  # fmt: skip


def test_concern(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    snapshot("concern", concern(say), "safeguard.concern", tmp_path, recorded_at=TIME)


def test_concerns(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    concern(say)
    found = document("concerns", env=TESS)
    snapshot("concerns", found, "safeguard.concerns", tmp_path, recorded_at=TIME)


def test_inbox(vault: VaultInfo, say: Say, tmp_path: Path, set_clock: SetClock) -> None:
    concern(say)
    set_clock(datetime(2026, 11, 25, 13, 0, tzinfo=UTC))
    found = document("inbox")
    snapshot("inbox", found, "safeguard.inbox", tmp_path, recorded_at=TIME)
    # What a concern says is given only where the reading is recorded: `inbox N`.
    assert "text" not in found["concerns"][0]
    read = document("inbox", "1")["concerns"][0]
    assert (read["text"], read["observations"]) == ("Amy said: he hits me.", "She was shaking.")


def test_inbox_older_than(vault: VaultInfo, say: Say, tmp_path: Path, set_clock: SetClock) -> None:
    concern(say)
    set_clock(datetime(2026, 11, 25, 16, 0, tzinfo=UTC))
    found = document("inbox", "--older-than", "4h", env={"SAFEGUARD_PASSPHRASE": ""}, code=1)
    snapshot("inbox-older-than", found, "safeguard.inbox.waiting", tmp_path)


def test_triage(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    number = concern(say)["concern"]
    case = record(say, category="child-protection", role="pupil")["case"]
    found = document("triage", str(number), "--case", case)
    snapshot("triage", found, "safeguard.triage", tmp_path)


# Retention, erasure and holds ----------------------------------------------------------------


def closed(say: Say) -> str:
    """A malicious allegation, closed: due for erasure at once."""
    case = str(document(*record_args(say("He messaged her.")))["case"])
    document("refer", case, "--to", "none", "--text-file", say("Unfounded from the start."))
    document("close", case, "--outcome", "malicious", "--text-file", say("Made up."))
    return case


def test_retention(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    closed(say)
    document("hold", closed(say), "--text-file", say("The inquiry asked for it."))
    snapshot("retention", document("retention"), "safeguard.retention", tmp_path, at=TIME)


def test_erase(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    found = document("erase", closed(say), "--text-file", say("A malicious allegation."))
    snapshot("erase", found, "safeguard.erased", tmp_path, erased_at=TIME)


def test_hold_place(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    found = document("hold", "place", closed(say), "--text-file", say("The inquiry asked."))
    snapshot("hold-place", found, "safeguard.hold", tmp_path, at=TIME)


def test_hold_release(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    case = closed(say)
    document("hold", case, "--text-file", say("The inquiry asked."))
    found = document("hold", "release", case)
    snapshot("hold-release", found, "safeguard.hold", tmp_path, at=TIME)


def test_hold_list(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    document("hold", closed(say), "--text-file", say("The inquiry asked."))
    snapshot("hold-list", document("hold", "list"), "safeguard.holds", tmp_path, at=TIME)


def _sar(say: Say, tmp_path: Path) -> Any:
    person = invoke("person", "add", "Daniel Price", "--dob", "1980-05-01", "--role", "staff")
    assert person.exit_code == 0, person.stderr
    record(say)  # about Daniel Price, disclosed by Karen Webb
    out = tmp_path / "sar.html"
    args = ("--output", str(out), "--format", "html", "--received", "2026-11-20")
    return document("sar", "Daniel Price", *args)


def test_sar_make(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    found = _sar(say, tmp_path)
    snapshot("sar-make", found, "safeguard.sar", tmp_path, at=TIME, checkpoint=CHECKPOINT)


def test_sar_list(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    _sar(say, tmp_path)
    snapshot("sar-list", document("sar", "list"), "safeguard.sar.list", tmp_path, at=TIME)


def test_sar_done(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    _sar(say, tmp_path)
    found = document("sar", "done", "1")
    snapshot("sar-done", found, "safeguard.sar.done", tmp_path, at=TIME, done_at=TIME)
