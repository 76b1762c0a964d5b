"""The `--json` documents of children's files sent and received, one snapshot a command, as
`test_json_documents` takes the others'."""

from __future__ import annotations

from pathlib import Path

from safeguarding.vault import Vault
from tests.conftest import FAST_KDF, VaultInfo, invoke
from tests.flowkit import Say, record
from tests.test_json_documents import CHECKPOINT, HASH, TIME, document, fixed, snapshot  # noqa: F401

KEY = r"SGK1-[A-Z2-7]{58}"
FINGERPRINT = r"([0-9A-F]{4} ){4}[0-9A-F]{4}"
CODE = r"[A-Z2-7]{5}-[A-Z2-7]{5}"


def _sent(say: Say, tmp_path: Path) -> tuple[dict[str, str], str]:
    """A child with a case here, and the receiving school's vault with its key."""
    record(say, "--subject-dob", "2016-03-14", subject="Amy Price", role="pupil")
    path = tmp_path / "northfield.db"
    unlocked, _ = Vault.create(path, "Bea Bell", "bea passphrase 2026", kdf=FAST_KDF)
    unlocked.close()
    env = {
        "SAFEGUARD_VAULT": str(path),
        "SAFEGUARD_USER": "Bea Bell",
        "SAFEGUARD_PASSPHRASE": "bea passphrase 2026",
    }
    return env, invoke("school-key", env=env).stdout.strip()


def _send(tmp_path: Path, key: str) -> object:
    return document(
        "transfer", "1", "--to", "Northfield Academy", "--key", key,
        "--output", str(tmp_path / "amy.sgt"),
    )  # fmt: skip


def test_school_key(vault: VaultInfo, tmp_path: Path) -> None:
    found = document("school-key")
    snapshot(
        "school-key", found, "safeguard.school-key", tmp_path,
        key=KEY, fingerprint=FINGERPRINT, made_at=TIME,
    )  # fmt: skip


def test_transfer_send(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    _, key = _sent(say, tmp_path)
    snapshot(
        "transfer-send", _send(tmp_path, key), "safeguard.transfer", tmp_path,
        key=FINGERPRINT, package_sha256=HASH, package_fingerprint=FINGERPRINT, sent_at=TIME,
        checkpoint=CHECKPOINT,
    )  # fmt: skip


def test_transfer_list(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    _, key = _sent(say, tmp_path)
    _send(tmp_path, key)
    snapshot(
        "transfer-list", document("transfer", "list"), "safeguard.transfer.list", tmp_path,
        key=FINGERPRINT, package_sha256=HASH, sent_at=TIME,
    )  # fmt: skip


def test_transfer_receipt_and_import(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    env, key = _sent(say, tmp_path)
    _send(tmp_path, key)
    imported = document("import", str(tmp_path / "amy.sgt"), env=env)
    snapshot(
        "import-package", imported, "safeguard.import", tmp_path,
        sent_at=TIME, their_checkpoint=CHECKPOINT, receipt_code=CODE,
        package_fingerprint=FINGERPRINT,
    )  # fmt: skip
    confirmed = document("transfer", "receipt", "1", imported["receipt_code"])
    snapshot(
        "transfer-receipt", confirmed, "safeguard.transfer.receipt", tmp_path,
        key=FINGERPRINT, package_sha256=HASH, sent_at=TIME, received_at=TIME,
    )  # fmt: skip


def test_transfer_withdraw(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    _, key = _sent(say, tmp_path)
    _send(tmp_path, key)
    withdrawn = document(
        "transfer", "withdraw", "1", "--text-file", say("Sent to the wrong school.\n")
    )
    snapshot(
        "transfer-withdraw", withdrawn, "safeguard.transfer.withdraw", tmp_path,
        key=FINGERPRINT, package_sha256=HASH, sent_at=TIME, withdrawn_at=TIME,
    )  # fmt: skip


def test_import_list_and_pdf(vault: VaultInfo, say: Say, tmp_path: Path) -> None:
    env, key = _sent(say, tmp_path)
    _send(tmp_path, key)
    document("import", str(tmp_path / "amy.sgt"), env=env)
    masks = {"sent_at": TIME, "received_at": TIME, "their_checkpoint": CHECKPOINT}
    listed = document("import", "list", env=env)
    snapshot("import-list", listed, "safeguard.import.list", tmp_path, **masks)
    written = document("import", "pdf", "1", "--output", str(tmp_path / "amy.pdf"), env=env)
    snapshot("import-pdf", written, "safeguard.import.pdf", tmp_path, bytes=r"\d+", **masks)
