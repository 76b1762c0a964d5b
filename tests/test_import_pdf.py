"""The receiving school takes out the PDF a package came with: found with `import list` (or
the number `import` printed), written byte for byte as the sender made it, private, recorded
as an export of the child's file.  Two vaults, as in tests/test_transfer.py."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from safeguarding import received, storage
from safeguarding.server import location
from safeguarding.vault import Vault
from tests.conftest import VaultInfo, invoke, run
from tests.flowkit import Say
from tests.test_transfer import a_child_with_a_case, entries, school_b, sent

__all__ = ["school_b"]  # the receiving school's vault, a fixture


def _sent_pdf(school_b: dict[str, str], package: Path) -> bytes:
    """The PDF inside the package, as the receiving vault keeps it (the sender's own bytes)."""
    unlocked = Vault.open(location(school_b["SAFEGUARD_VAULT"])).unlock(
        "Bea Bell", "bea passphrase 2026"
    )
    try:
        with storage.reading(unlocked.vault.connection) as db:
            (event,) = db.all(received.Entry, "kind = ?", received.FILE_RECEIVED)
            from safeguarding import chronology

            payload = chronology.open_payload(unlocked.keys.fields, event)
    finally:
        unlocked.close()
    assert package.exists()
    return base64.b64decode(payload["contents"]["pdf"])


@pytest.mark.parametrize(
    ("vault_engine", "school_b"),
    [("sqlite", "sqlite"), ("sqlite", "postgresql")],
    ids=["to-file", "to-server"],
    indirect=True,
)
def test_the_new_school_goes_from_import_to_the_pdf_it_was_sent(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    key = invoke("school-key", env=school_b).stdout.strip()
    sent(tmp_path, key)
    package = tmp_path / "file.sgt"
    imported = run("import", str(package), env=school_b)
    assert imported.returncode == 0, imported.stderr
    told = " ".join(imported.stderr.split())
    assert "It is received file 1: 'safeguard import pdf 1 --output FILE'" in told

    listed = run("import", "list", env=school_b)
    assert listed.returncode == 0, listed.stderr
    assert "Files received" in listed.stdout and "Quartermaine-Okonkwo" in listed.stdout
    assert "yes" in listed.stdout  # it has a PDF
    (row,) = json.loads(run("import", "list", "--json", env=school_b).stdout)["received"]
    assert row["received_file"] == 1 and row["pdf"] is True and row["from"]["sent_by"] == "alice"

    out = tmp_path / "from-the-old-school.pdf"
    before = entries(school_b["SAFEGUARD_VAULT"])
    written = run("import", "pdf", "1", "--output", str(out), "--json", env=school_b)
    assert written.returncode == 0, written.stderr
    assert "plaintext" in written.stderr  # the warning export gives, before it is written
    assert out.read_bytes() == _sent_pdf(school_b, package)  # byte for byte
    assert out.read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(written.stdout)
    assert document["schema"] == "safeguard.import.pdf"
    assert document["bytes"] == out.stat().st_size and document["received_file"] == 1
    assert entries(school_b["SAFEGUARD_VAULT"]) == before + 1

    audit = json.loads(run("audit", "--json", env=school_b).stdout)
    (event,) = [e for e in audit if e.get("format") == "received-pdf"]
    assert event["action"] == "exported" and event["who"] == "Bea Bell"
    assert event["case"] == f"person {row['person']}, received file 1"
    assert event["output"] == out.name
    assert run("verify", env=school_b).returncode == 0


def test_what_import_pdf_refuses_changes_nothing(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    sent(tmp_path, invoke("school-key", env=school_b).stdout.strip())
    assert invoke("import", str(tmp_path / "file.sgt"), env=school_b).exit_code == 0
    taken = tmp_path / "taken.pdf"
    taken.write_bytes(b"kept")
    a_pdf = tmp_path / "sent.pdf"
    a_pdf.write_bytes(b"%PDF-1.7\n")
    before = entries(school_b["SAFEGUARD_VAULT"])
    for args, code, said in (
        (["import", "pdf", "2", "--output", str(tmp_path / "x.pdf")], 4, "no received file"),
        (["import", "pdf", "one", "--output", str(tmp_path / "x.pdf")], 2, "not a received"),
        (["import", "pdf", "1", "--output", str(taken)], 2, "already exists"),
        (["import", "pdf", str(a_pdf), "--output", str(tmp_path / "x.pdf")], 2, "itself a PDF"),
    ):
        refused = run(*args, env=school_b)
        assert refused.returncode == code, (args, refused.stderr)
        assert said in refused.stderr and refused.stdout == ""
        assert "plaintext" not in refused.stderr  # refused before the warning
    assert taken.read_bytes() == b"kept" and not (tmp_path / "x.pdf").exists()
    assert entries(school_b["SAFEGUARD_VAULT"]) == before
    replaced = run("import", "pdf", "1", "--output", str(taken), "--force", env=school_b)
    assert replaced.returncode == 0, replaced.stderr
    assert taken.read_bytes().startswith(b"%PDF")


def test_a_vault_that_received_nothing_says_so(vault: VaultInfo) -> None:
    shown = run("import", "list")
    assert shown.returncode == 0 and "No files have been received" in shown.stderr
    assert json.loads(run("import", "list", "--json").stdout)["received"] == []
    refused = run("import", "pdf", "1", "--output", "x.pdf")
    assert refused.returncode == 4 and "import list" in refused.stderr


def test_a_received_file_that_came_without_a_pdf_is_refused_with_what_to_do() -> None:
    from datetime import UTC, datetime

    from safeguarding.errors import NotAllowed
    from safeguarding.transfer import require_pdf

    moment = datetime(2026, 11, 25, 10, tzinfo=UTC)
    file = received.ReceivedFile(
        person=4, transfer="t", school="Hilltop", sent_by="Ann", sent_at=moment,
        checkpoint="1:00", received_at=moment, received_by="Bea", document={},
    )  # fmt: skip
    with pytest.raises(NotAllowed) as refused:
        require_pdf(received.Imported(3, 9, file, (), None))
    assert "received file 3 holds no PDF" in refused.value.args[0]
    assert "export --file 4 --format pdf" in str(refused.value.hint)
    assert require_pdf(received.Imported(3, 9, file, (), b"%PDF-1.7")) == b"%PDF-1.7"
