"""`record` as a guided interview at a terminal, text typed at prompts or written in $EDITOR,
and Ctrl-C (or running out of input) saving nothing."""

from __future__ import annotations

import json
import os
import pty
import stat
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, VaultInfo, invoke
from tests.flowkit import entry_count, record, text_writer


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguarding.cli import credentials

    monkeypatch.setattr(credentials, "is_interactive", lambda: True)


def answers(*lines: str) -> str:
    return "\n".join(lines) + "\n"


INTERVIEW = (
    "2",  # category: staff-pupil-contact
    "Daniel Price",
    "3",  # role: staff
    "y",  # anyone else?
    "Lily Webb",
    "ex-pupil",
    "n",
    "Karen Webb",
    "parent of an ex-pupil",
    "the school office",
    "Ruth Hill",  # received it: a teacher heard it first
    "",  # when: now
    'She said: "He messages Lily on Instagram."',
    "It started in the summer.",
    ".",
    "y",  # observations?
    "Mrs Webb was calm.",
    ".",
)


def test_guided_record_asks_everything_and_confirms(vault: VaultInfo, terminal: None) -> None:
    result = invoke("record", input=answers(*INTERVIEW, "y"))
    assert result.exit_code == 0, result.stderr
    reference = result.stdout.strip()
    assert reference.startswith("SG-")
    assert "staff-pupil-contact" in result.stderr  # the choices were listed
    assert "Check before saving" in result.stderr and "Save this record?" in result.stderr
    assert "now, when saved (20" in result.stderr  # the time, not just the word

    from safeguarding import categories, config
    from safeguarding.cases import Casebook
    from safeguarding.vault import Vault

    unlocked = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    try:
        disclosure = Casebook(unlocked, categories.load(), config.load()).read(reference).disclosure
    finally:
        unlocked.close()
    assert disclosure.data["category"] == "staff-pupil-contact"
    assert disclosure.data["subjects"] == [
        {"name": "Daniel Price", "role": "staff"},
        {"name": "Lily Webb", "role": "ex-pupil"},
    ]
    assert disclosure.data["relationship"] == "parent of an ex-pupil"
    assert disclosure.data["received_by"] == "Ruth Hill"
    assert (
        disclosure.text == 'She said: "He messages Lily on Instagram."\nIt started in the summer.'
    )
    assert disclosure.data["observations"] == "Mrs Webb was calm."


def test_enter_at_who_received_it_records_the_dsl(vault: VaultInfo, terminal: None) -> None:
    interview = list(INTERVIEW)
    interview[interview.index("Ruth Hill")] = ""
    result = invoke("record", "--json", input=answers(*interview, "y"))
    assert result.exit_code == 0, result.stderr
    case = json.loads(result.stdout)["case"]
    timeline = invoke("timeline", case, "--json").stdout
    disclosure = json.loads(timeline)["entries"][0]
    assert disclosure["kind"] == "disclosure"
    assert disclosure["data"]["received_by"] == "alice"


def test_a_bad_answer_is_asked_again(vault: VaultInfo, terminal: None) -> None:
    interview = list(INTERVIEW)
    interview[0:1] = ["99", "gossip", "staff-misuse"]
    interview[interview.index("", 3) : interview.index("", 3) + 1] = ["next week", "2000-01-01"]
    result = invoke("record", input=answers(*interview, "y"))
    assert result.exit_code == 0, result.stderr
    assert "Choose a number from 1 to 11" in result.stderr
    assert "'next week' is not a date or time" in result.stderr


