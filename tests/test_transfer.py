"""A child's file from one school to the next: two vaults in one test, the sending school's
and the receiving school's, each with its own DSL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from safeguarding import received, storage, transfer_package
from safeguarding.server import Location, Server, location
from safeguarding.vault import Vault
from tests.conftest import DEFAULT_NOW, FAST_KDF, SetClock, VaultInfo, invoke, write_secret
from tests.flowkit import Say, entry, entry_count, record
from tests.pgserver import PgServer

CANARY = "Zebedee Quartermaine-Okonkwo"
TEXTS = (
    "He said: “I don’t want to go home.”\r\nThen, after a pause\t— nothing.  ",
    "Éloïse saw it too; 子供 said 「やめて」.\n\nTwo blank lines follow\n\n",
)


@pytest.fixture
def school_b(
    vault: VaultInfo,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """The receiving school's vault, and the environment that acts in it as its DSL: a file,
    or (parametrized "postgresql") a schema of its own on the tests' server."""
    where: Location = tmp_path / "northfield.db"
    if getattr(request, "param", "sqlite") == "postgresql":
        server: PgServer = request.getfixturevalue("pg_server")
        school = server.school()
        passfile = tmp_path / "pgpass"  # the sending school's line too, if it is on the server
        lines = passfile.read_text(encoding="utf-8") if passfile.exists() else ""
        write_secret(passfile, lines + school.pgpass_line())
        monkeypatch.setenv("PGPASSFILE", str(passfile))
        where = Server.parse(school.url)
    unlocked, _ = Vault.create(where, "Bea Bell", "bea passphrase 2026", kdf=FAST_KDF)
    unlocked.close()
    return {
        "SAFEGUARD_VAULT": str(where),
        "SAFEGUARD_USER": "Bea Bell",
        "SAFEGUARD_PASSPHRASE": "bea passphrase 2026",
    }


def entries(path: str | Location) -> int:
    return entry_count(location(path) if isinstance(path, str) else path)


def a_child_with_a_case(say: Say) -> str:
    """The sending school's child: a case about them, and two notes with awkward texts."""
    case = record(say, "--subject-dob", "2015-06-01", subject=CANARY, role="pupil")["case"]
    for text in TEXTS:
        entry(say, "note", case, text=text)
    return str(case)


def sent(tmp_path: Path, key: str, *extra: str) -> Any:
    result = invoke(
        "transfer", CANARY, "--to", "Northfield Academy", "--key", key,
        "--output", str(tmp_path / "file.sgt"), "--json", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("vault_engine", "school_b"),
    [("sqlite", "sqlite"), ("postgresql", "sqlite"), ("sqlite", "postgresql")],
    ids=["file-to-file", "server-to-file", "file-to-server"],
    indirect=True,
)
def test_a_file_goes_to_the_new_school_whole_and_its_receipt_comes_back(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path
) -> None:
    case = a_child_with_a_case(say)
    theirs = json.loads(invoke("timeline", case, "--json").stdout)
    key = invoke("school-key", env=school_b).stdout.strip()
    done = sent(tmp_path, key)
    package = (tmp_path / "file.sgt").read_bytes()
    assert done["package_fingerprint"] == transfer_package.fingerprint(package)
    assert done["state"] == "awaiting receipt" and done["cases"] == [case]
    for secret in (CANARY, *TEXTS, "2015-06-01"):
        assert secret.encode() not in package  # nothing of the child in clear
        assert secret.encode("utf-16-le") not in package

    imported = invoke("import", str(tmp_path / "file.sgt"), "--json", env=school_b)
    assert imported.exit_code == 0, imported.stderr
    got = json.loads(imported.stdout)
    assert got["added"] and got["cases"] == [case]
    assert got["package_fingerprint"] == done["package_fingerprint"]
    assert got["from"]["school"] and got["from"]["sent_by"] == "alice"

    # Every entry's text arrived byte for byte, with its author and its time.
    unlocked = Vault.open(location(school_b["SAFEGUARD_VAULT"])).unlock(
        "Bea Bell", "bea passphrase 2026"
    )
    try:
        with storage.reading(unlocked.vault.connection) as db:
            (got_file,) = received.received(unlocked, db, got["person"])
    finally:
        unlocked.close()
    (carried,) = got_file.document["cases"]
    sent_entries = {e["id"]: e for e in theirs["entries"]}
    for arrived in carried["entries"]:
        if arrived["id"] in sent_entries:
            original = sent_entries[arrived["id"]]
            assert (arrived["text"], arrived["author"], arrived["at"]) == (
                original["text"], original["author"], original["at"]
            )  # fmt: skip
    assert [e["text"] for e in carried["entries"] if e["kind"] == "note"] == list(TEXTS)

    # The new school's file shows the child and what was sent, as theirs.
    shown = invoke("file", str(got["person"]), env=school_b)
    assert shown.exit_code == 0, shown.stderr
    assert CANARY in shown.stdout and "Received from" in shown.stdout
    assert "alice (Your school)" in shown.stdout  # the sender's author, kept as theirs
    cover = " ".join(shown.stdout.split())  # its cases as they were sent, none of this school's
    assert f"case {case} (open when sent, " in cover and "none here (see Received from)" in cover

    # The sending school enters the code; a wrong one is refused and changes nothing.
    before = entries(vault.path)
    wrong = invoke("transfer", "receipt", str(done["transfer"]), "AAAAA-AAAAA")
    assert wrong.exit_code == 3 and entries(vault.path) == before
    confirmed = invoke("transfer", "receipt", str(done["transfer"]), got["receipt_code"], "--json")
    assert confirmed.exit_code == 0, confirmed.stderr
    assert json.loads(confirmed.stdout)["state"] == "received"
    told = " ".join(invoke("timeline", case).stdout.split())  # the case records the receipt
    assert f"Received: by Northfield Academy (transfer {done['transfer']})" in told
    again = invoke("transfer", "receipt", str(done["transfer"]), got["receipt_code"])
    assert again.exit_code == 3
    listed = json.loads(invoke("transfer", "list", "--json").stdout)["transfers"]
    assert [(t["transfer"], t["state"]) for t in listed] == [(done["transfer"], "received")]
    assert invoke("verify").exit_code == 0
    assert invoke("verify", env=school_b).exit_code == 0
    # The sending school's checkpoint, printed on what it sent, checks its vault, not this one:
    # the new school is told so before being told to restore a backup.
    checkpoint = str(theirs["checkpoint"])
    assert "Your school's vault" in invoke("timeline", case).stdout
    theirs_checked = invoke("verify", "--checkpoint", checkpoint, env=school_b)
    said = " ".join(theirs_checked.stderr.split())
    assert theirs_checked.exit_code == 1
    assert said.index("one printed on a file from another school") < said.index("restore")


