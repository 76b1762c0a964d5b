"""Vaults written as safeguard 0.1.0 wrote them, before signatures: key slots bound to their row
id alone, entries chained by an HMAC keyed from the vault key.  For migration tests only."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from safeguarding import chronology, clock, crypto, storage
from safeguarding.db import Db, Entry
from safeguarding.vault import Keys


def append_v1(
    db: Db,
    keys: Keys,
    *,
    payload_key: bytes,
    kind: str,
    author_id: int,
    payload: dict[str, Any],
    case_id: int | None = None,
    event_at: datetime | None = None,
    recorded_at: datetime | None = None,
) -> None:
    head_seq, head_mac = db.execute(
        "SELECT head_seq, head_mac FROM vault_meta WHERE id = 1"
    ).fetchone()
    recorded = recorded_at or clock.now()
    seq = head_seq + 1
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    entry = Entry(
        seq=seq,
        case_id=case_id,
        kind=kind,
        event_at=clock.to_text(event_at or recorded),
        recorded_at=clock.to_text(recorded),
        author_id=author_id,
        payload=crypto.seal(payload_key, data, table="entries", row=seq, column="payload"),
        mac=b"",
    )
    entry.mac = chronology.mac_of(keys.mac_key, bytes(head_mac), entry)
    db.connection.execute(
        "INSERT INTO entries (seq, case_id, kind, event_at, recorded_at, author_id, payload, mac) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.seq,
            entry.case_id,
            entry.kind,
            entry.event_at,
            entry.recorded_at,
            entry.author_id,
            entry.payload,
            entry.mac,
        ),
    )
    db.execute("UPDATE vault_meta SET head_seq = ?, head_mac = ? WHERE id = 1", seq, entry.mac)


def build_v1(
    connection: sqlite3.Connection, name: str, passphrase: str, vault_key: bytes, recovery_key: str
) -> Keys:
    """The first user (a DSL), the recovery slot and the first two entries, as 0.1.0 made them
    (at schema 0001: no signing-key columns are written)."""
    keys = Keys.from_vault_key(vault_key)
    kdf = crypto.DEFAULT_KDF
    now = clock.now()
    with storage.writing(connection) as db:
        salt = crypto.new_salt()
        insert = db.connection.execute
        insert(
            "INSERT INTO vault_meta (id, format, created_at, lookup_salt, head_seq, head_mac) "
            "VALUES (1, 1, ?, ?, 0, ?)",
            (clock.to_text(now), salt, crypto.GENESIS_MAC),
        )
        insert(
            "INSERT INTO users (id, name_tag, name, role, created_at) VALUES (?, ?, ?, ?, ?)",
            (
                1,
                crypto.lookup_tag(salt, name),
                crypto.seal_text(keys.field_key, name, table="users", row=1, column="name"),
                crypto.seal_text(keys.field_key, "dsl", table="users", row=1, column="role"),
                clock.to_text(now),
            ),
        )
        for slot_id, purpose, user_id, secret in (
            (1, "passphrase", 1, passphrase),
            (2, "recovery", None, recovery_key),
        ):
            slot_salt = crypto.new_salt()
            kek = crypto.stretch(secret, slot_salt, kdf)
            wrapped = crypto.seal(
                kek, vault_key, table="key_slots", row=slot_id, column="wrapped_key"
            )
            insert(
                "INSERT INTO key_slots (id, purpose, user_id, kdf, kdf_iterations, "
                "kdf_memory_kib, kdf_lanes, salt, wrapped_key, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    slot_id,
                    purpose,
                    user_id,
                    kdf.name,
                    kdf.iterations,
                    kdf.memory_kib,
                    kdf.lanes,
                    slot_salt,
                    wrapped,
                    clock.to_text(now),
                ),
            )
        for kind, payload in (
            ("vault_created", {"format": 1}),
            ("user_added", {"user": name, "role": "dsl"}),
        ):
            append_v1(
                db,
                keys,
                payload_key=keys.field_key,
                kind=kind,
                author_id=1,
                payload=payload,
                recorded_at=now,
            )
    return keys