def test_a_number_must_be_in_ascii_digits(vault: VaultInfo, terminal: None) -> None:
    # "²" and "٣" are digits to str.isdigit; they were an internal error (exit 70).
    interview = list(INTERVIEW)
    interview[0:1] = ["²", "٢", "2"]
    interview[2:3] = ["³", "3"]
    result = invoke("record", input=answers(*interview, "y"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("Choose a number from 1 to") == 3


def test_an_empty_account_is_asked_again(vault: VaultInfo, terminal: None) -> None:
    # A lone "." used to pass, and the record failed only after "Save this record? y".
    interview = list(INTERVIEW)
    start = interview.index(".") - 2  # the account's first line
    interview[start:start] = [".", "   ", "."]
    result = invoke("record", input=answers(*interview, "y"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("The account cannot be empty") == 2
    assert result.stdout.strip().startswith("SG-")


@pytest.mark.parametrize("typed", ["", "Half a note\n", "Half a note\nno full stop"])
def test_end_of_input_before_the_full_stop_saves_nothing(
    vault: VaultInfo, tmp_path: Path, typed: str
) -> None:
    case = record(text_writer(tmp_path))["case"]
    before = entry_count(vault.path)
    from safeguarding.cli import credentials

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(credentials, "is_interactive", lambda: True)
        result = invoke("note", case, input=typed)
    assert result.exit_code == 130, result.stderr
    assert "input ended before the closing '.'; nothing was saved" in result.stderr
    assert entry_count(vault.path) == before


def test_ctrl_c_while_typing_saves_nothing(
    vault: VaultInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = record(text_writer(tmp_path))["case"]
    before = entry_count(vault.path)
    from safeguarding.cli import casework, credentials

    lines = iter(["The first line\n"])

    def typed() -> str:
        for line in lines:
            return line
        raise KeyboardInterrupt

    monkeypatch.setattr(credentials, "is_interactive", lambda: True)
    monkeypatch.setattr(casework, "_read_line", typed)
    result = invoke("note", case)
    assert result.exit_code == 130
    assert result.stderr.rstrip().endswith("cancelled: nothing was saved")
    assert entry_count(vault.path) == before


def test_declining_the_summary_saves_nothing(vault: VaultInfo, terminal: None) -> None:
    before = entry_count(vault.path)
    result = invoke("record", input=answers(*INTERVIEW, "n"))
    assert result.exit_code == 130 and "nothing was saved" in result.stderr
    assert entry_count(vault.path) == before


def test_ctrl_c_or_end_of_input_in_the_middle_saves_nothing(
    vault: VaultInfo, terminal: None
) -> None:
    before = entry_count(vault.path)
    result = invoke("record", input=answers(*INTERVIEW[:5]))
    assert result.exit_code == 130 and "nothing was saved" in result.stderr
    assert entry_count(vault.path) == before
    assert json.loads(invoke("cases", "--json").stdout) == []


def test_options_given_are_not_asked_again(vault: VaultInfo, terminal: None) -> None:
    result = invoke(
        "record",
        "--category",
        "pupil-under-13",
        "--subject",
        "Sam Small",
        "--subject-role",
        "pupil",
        "--disclosed-by",
        "Sam Small",
        "--relationship",
        "the pupil",
        "--where",
        "classroom",
        "--at",
        "2026-01-05 09:00",
        input=answers("I have TikTok.", ".", "n", "y"),
    )
    assert result.exit_code == 0, result.stderr
    assert "Who is it about" not in result.stderr and "Category" not in result.stderr
    assert "Decide whether to refer" in result.stderr


def test_entry_text_typed_at_the_prompt(vault: VaultInfo, tmp_path: Path) -> None:
    case = record(text_writer(tmp_path))["case"]
    from safeguarding.cli import credentials

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(credentials, "is_interactive", lambda: True)
        result = invoke("note", case, "--json", input=answers("First line", "Second", "."))
    assert result.exit_code == 0, result.stderr
    assert "end with a line holding only a full stop" in result.stderr


def test_editor_text_is_written_in_a_private_file_that_is_removed(
    vault: VaultInfo, terminal: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = record(text_writer(tmp_path))["case"]
    seen = tmp_path / "seen.txt"
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import os, stat, sys\n"
        "path = sys.argv[1]\n"
        f"open({str(seen)!r}, 'w').write(path + ' ' + oct(stat.S_IMODE(os.stat(path).st_mode)))\n"
        "open(path, 'w').write('Written in the editor.')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    monkeypatch.delenv("VISUAL", raising=False)
    result = invoke("note", case, "--editor", "--json")
    assert result.exit_code == 0, result.stderr
    path, mode = seen.read_text().split()
    assert mode == oct(stat.S_IRUSR | stat.S_IWUSR)
    if Path("/dev/shm").is_dir():
        assert path.startswith("/dev/shm/")
    assert not Path(path).exists()


@pytest.mark.parametrize("hangup", ["SIGHUP", "SIGTERM"])
def test_a_dropped_session_while_the_editor_is_open_leaves_no_text_behind(
    vault: VaultInfo, tmp_path: Path, hangup: str
) -> None:
    """An SSH session that drops sends SIGHUP: the half-written text in the editor's file must
    go, as on Ctrl-C, not stay in /dev/shm until the computer restarts."""
    import signal
    import subprocess
    import time

    from tests.conftest import safeguard_executable

    case = record(text_writer(tmp_path))["case"]
    seen = tmp_path / "seen.txt"
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, time\n"
        "open(sys.argv[1], 'w').write('Half-written canary text')\n"
        f"open({str(seen)!r}, 'w').write(sys.argv[1])\n"
        "time.sleep(60)\n"
    )
    before = entry_count(vault.path)
    controller, terminal = pty.openpty()  # a terminal, or --editor would not be offered
    process = subprocess.Popen(
        [safeguard_executable(), "note", case, "--editor"],
        env={**os.environ, "EDITOR": f"{sys.executable} {editor}", "VISUAL": ""},
        stdin=terminal,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(terminal)
    deadline = time.monotonic() + 30
    while not seen.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    path = Path(seen.read_text())
    assert path.exists()
    process.send_signal(getattr(signal, hangup))
    process.wait(timeout=30)
    os.close(controller)
    assert process.returncode == 130
    assert not path.exists(), "the editor's file was left behind"
    assert entry_count(vault.path) == before


@pytest.mark.parametrize(
    ("editor", "named"),
    [
        ("/nonexistent/editor", "'/nonexistent/editor'"),
        ("/dev/null", "'/dev/null'"),
        ('vim "unclosed', "EDITOR='vim \"unclosed'"),
        ("   ", "EDITOR='   '"),
    ],
)
def test_an_editor_that_cannot_run_is_a_usage_error(
    vault: VaultInfo,
    terminal: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    editor: str,
    named: str,
) -> None:
    case = record(text_writer(tmp_path))["case"]
    before = entry_count(vault.path)
    monkeypatch.setenv("EDITOR", editor)
    monkeypatch.delenv("VISUAL", raising=False)
    (tmp_path / "scratch").mkdir()
    from safeguarding.cli import casework

    monkeypatch.setattr(casework, "memory_folder", lambda: tmp_path / "scratch")
    result = invoke("note", case, "--editor")
    assert result.exit_code == 2, result.stderr
    assert named in result.stderr and "nothing was saved" in result.stderr
    assert entry_count(vault.path) == before
    assert list((tmp_path / "scratch").iterdir()) == []  # the temporary file is gone


def test_an_empty_editor_text_offers_the_editor_again(
    vault: VaultInfo, terminal: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = record(text_writer(tmp_path))["case"]
    runs = tmp_path / "runs"
    editor = tmp_path / "editor.py"
    editor.write_text(  # leaves the file empty the first time, writes the note the second
        "import pathlib, sys\n"
        f"runs = pathlib.Path({str(runs)!r})\n"
        "runs.write_text(runs.read_text() + 'x' if runs.exists() else 'x')\n"
        "if len(runs.read_text()) > 1:\n"
        "    open(sys.argv[1], 'w').write('Second try.')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    monkeypatch.delenv("VISUAL", raising=False)
    before = entry_count(vault.path)
    declined = invoke("note", case, "--editor", input="n\n")
    assert (
        declined.exit_code == 2 and "The note is empty. Open the editor again?" in declined.stderr
    )
    assert entry_count(vault.path) == before
    runs.unlink()
    again = invoke("note", case, "--editor", "--json", input="y\n")
    assert again.exit_code == 0, again.stderr
    assert runs.read_text() == "xx" and entry_count(vault.path) == before + 1


# Typed text is never lost because a check came too late, nor thrown away unasked -------------


def test_a_due_date_in_the_past_is_refused_before_anything_is_asked(
    vault: VaultInfo, terminal: None, tmp_path: Path
) -> None:
    case = record(text_writer(tmp_path))["case"]
    before = entry_count(vault.path)
    result = invoke("action", "add", case, "--due", "2000-01-01", input=answers("Head", "x", "."))
    assert result.exit_code == 2, result.stderr
    assert "the due date 2000-01-01 is before the action was set" in result.stderr
    assert "Who is to do it" not in result.stderr and "What is to be done" not in result.stderr
    assert entry_count(vault.path) == before


def test_a_closed_case_is_refused_before_the_text_is_asked_for(
    vault: VaultInfo, terminal: None, tmp_path: Path
) -> None:
    write = text_writer(tmp_path)
    case = record(write, category="pupil-under-13")["case"]
    for args in (("refer", case, "--to", "none"), ("close", case, "--outcome", "resolved")):
        done = invoke(*args, "--text-file", write("Dealt with in school."))
        assert done.exit_code == 0, done.stderr
    before = entry_count(vault.path)
    for args in (
        ("advice", case, "--from", "LADO"),
        ("conversation", case, "--channel", "phone", "--with", "Mrs Webb"),
        ("action", "add", case, "--due", "2099-01-01", "--owner", "Head"),
    ):
        result = invoke(*args, input=answers("Typed in vain.", "."))
        assert result.exit_code == 3, (args, result.stderr)
        assert "is closed" in result.stderr
        assert "Type it below" not in result.stderr, args  # no text was asked for
    assert entry_count(vault.path) == before


def test_the_review_changes_one_answer_and_shows_it_again(vault: VaultInfo, terminal: None) -> None:
    result = invoke("record", "--json", input=answers(*INTERVIEW, "6", "the library", "y"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("Check before saving") == 2
    assert "1-8: change that answer" in result.stderr
    case = json.loads(result.stdout)["case"]
    disclosure = json.loads(invoke("timeline", case, "--json").stdout)["entries"][0]
    assert disclosure["data"]["where"] == "the library"
    assert disclosure["data"]["disclosed_by"] == "Karen Webb"  # the rest as first answered


def test_the_review_changes_the_account_and_the_subjects(vault: VaultInfo, terminal: None) -> None:
    changes = ("7", "Corrected account.", ".", "2", "Sam Small", "1", "n", "y")
    result = invoke("record", "--json", input=answers(*INTERVIEW, *changes))
    assert result.exit_code == 0, result.stderr
    case = json.loads(result.stdout)["case"]
    document = json.loads(invoke("timeline", case, "--json").stdout)
    assert document["entries"][0]["text"] == "Corrected account."
    assert document["subjects"] == [{"name": "Sam Small", "role": "pupil"}]


def test_answering_no_at_the_review_asks_before_discarding(
    vault: VaultInfo, terminal: None
) -> None:
    before = entry_count(vault.path)
    kept = invoke("record", input=answers(*INTERVIEW, "n", "n", "y"))
    assert kept.exit_code == 0, kept.stderr
    assert "Discard what you typed?" in kept.stderr
    assert entry_count(vault.path) == before + 1
    discarded = invoke("record", input=answers(*INTERVIEW, "n", "y"))
    assert discarded.exit_code == 130 and "nothing was saved" in discarded.stderr
    assert entry_count(vault.path) == before + 1


def test_a_bad_review_answer_is_asked_again(vault: VaultInfo, terminal: None) -> None:
    result = invoke("record", input=answers(*INTERVIEW, "9", "maybe", "y"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("Answer y, n, or a number from 1 to 8.") == 2


def test_ctrl_d_before_the_full_stop_asks_before_discarding(
    vault: VaultInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = record(text_writer(tmp_path))["case"]
    from safeguarding.cli import casework, credentials

    # Ctrl-D on a terminal is an empty read; the terminal can still be read after it.
    lines = iter(["The first line\n", "", "The second line\n", ".\n"])
    monkeypatch.setattr(credentials, "is_interactive", lambda: True)
    monkeypatch.setattr(casework, "_read_line", lambda: next(lines))
    result = invoke("note", case, "--json", input="n\n")  # "Discard what you typed?" no
    assert result.exit_code == 0, result.stderr
    assert "Discard what you typed (1 line)?" in result.stderr
    shown = json.loads(invoke("timeline", case, "--json").stdout)["entries"][-1]
    assert shown["text"] == "The first line\nThe second line"


def test_ctrl_d_at_a_real_terminal_asks_and_the_text_goes_on(
    vault: VaultInfo, tmp_path: Path
) -> None:
    import subprocess

    from tests.conftest import safeguard_executable

    case = record(text_writer(tmp_path))["case"]
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [safeguard_executable(), "note", case, "--json"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(terminal)
    # Typed ahead: the terminal keeps it until it is read. \x04 is Ctrl-D at a line's start.
    os.write(controller, b"Half of it\n\x04n\nthe rest\n.\n")
    _, err = process.communicate(timeout=60)
    os.close(controller)
    assert process.returncode == 0, err.decode()
    assert "Discard what you typed" in err.decode()
    shown = json.loads(invoke("timeline", case, "--json").stdout)["entries"][-1]
    assert shown["text"] == "Half of it\nthe rest"