def test_a_package_is_imported_once_and_only_by_its_school(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    key = invoke("school-key", env=school_b).stdout.strip()
    sent(tmp_path, key)
    path = str(tmp_path / "file.sgt")
    assert invoke("import", path, env=school_b).exit_code == 0
    before = entries(school_b["SAFEGUARD_VAULT"])
    twice = invoke("import", path, env=school_b)
    assert twice.exit_code == 3 and "imported already" in twice.stderr
    # A PDF is told for what it is, even in a vault with no school key yet.
    pdf = tmp_path / "some.pdf"
    pdf.write_bytes(b"%PDF-1.7\n...")
    read_it = invoke("import", str(pdf))
    assert read_it.exit_code == 1 and "that is a PDF, for reading" in read_it.stderr
    # The sending school's own vault has a key of its own: the package is not for it.
    invoke("school-key")
    elsewhere = invoke("import", path)
    assert elsewhere.exit_code == 3 and "another school" in elsewhere.stderr
    assert len(elsewhere.stderr.strip().splitlines()) <= 2
    assert entries(school_b["SAFEGUARD_VAULT"]) == before


@pytest.mark.parametrize("damage", ["altered", "cut", "not a package"])
def test_a_damaged_package_is_refused_and_nothing_is_written(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path, damage: str
) -> None:
    a_child_with_a_case(say)
    sent(tmp_path, invoke("school-key", env=school_b).stdout.strip())
    path = tmp_path / "file.sgt"
    data = path.read_bytes()
    if damage == "altered":
        at = len(data) * 2 // 3
        data = data[:at] + bytes([data[at] ^ 0x40]) + data[at + 1 :]
    elif damage == "cut":
        data = data[: len(data) // 2]
    else:
        data = b"%PDF-1.7 not a package at all\n"
    path.write_bytes(data)
    before = entries(school_b["SAFEGUARD_VAULT"])
    refused = invoke("import", str(path), env=school_b)
    assert refused.exit_code == 1, refused.stderr
    assert refused.stdout == "" and len(refused.stderr.strip().splitlines()) <= 2
    assert entries(school_b["SAFEGUARD_VAULT"]) == before


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["transfer", "1", "--to", "X", "--key", "SGK1-NOTAKEY", "--output", "f"], 2),
        (["transfer", "Nobody Here", "--to", "X", "--pdf-only", "--output", "f"], 4),
        (["transfer", "99", "--to", "X", "--pdf-only", "--output", "f"], 4),
        (["transfer", "1", "--to", "X", "--output", "f"], 2),  # neither --key nor --pdf-only
        (["transfer", "1", "--to", "  ", "--pdf-only", "--output", "f"], 2),
        (["transfer", "receipt", "7", "AAAAA-AAAAA"], 4),
        (["transfer", "receipt", "seven"], 2),
        (["import", "no-such-file.sgt"], 4),
    ],
)
def test_bad_input_gets_one_line_and_changes_nothing(
    vault: VaultInfo, say: Say, tmp_path: Path, args: list[str], code: int
) -> None:
    a_child_with_a_case(say)
    before = entries(vault.path)
    result = invoke(*[str(tmp_path / a) if a in ("f", "no-such-file.sgt") else a for a in args])
    assert result.exit_code == code, result.stderr
    assert result.stdout == ""
    assert entries(vault.path) == before
    assert not (tmp_path / "f").exists()


