"""The `--json` documents of people and the child's file, one snapshot a command, as
`test_json_documents` takes the others'."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import VaultInfo, invoke
from tests.flowkit import Say, record_args
from tests.test_json_documents import CHECKPOINT, TIME, document, fixed, snapshot  # noqa: F401


def _people() -> None:
    for args in (
        ("Amy Price", "--dob", "2016-03-14", "--year-group", "Year 5", "--upn", "A123456789012"),
        ("Dana Price", "--dob", "1988-01-02", "--role", "parent"),
    ):
        assert invoke("person", "add", *args).exit_code == 0


def _case(say: Say) -> str:
    args = record_args(say("She said it."), category="child-protection", subject="Amy Price")
    result = invoke(
        *[a if a != "staff" else "pupil" for a in args],
        "--subject-dob",
        "2016-03-14",
        "--at",
        "2026-11-25 09:30",
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_person_add(vault: VaultInfo, tmp_path: Path) -> None:
    found = document("person", "add", "Amy Price", "--dob", "2016-03-14")
    snapshot("person-add", found, "safeguard.person", tmp_path, added_at=TIME)


def test_person_list(vault: VaultInfo, tmp_path: Path) -> None:
    _people()
    found = document("person", "list")
    snapshot("person-list", found, "safeguard.person.list", tmp_path, added_at=TIME)


def test_person_show(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    args = record_args(say("She said it."), category="child-protection", subject="Amy Price")
    reference = invoke(*args).stdout.strip()
    _people()
    assert invoke("person", "link-case", "1", reference).exit_code == 0
    assert invoke("person", "link", "1", "2", "--as", "parent").exit_code == 0
    found = document("person", "show", "1")
    snapshot("person-show", found, "safeguard.person", tmp_path, added_at=TIME)


def test_person_link(vault: VaultInfo, tmp_path: Path) -> None:
    _people()
    found = document("person", "link", "1", "2", "--as", "parent")
    snapshot("person-link", found, "safeguard.person.link", tmp_path)


def test_person_link_case(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    args = record_args(say("She said it."), category="child-protection", subject="Amy Price")
    reference = invoke(*args).stdout.strip()
    _people()
    found = document("person", "link-case", "1", reference)
    snapshot("person-link-case", found, "safeguard.person.link-case", tmp_path)


def test_file(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    _people()
    _case(say)
    found = document("file", "1")
    snapshot(
        "file",
        found,
        "safeguard.file",
        tmp_path,
        produced_at=TIME,
        checkpoint=CHECKPOINT,
        added_at=TIME,
        recorded_at=TIME,
    )


def test_export_of_a_file(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    _people()
    _case(say)
    to = tmp_path / "file.json"
    found = document("export", "--file", "1", "--format", "json", "--output", str(to))
    snapshot("export-file", found, "safeguard.file.export", tmp_path, checkpoint=CHECKPOINT)
