"""Backups of a vault: consistent copies taken while others write, their manifests and checks,
and retention.  (Putting one back is `safeguarding.restore`.)

This module names what the others do: `backup_files` (names and manifests), `backup_folder`
(the folder, its lock, healing), `backup_create`, `backup_check` (check, verify, list),
`backup_status` and `backup_prune`.  Every file is written by `safeguarding.files`.

A backup is a byte copy of the vault's ciphertext, so taking, listing, pruning and checking one
needs no secret; only the full check (chain and decryption) unlocks a scratch copy.  Nothing here
may write a key or plaintext to disk, delete a backup that no rule lets go, or change a file in
place: every file appears whole, by link or rename, or not at all.

A backup folder holds only safeguard's files::

    safeguard-20261124T020000Z.db       the copy (SQLite, rollback-journal mode, 0600)
    safeguard-20261124T020000Z.json     its manifest (below), 0600
    safeguard-20261124T020000Z-1.db     a second backup taken in the same second
    safeguard-20261124T020000Z.pruning  a manifest `prune` has taken back (below)
    .safeguard-backup.lock              held (flock) by the `create` or `prune` that is running
    .safeguard-PID-<hex>.part           a copy (or a manifest) being written (`safeguarding.files`)
    .safeguard-<hex>.tmp, .json.tmp     the same, written by safeguard 0.1.0
    .safeguard-scratch-<hex>/           a `backup verify --full` at work (`safeguarding.scratch`)

Manifest, format ``safeguard-backup/1`` (JSON; nothing in it is personal)::

    {"format", "file", "created_at" (UTC, ISO 8601), "size", "sha256", "schema_revision",
     "tool_version", "entries", "checkpoint": {"seq", "mac"}, "vault_id"}

`vault_id` is a hash of the MAC of the vault's first chronology entry: it tells one vault's
backups from another's without revealing anything.

The order of every change, so that a kill between any two steps leaves nothing half there that
the next `create` or `prune` (both under the folder's lock) cannot finish:

- `create`: the copy is written and fsynced under a temporary name; then its manifest is
  written and published first, then the copy (each by a link, or by a rename where the
  filesystem has no links).  A kill between the two leaves a manifest beside a temporary copy
  whose size and sha256 are the manifest's: the next run puts that copy in place.  A manifest
  with no such copy is never touched: it is what a lost backup looks like.
- `prune`: a backup's manifest is first renamed ``.pruning`` (one rename: the decision, on disk),
  then the copy is removed, then the mark.  A kill leaves a mark, never a lone manifest, and the
  next run removes the marked copy and the mark.
- A backup or manifest dated more than `CLOCK_SKEW` after `clock.now()` counts for no rule and is
  never "the newest verified backup"; `list` shows it and `status` fails naming it.
"""

from __future__ import annotations

from safeguarding.backup_check import (
    Check,
    Verified,
    check,
    describe_age,
    list_backups,
    newest_recorded_head,
    verify,
)
from safeguarding.backup_create import Created, create
from safeguarding.backup_files import (
    BACKUP_NAME,
    CLOCK_SKEW,
    IGNORED_NAMES,
    LOCK_NAME,
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    PRUNE_MARK,
    STAMP_FORMAT,
    BackupFile,
    Manifest,
    Progress,
    Unlocker,
    backup_name,
    manifest_path,
    vault_id_of,
    write_error,
)
from safeguarding.backup_folder import checkpoints_for, folder_lock, foreign_files, scan
from safeguarding.backup_prune import Pruned, prune
from safeguarding.backup_status import Status, status

__all__ = [
    "BACKUP_NAME",
    "CLOCK_SKEW",
    "IGNORED_NAMES",
    "LOCK_NAME",
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "PRUNE_MARK",
    "STAMP_FORMAT",
    "BackupFile",
    "Check",
    "Created",
    "Manifest",
    "Progress",
    "Pruned",
    "Status",
    "Unlocker",
    "Verified",
    "backup_name",
    "check",
    "checkpoints_for",
    "create",
    "describe_age",
    "folder_lock",
    "foreign_files",
    "list_backups",
    "manifest_path",
    "newest_recorded_head",
    "prune",
    "scan",
    "status",
    "vault_id_of",
    "verify",
    "write_error",
]