def test_a_transfer_with_no_receipt_after_five_school_days_is_overdue(
    vault: VaultInfo, school_b: dict[str, str], say: Say, tmp_path: Path, set_clock: SetClock
) -> None:
    case = a_child_with_a_case(say)
    done = sent(tmp_path, invoke("school-key", env=school_b).stdout.strip())
    # Sent on Wednesday 25 November: due by the end of Wednesday 2 December.
    assert done["due"] == "2026-12-02"
    set_clock(DEFAULT_NOW + timedelta(days=7))
    assert "receipt of the file" not in invoke("cases", "--overdue").stdout
    set_clock(DEFAULT_NOW + timedelta(days=8))
    shown = invoke("cases", "--overdue")
    assert "receipt of the file sent to Northfield Academy" in shown.stdout
    (listed,) = json.loads(invoke("cases", "--overdue", "--json").stdout)
    assert listed["case"] == case
    assert any("transfer 1" in o["what"] for o in listed["overdue"])
    noted = invoke("note", case, "--text-file", say("Phoned Northfield."))
    assert "Overdue: the receipt of the file" in noted.stderr
    row = " ".join(invoke("timeline", case).stdout.split())  # the case's own Overdue row too
    assert "receipt of the file sent to Northfield Academy (transfer 1), due 2026-12-02" in row
    code = invoke("import", str(tmp_path / "file.sgt"), "--json", env=school_b)
    receipt = json.loads(code.stdout)["receipt_code"]
    assert invoke("transfer", "receipt", "1", receipt).exit_code == 0
    assert "receipt of the file" not in invoke("cases", "--overdue").stdout


