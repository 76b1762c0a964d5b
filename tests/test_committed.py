"""Once a command has committed, it says so: with standard output or standard error gone
(/dev/full, closed, a reader that left), or Ctrl-C landing just after the commit, the exit code
is 0 and stderr says what was saved, so no one records it a second time.  Real processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import PLAIN_WARNING, VaultInfo, invoke, run, safeguard_executable
from tests.flowkit import record_args
from tests.reliability import case_entries, record_case

needs_dev_full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")


def _note_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / f"note-{abs(hash(text))}.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _run_with(
    args: list[str], stdout: IO[str] | int | None, stderr: IO[str] | int | None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [safeguard_executable(), *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        text=True,
        timeout=60,
        check=False,
    )
    if isinstance(result.stderr, str):  # the warning about a plain passphrase variable
        result.stderr = PLAIN_WARNING.sub("", result.stderr)
    return result


def _notes(vault: VaultInfo, case: str) -> list[str]:
    return [e.text for e in case_entries(vault.path, case) if e.kind == "note"]


@needs_dev_full
@pytest.mark.parametrize("json_flag", [["--json"], []], ids=["json", "plain"])
def test_a_note_with_stdout_on_dev_full_is_saved_once_and_says_so(
    vault: VaultInfo, tmp_path: Path, json_flag: list[str]
) -> None:
    case = record_case(vault.path)
    text = f"stdout full {json_flag}"
    args = ["note", case, "--text-file", _note_file(tmp_path, text), *json_flag]
    with open("/dev/full", "w") as full:
        result = _run_with(args, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr
    assert "nothing" not in result.stderr and "internal error" not in result.stderr
    if json_flag:
        assert f"saved the note as entry 2 of {case}; do not record it again" in result.stderr
        assert "standard output could not be written (no space left on device)" in result.stderr
    else:  # a plain note writes only to stderr: nothing failed
        assert f"Recorded the note as entry 2 of {case}." in result.stderr
    assert _notes(vault, case) == [text]


@needs_dev_full
def test_a_disclosure_whose_reference_cannot_be_printed_names_it_on_stderr(
    vault: VaultInfo, tmp_path: Path
) -> None:
    args = record_args(
        _note_file(tmp_path, "He has been messaging my daughter."), category="staff-misuse"
    )
    with open("/dev/full", "w") as full:
        result = _run_with(args, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr
    assert "saved the disclosure as SG-2026-0001 (entry 1)" in result.stderr
    listed = json.loads(run("cases", "--json").stdout)
    assert [c["case"] for c in listed] == ["SG-2026-0001"]


@needs_dev_full
@pytest.mark.parametrize("where", ["stderr", "both"])
def test_a_note_with_stderr_on_dev_full_exits_0_and_is_saved_once(
    vault: VaultInfo, tmp_path: Path, where: str
) -> None:
    case = record_case(vault.path)
    text = f"stderr full {where}"
    args = ["note", case, "--text-file", _note_file(tmp_path, text), "--json"]
    with open("/dev/full", "w") as full:
        stdout = full if where == "both" else subprocess.PIPE
        result = _run_with(args, stdout=stdout, stderr=full)
    assert result.returncode == 0
    if where == "stderr":
        assert json.loads(result.stdout)["case"] == case
    assert _notes(vault, case) == [text]


def test_a_note_with_stdout_closed_exits_0_and_says_so(vault: VaultInfo, tmp_path: Path) -> None:
    case = record_case(vault.path)
    args = ["note", case, "--text-file", _note_file(tmp_path, "closed stdout"), "--json"]
    result = subprocess.run(
        ["sh", "-c", 'exec "$0" "$@" >&-', safeguard_executable(), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "standard output could not be written (it is closed)" in result.stderr
    assert f"saved the note as entry 2 of {case}" in result.stderr
    assert _notes(vault, case) == ["closed stdout"]


def test_a_reader_that_leaves_early_does_not_make_a_saved_note_look_failed(
    vault: VaultInfo, tmp_path: Path
) -> None:
    case = record_case(vault.path)
    args = ["note", case, "--text-file", _note_file(tmp_path, "broken pipe"), "--json"]
    with subprocess.Popen(
        [safeguard_executable(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # the reader is gone before anything is written
        stderr = process.stderr.read()
        code = process.wait(timeout=60)
    assert code == 0, stderr
    assert "standard output could not be written (broken pipe)" in stderr
    assert _notes(vault, case) == ["broken pipe"]


@needs_dev_full
def test_a_read_whose_output_cannot_be_written_is_exit_2_not_a_bug(vault: VaultInfo) -> None:
    case = record_case(vault.path)
    with open("/dev/full", "w") as full:
        result = _run_with(["timeline", case], stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 2
    assert result.stderr == (
        "safeguard: could not write to standard output (no space left on device)\n"
    )


# Ctrl-C just after the commit.  The signal is raised in a real `safeguard` process by the
# process itself, at the exact point the test names: right after SQLite's COMMIT returns (inside
# the library, before the command has its result), or while the result is being shown.
INTERRUPTED = textwrap.dedent(
    """
    import signal, sys
    from safeguarding import storage
    from safeguarding.cli import views
    from safeguarding.cli.app import main
    from safeguarding.cases import Casebook

    where = sys.argv.pop(1)
    if where == "commit":
        committed, add = storage._commit, Casebook.add
        writing = []

        def adding(*args, **kwargs):
            writing.append(True)
            return add(*args, **kwargs)

        def commit_then_interrupt(connection):
            committed(connection)
            if writing:  # the note's own transaction, not the reads before it
                signal.raise_signal(signal.SIGINT)

        Casebook.add = adding
        storage._commit = commit_then_interrupt
    else:
        shown = views.next_step_panel

        def interrupt_while_showing(*args, **kwargs):
            signal.raise_signal(signal.SIGINT)
            return shown(*args, **kwargs)

        views.next_step_panel = interrupt_while_showing
    sys.argv[0] = "safeguard"
    main()
    """
)


@pytest.mark.parametrize("where", ["commit", "showing"])
def test_ctrl_c_after_the_commit_says_what_was_saved(
    vault: VaultInfo, tmp_path: Path, where: str
) -> None:
    case = record_case(vault.path)
    text = f"interrupted at {where}"
    note = ["note", case, "--text-file", _note_file(tmp_path, text)]
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPTED, where, *note],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "nothing was saved" not in result.stderr
    assert f"saved the note as entry 2 of {case}; do not record it again" in result.stderr
    assert "interrupted after saving" in result.stderr
    assert _notes(vault, case) == [text]


def test_ctrl_c_before_anything_is_saved_still_says_nothing_was_saved(
    vault: VaultInfo, tmp_path: Path
) -> None:
    """The same seam, one step earlier: the interrupt lands while the text is read."""
    case = record_case(vault.path)
    script = textwrap.dedent(
        """
        import signal, sys
        from safeguarding.cli import casework
        from safeguarding.cli.app import main

        def interrupt(*args, **kwargs):
            signal.raise_signal(signal.SIGINT)

        casework._from_file = interrupt
        sys.argv[0] = "safeguard"
        main()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "note", case, "--text-file", "unused.txt"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 130
    assert "cancelled: nothing was saved" in result.stderr
    assert _notes(vault, case) == []


