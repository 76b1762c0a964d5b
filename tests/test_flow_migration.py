"""A vault made at schema 0001, holding a case, upgrades to the current schema with
`safeguard db upgrade`: its data intact, its cases' status derived, and `verify` passing."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safeguarding import crypto, migrate, storage
from safeguarding.vault import new_recovery_key
from tests import legacy
from tests.conftest import PASSPHRASE, invoke


def vault_at_0001_with_a_case(path: Path) -> None:
    """The foundation's schema, its first user and one disclosure, written as 0001 could."""
    storage.create_private_file(path)
    engine = storage.make_engine(path)
    try:
        migrate.upgrade(engine, "0001")
    finally:
        engine.dispose()
    with contextlib.closing(storage.connect(path)) as connection:
        keys = legacy.build_v1(
            connection, "alice", PASSPHRASE, crypto.new_key(), new_recovery_key()
        )
        case_key = crypto.new_key()
        wrapped = crypto.seal(keys.field_key, case_key, table="cases", row=1, column="case_key")
        with storage.writing(connection) as db:
            db.execute(
                "INSERT INTO cases (id, year, number, opened_at, case_key) VALUES (?, ?, ?, ?, ?)",
                1,
                2026,
                1,
                "2026-11-02T09:00:00.000000Z",
                wrapped,
            )
            legacy.append_v1(
                db,
                keys,
                payload_key=case_key,
                kind="disclosure",
                author_id=1,
                case_id=1,
                event_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
                recorded_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
                payload={
                    "category": "child-protection",
                    "subjects": [{"name": "Lily Webb", "role": "pupil"}],
                    "disclosed_by": "Lily Webb",
                    "relationship": "the pupil",
                    "received_by": "alice",
                    "where": "classroom",
                    "text": "Written before the upgrade.",
                },
            )


def test_a_0001_vault_with_a_case_upgrades_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "vault.db"
    vault_at_0001_with_a_case(path)
    monkeypatch.setenv("SAFEGUARD_USER", "alice")
    monkeypatch.setenv("SAFEGUARD_PASSPHRASE", PASSPHRASE)

    refused = invoke("cases")
    assert refused.exit_code == 5 and "safeguard db upgrade" in refused.stderr

    upgraded = invoke("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert f"from 0001 to {storage.HEAD_REVISION}" in upgraded.stderr

    # Without a passphrase, the entries from before signatures can only be counted.
    public = json.loads(invoke("verify", "--no-passphrase", "--json").stdout)
    assert (public["entries"], public["unchecked"]) == (3, 3)
    # The first unlock issues alice her key and seals the three old entries into the chain.
    verified = invoke("verify", "--json")
    assert verified.exit_code == 0, verified.stderr
    document = json.loads(verified.stdout)
    assert (document["entries"], document["before_signatures"]) == (4, 3)
    public = json.loads(invoke("verify", "--no-passphrase", "--json").stdout)
    assert (public["entries"], public["unchecked"], public["ok"]) == (4, 3, True)
    listed = json.loads(invoke("cases", "--json", "--names").stdout)
    assert listed == [
        {
            "case": "SG-2026-0001",
            "status": "open",
            "stage": "disclosed",
            "category": "child-protection",
            "subjects": [{"name": "Lily Webb", "role": "pupil"}],
            "next": listed[0]["next"],
            "due": "2026-11-03",
            "overdue": [{"what": "referral to mash", "due": "2026-11-03"}],
            "restricted": False,
        }
    ]
    referred = invoke("refer", "SG-2026-0001", "--to", "mash", "--text-file", "-", input="Done.")
    assert referred.exit_code == 0, referred.stderr
    assert invoke("verify").exit_code == 0

    engine = storage.make_engine(path)
    try:
        migrate.check_drift(engine)
    finally:
        engine.dispose()