def test_a_pdf_for_a_school_without_safeguard_is_confirmed_by_hand(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    out = tmp_path / "file.pdf"
    result = invoke("transfer", CANARY, "--to", "St Elsewhere", "--pdf-only", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF")
    unexplained = invoke("transfer", "receipt", "1")
    assert unexplained.exit_code == 2  # no terminal to ask who confirmed it
    confirmed = invoke(
        "transfer", "receipt", "1", "--text-file", say("Mrs Patel, their DSL, by phone."), "--json"
    )
    assert confirmed.exit_code == 0, confirmed.stderr
    assert json.loads(confirmed.stdout)["state"] == "received"
    shown = invoke("file", CANARY).stdout
    assert "to St Elsewhere" in shown and "(received)" in shown


def _school(tmp_path: Path, name: str, dsl: str) -> dict[str, str]:
    """Another school's vault and settings, and the environment that acts in it as its DSL."""
    path = tmp_path / f"{name}.db"
    unlocked, _ = Vault.create(path, dsl, f"{dsl} passphrase 2026", kdf=FAST_KDF)
    unlocked.close()
    config = tmp_path / f"{name}.toml"
    config.write_text(f'school_name = "{name}"\n')
    return {
        "SAFEGUARD_VAULT": str(path),
        "SAFEGUARD_CONFIG": str(config),
        "SAFEGUARD_USER": dsl,
        "SAFEGUARD_PASSPHRASE": f"{dsl} passphrase 2026",
    }


def _send(tmp_path: Path, person: str, to: dict[str, str], name: str, *, env: Any = None) -> str:
    key = invoke("school-key", env=to).stdout.strip()
    path = str(tmp_path / f"{name}.sgt")
    result = invoke(
        "transfer", person, "--to", name, "--key", key, "--output", path, "--force", env=env
    )
    assert result.exit_code == 0, result.stderr
    return path


def test_a_file_passed_on_again_still_reads_whole_and_a_file_sent_twice_reads_once(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    """Caldecote → Northfield → Westgate: Westgate reads Caldecote's entries as Caldecote's,
    and Northfield's file, sent twice, shows each entry once."""
    a_child_with_a_case(say)
    north = _school(tmp_path, "Northfield Academy", "Bea Bell")
    west = _school(tmp_path, "Westgate School", "Cal Cole")
    first = _send(tmp_path, CANARY, north, "Northfield Academy")
    imported = json.loads(invoke("import", first, "--json", env=north).stdout)
    person = str(imported["person"])
    to_west = _send(tmp_path, person, west, "Westgate School", env=north)
    assert invoke("import", to_west, env=west).exit_code == 0
    shown = invoke("file", "1", env=west).stdout
    for text in TEXTS:
        assert " ".join(text.split()[:3]) in shown  # Caldecote's notes, passed on
    assert "passed on by Northfield Academy" in shown
    # Caldecote sends again, later; Northfield imports the newer file too.
    again = _send(tmp_path, CANARY, north, "Northfield Academy")
    assert invoke("import", again, env=north).exit_code == 0
    twice = invoke("file", person, env=north).stdout
    assert twice.count("I don’t want to go home") == 1


def test_what_a_transfer_says_of_keys_restricted_cases_and_pdfs(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    north = _school(tmp_path, "Northfield Academy", "Bea Bell")
    key = invoke("school-key", env=north).stdout.strip()
    fingerprint = transfer_package.fingerprint(transfer_package.parse_key(key))
    sent_ = invoke("transfer", CANARY, "--to", "Northfield Academy", "--key", key, "--output",
                   str(tmp_path / "a.sgt"))  # fmt: skip
    assert f"sealed to the key with the fingerprint {fingerprint}" in sent_.stderr
    assert "restricted" not in sent_.stderr  # alice can read every case there is
    for args, why in (
        (["--key", key, "--pdf-only"], "not both"),
        (["--pdf-only", "--output", "-"], "written to a file"),
    ):
        extra = [] if "--output" in args else ["--output", str(tmp_path / "b.pdf")]
        refused = invoke("transfer", CANARY, "--to", "X", *args, *extra)
        assert refused.exit_code == 2 and why in refused.stderr
    pdf = invoke("transfer", CANARY, "--to", "St Elsewhere", "--pdf-only", "--output",
                 str(tmp_path / "c.pdf"))  # fmt: skip
    assert pdf.exit_code == 0, pdf.stderr
    coded = invoke("transfer", "receipt", "2", "AAAAA-AAAAA")
    assert coded.exit_code == 2 and "no receipt code" in coded.stderr
    read_it = invoke("import", str(tmp_path / "c.pdf"), env=north)
    assert read_it.exit_code == 1 and "that is a PDF, for reading" in read_it.stderr
    done = invoke("transfer", "receipt", "2", "--text-file", say("Mrs Khan, by phone."))
    assert done.exit_code == 0, done.stderr
    listed = invoke("transfer", "list", env={"COLUMNS": "200"}).stdout
    assert "Mrs Khan, by phone." in listed and f"{CANARY} (born 2015-06-01)" in listed
    audit = [e.get("kind") for e in json.loads(invoke("audit", "--json").stdout)]
    assert audit.count("file_transferred") == 2 and "transfer_confirmed" in audit


def test_a_vault_without_a_school_key_refuses_a_package_before_the_passphrase(
    vault: VaultInfo, say: Say, tmp_path: Path
) -> None:
    a_child_with_a_case(say)
    north = _school(tmp_path, "Northfield Academy", "Bea Bell")
    package = _send(tmp_path, CANARY, north, "Northfield Academy")
    west = _school(tmp_path, "Westgate School", "Cal Cole")
    # A passphrase that does not open the vault: were it tried, the refusal would say so.
    refused = invoke("import", package, env={**west, "SAFEGUARD_PASSPHRASE": "not Cal's"})
    assert refused.exit_code == 3 and "no school key" in refused.stderr


def test_a_transfer_of_a_file_with_no_case_is_overdue_in_cases_overdue(
    vault: VaultInfo, say: Say, tmp_path: Path, set_clock: SetClock
) -> None:
    assert invoke("person", "add", "Ben Price", "--dob", "2013-07-02").exit_code == 0
    north = _school(tmp_path, "Northfield Academy", "Bea Bell")
    _send(tmp_path, "Ben Price", north, "Northfield Academy")
    set_clock(DEFAULT_NOW + timedelta(days=8))
    shown = invoke("cases", "--overdue")
    assert "Transfer 1 (the file of person 1, to Northfield Academy): no receipt" in shown.stdout


def test_a_key_made_before_the_school_is_named_says_so_first(vault: VaultInfo) -> None:
    made = invoke("school-key")
    said = " ".join(made.stderr.split())
    assert made.exit_code == 0 and "This is the key of this school (its name is not set)" in said
    assert "key of Your school" not in said and "Set school_name" in said