@needs_dev_full
def test_audit_mine_is_the_receipt_of_what_a_lost_output_saved(
    vault: VaultInfo, tmp_path: Path
) -> None:
    case = record_case(vault.path)
    args = ["note", case, "--text-file", _note_file(tmp_path, "lost receipt"), "--json"]
    with open("/dev/full", "w") as full:
        assert _run_with(args, stdout=full, stderr=subprocess.DEVNULL).returncode == 0
    invoke(
        "user",
        "add",
        "Sam Patel",
        "--role",
        "deputy",
        env={"SAFEGUARD_NEW_PASSPHRASE": "deputy passphrase 2026"},
    )
    mine = json.loads(invoke("audit", "--mine", "--json").stdout)
    assert [(e["entry"], e["case"], e["kind"]) for e in mine][-3:] == [
        (3, case, "disclosure"),
        (4, case, "note"),
        (5, None, "user_added"),
    ]
    table = invoke("audit", "--mine", "--case", case, env={"COLUMNS": "120"}).stdout
    assert "recorded: note" in table and "recorded: disclosure" in table
    assert "user added" not in table  # not of this case

    sams = invoke(
        "--user",
        "Sam Patel",
        "audit",
        "--mine",
        "--json",
        env={"SAFEGUARD_PASSPHRASE": "deputy passphrase 2026"},
    )
    assert json.loads(sams.stdout) == []  # only one's own entries
