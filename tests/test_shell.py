"""`safeguard shell`: one unlock for a sitting at a real terminal (a pty), the same commands,
locking itself when idle and when the terminal closes, and nothing written under HOME.

The terminal tests wait with generous timeouts and assert nothing about time.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shlex
import signal
import subprocess
import termios
import time
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from safeguarding.cli import sitting
from safeguarding.cli.app import app
from safeguarding.cli.prompt import PROMPT, Completer

from tests.conftest import (
    DEFAULT_NOW,
    PASSPHRASE,
    SetClock,
    VaultInfo,
    invoke,
    on_both_engines,
    run,
    safeguard_executable,
)
from tests.flowkit import Say, record_args

CASE = "SG-2026-0001"
WAIT = 60.0  # seconds: only ever a limit, never a measurement
ASKED = "Passphrase for alice: "  # the space comes once echo is off (getpass)


def _own_terminal() -> None:
    """In the child, after `setsid`: make the pty its controlling terminal, as a login's is."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """`safeguard ARGS` on a pty of its own, typed at and read as a person would."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        controller, terminal = pty.openpty()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SAFEGUARD_PASS")}
        environment.update(env or {})
        self.process = subprocess.Popen(
            [safeguard_executable(), *args],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env=environment,
            start_new_session=True,
            preexec_fn=_own_terminal,
        )
        os.close(terminal)
        self.fd = controller
        self.seen = ""
        self._unread = ""

    def _read(self, until: float) -> bool:
        """Read what is there within `until`; False at the end of the output."""
        ready, _, _ = select.select([self.fd], [], [], max(0.0, min(0.5, until - time.monotonic())))
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the other side is closed
            return False
        if not data:
            return False
        text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        self.seen += text
        self._unread += text
        return True

    def expect(self, text: str) -> str:
        """Everything up to and including the next `text`."""
        until = time.monotonic() + WAIT
        while text not in self._unread:
            if not self._read(until) or time.monotonic() > until:
                raise AssertionError(f"{text!r} never came; the terminal shows:\n{self.seen}")
        before, _, after = self._unread.partition(text)
        self._unread = after
        return before + text

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def line(self, text: str) -> None:
        self.type(text + "\n")

    def command(self, *args: str) -> str:
        """Type one command and give what it printed before the next prompt."""
        self.line(shlex.join(args))
        return self.expect(PROMPT)

    def unlock(self, passphrase: str = PASSPHRASE) -> None:
        self.expect(ASKED)
        self.line(passphrase)

    def wait(self) -> int:
        """The exit code, once the process has ended (its output read to the end)."""
        until = time.monotonic() + WAIT
        while self._read(until) and time.monotonic() < until:
            if self.process.poll() is not None and not select.select([self.fd], [], [], 0.2)[0]:
                break
        code = self.process.wait(timeout=WAIT)
        os.close(self.fd)
        return code


@pytest.fixture
def shell_env(vault: VaultInfo) -> dict[str, str]:
    """No passphrase in the environment: the shell asks for it, hidden, as at a keyboard."""
    return {}


def _texts(say: Say) -> dict[str, str]:
    return {
        "disclosure": say("He has been messaging my daughter."),
        "note": say("Karen rang back to say the messages were deleted."),
        "referral": say("Referred to the LADO by phone."),
        "advice": say("The LADO advised a strategy meeting."),
        "action": say("Arrange the strategy meeting."),
        "conversation": say("Spoke to Karen about the meeting."),
        "colleague": say("A colleague's note from another terminal."),
    }


@on_both_engines
def test_a_whole_case_in_one_sitting_with_one_passphrase(
    vault: VaultInfo, shell_env: dict[str, str], say: Say
) -> None:
    files = _texts(say)
    shell = Terminal("shell", env=shell_env)
    shell.unlock()
    shell.expect(PROMPT)
    steps = [
        record_args(files["disclosure"]),
        ["note", CASE, "--text-file", files["note"]],
        [
            "refer",
            CASE,
            "--to",
            "lado",
            "--contact",
            "Sam Jones",
            "--reference",
            "L-26-1",
            "--text-file",
            files["referral"],
        ],
        ["advice", CASE, "--from", "Sam Jones (LADO)", "--text-file", files["advice"]],
        [
            "action",
            "add",
            CASE,
            "--due",
            "2026-12-02",
            "--owner",
            "alice",
            "--text-file",
            files["action"],
        ],
    ]
    for step in steps:
        shown = shell.command(*step)
        assert "(exit" not in shown and "Traceback" not in shown, shown
    # A colleague writes from another terminal meanwhile: the shell reads the case afresh.
    colleague = run("note", CASE, "--text-file", files["colleague"])
    assert colleague.returncode == 0, colleague.stderr
    shown = shell.command(
        "conversation",
        CASE,
        "--with",
        "Karen Webb",
        "--channel",
        "phone",
        "--text-file",
        files["conversation"],
    )
    assert "Recorded" in shown and "(exit" not in shown, shown
    # Tab completes the command and the case's reference.
    shell.type("timel\tSG-2026-000\t\n")
    shown = shell.expect(PROMPT)
    assert f"timeline {CASE}" in shown and "Spoke to Karen about the meeting." in shown, shown
    shell.line("exit")
    assert shell.wait() == 0, shell.seen
    assert shell.seen.count(ASKED) == 1  # one unlock for the whole sitting

    assert run("verify").returncode == 0
    document = json.loads(run("timeline", CASE, "--json").stdout)
    entries = document["entries"]
    assert [e["kind"] for e in entries] == [
        "disclosure",
        "note",
        "referral",
        "advice",
        "action",
        "note",
        "conversation",
    ]
    assert [e["number"] for e in entries] == list(range(1, 8))
    assert entries[5]["text"] == "A colleague's note from another terminal."
    assert entries[6]["text"] == "Spoke to Karen about the meeting."
    audit = run("audit", "--case", CASE, "--json")
    views = [e for e in _events(audit.stdout) if e["action"] == "viewed"]
    # The shell's timeline, and the one just read for the JSON: each view, as ever.
    assert len(views) == 2 and {view["who"] for view in views} == {"alice"}
    opened = [e for e in _events(run("audit", "--json").stdout) if e["action"] == "opened"]
    assert len(opened) == 1 and opened[0]["who"] == "alice"  # one for the sitting


def _events(document: str) -> list[dict[str, object]]:
    parsed = json.loads(document)
    events: list[dict[str, object]] = parsed["events"] if isinstance(parsed, dict) else parsed
    return events


def test_a_failing_command_shows_its_exit_code_and_the_shell_goes_on(
    vault: VaultInfo, shell_env: dict[str, str], say: Say
) -> None:
    shell = Terminal("shell", env=shell_env)
    shell.unlock()
    shell.expect(PROMPT)
    assert "(exit 4)" in shell.command("timeline", "SG-2026-0099")
    assert "(exit 2)" in shell.command("note", "SG-2026-001")
    refused = shell.command("init")
    assert "outside the shell" in refused and "(exit 2)" in refused
    assert "a shell is already open" in shell.command("shell")
    assert "given when the shell starts" in shell.command("--user", "bob", "cases")
    assert "(exit" not in shell.command("cases")
    shell.type("note SG-2026\x03")  # Ctrl-C at the prompt: a fresh line, nothing run
    assert "(exit" not in shell.expect(PROMPT)
    shell.line(shlex.join(record_args(say("He has been messaging my daughter."))))
    shell.expect(PROMPT)
    shell.line(f"note {CASE}")
    shell.expect("full stop")
    shell.line("Half a note")
    shell.type("\x03")  # Ctrl-C inside a command cancels it, as it does on its own
    cancelled = shell.expect(PROMPT)
    assert "cancelled: nothing was saved" in cancelled and "(exit 130)" in cancelled
    assert "(exit" not in shell.command("cases")
    shell.type("\x04")  # Ctrl-D ends it
    assert shell.wait() == 0
    assert shell.seen.count(ASKED) == 1 and "Traceback" not in shell.seen
    entries = json.loads(run("timeline", CASE, "--json").stdout)["entries"]
    assert [entry["kind"] for entry in entries] == ["disclosure"]  # the note was not saved


def test_it_locks_itself_when_idle_and_asks_again(
    vault: VaultInfo, shell_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("lock_after = 0.01\n")  # minutes: well under a second
    shell = Terminal("shell", env={**shell_env, "SAFEGUARD_CONFIG": str(config)})
    shell.unlock()
    shell.expect("safeguard: locked after 0.6 seconds with no command")
    shell.expect(PROMPT)
    shell.line("cases")
    shell.unlock()
    shown = shell.expect(PROMPT)
    assert "No open cases" in shown and "(exit" not in shown
    shell.line("exit")
    assert shell.wait() == 0
    assert shell.seen.count(ASKED) == 2
    # Each unlock is a sitting of its own in the access log.
    audit = run("audit")
    assert audit.stdout.count("opened the vault for a sitting (safeguard shell)") == 2


def test_a_wrong_passphrase_three_times_ends_the_shell_with_exit_3(
    vault: VaultInfo, shell_env: dict[str, str]
) -> None:
    shell = Terminal("shell", env=shell_env)
    for _attempt in range(3):
        shell.unlock("not the passphrase")
    assert shell.wait() == 3
    assert shell.seen.count(ASKED) == 3
    assert "wrong passphrase; 2 more tries" in shell.seen
    assert "wrong passphrase; 1 more try" in shell.seen
    assert PROMPT not in shell.seen


def test_after_locking_three_wrong_passphrases_end_it_too(
    vault: VaultInfo, shell_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("lock_after = 0.01\n")
    shell = Terminal("shell", env={**shell_env, "SAFEGUARD_CONFIG": str(config)})
    shell.unlock()
    shell.expect("locked after")
    shell.expect(PROMPT)
    shell.line("cases")
    for _attempt in range(3):
        shell.unlock("not the passphrase")
    assert shell.wait() == 3
    assert "(exit 3)" in shell.seen and "No open cases" not in shell.seen


@pytest.mark.parametrize("how", ["signal", "closed", "terminate"])
def test_the_terminal_closing_ends_the_shell_without_a_traceback(
    vault: VaultInfo, shell_env: dict[str, str], how: str
) -> None:
    shell = Terminal("shell", env=shell_env)
    shell.unlock()
    shell.expect(PROMPT)
    assert "(exit" not in shell.command("cases")
    if how == "signal":
        _until_it_ends(shell, signal.SIGHUP)
        assert shell.wait() == 128 + signal.SIGHUP
        assert "the terminal closed: the shell locked and ended" in shell.seen
        assert "Traceback" not in shell.seen
    elif how == "terminate":
        _until_it_ends(shell, signal.SIGTERM)
        assert shell.wait() == 128 + signal.SIGTERM
        assert "told to end (SIGTERM): the shell locked and ended" in shell.seen
        assert "Traceback" not in shell.seen
    else:  # the terminal really goes away: the kernel sends SIGHUP
        os.close(shell.fd)
        assert shell.process.wait(timeout=WAIT) == 128 + signal.SIGHUP


def _until_it_ends(shell: Terminal, number: int) -> None:
    """Send the signal, and again while the process is still there: one that lands as the
    prompt is drawn, before readline waits for a key, is acted on at the next wake (a terminal
    that really closes wakes it at once)."""
    until = time.monotonic() + WAIT
    while shell.process.poll() is None and time.monotonic() < until:
        os.kill(shell.process.pid, number)
        again = time.monotonic() + 2
        while shell.process.poll() is None and time.monotonic() < again:
            if not shell._read(again):
                return


def test_no_history_file_appears_anywhere_under_home(
    vault: VaultInfo, shell_env: dict[str, str], say: Say
) -> None:
    home = Path(os.environ["HOME"])
    before = sorted(home.rglob("*"))
    shell = Terminal("shell", env=shell_env)
    shell.unlock()
    shell.expect(PROMPT)
    shell.command(*record_args(say("He has been messaging my daughter.")))
    shell.type("no\tSG-2026\t\n")  # completed, and the note typed at its prompt
    shell.expect("full stop")
    shell.line("Zebra-canary text typed in the shell.")
    shell.line(".")
    shell.expect(PROMPT)
    shell.command("timeline", CASE)
    shell.line("exit")
    assert shell.wait() == 0, shell.seen
    assert sorted(home.rglob("*")) == before
    notes = json.loads(run("timeline", CASE, "--json").stdout)["entries"]
    assert notes[-1]["text"] == "Zebra-canary text typed in the shell."


@on_both_engines
def test_keys_changed_by_a_colleague_are_followed_or_asked_for_again(
    vault: VaultInfo, shell_env: dict[str, str], say: Say
) -> None:
    shell = Terminal("shell", env=shell_env)
    shell.unlock()
    shell.expect(PROMPT)
    shell.command(*record_args(say("He has been messaging my daughter.")))
    # Another DSL is added and disabled from another terminal: the vault is re-keyed, and the
    # shell opens the new vault key with the keys it holds, asking for nothing.
    new = {"SAFEGUARD_NEW_PASSPHRASE": "bob's passphrase 2026"}
    added = run("user", "add", "bob", "--role", "dsl", env=new)
    assert added.returncode == 0, added.stderr
    assert run("user", "disable", "bob").returncode == 0
    shown = shell.command("note", CASE, "--text-file", say("After the re-key."))
    assert "Recorded" in shown and ASKED not in shown, shown
    # Her passphrase changed elsewhere: the held keys open nothing, so it is asked for again.
    changed = run("user", "passwd", env={"SAFEGUARD_NEW_PASSPHRASE": "a new passphrase 2026"})
    assert changed.returncode == 0, changed.stderr
    shell.line("cases")
    shell.expect("your keys changed since this shell was unlocked")
    shell.unlock("a new passphrase 2026")
    assert "(exit" not in shell.expect(PROMPT)
    shell.line("exit")
    assert shell.wait() == 0
    assert run("verify", env={"SAFEGUARD_PASSPHRASE": "a new passphrase 2026"}).returncode == 0


def test_a_script_drives_a_shell_with_the_passphrase_from_the_environment(
    vault: VaultInfo, say: Say
) -> None:
    lines = [shlex.join(record_args(say("He has been messaging my daughter.")))]
    lines += [f"note {CASE} --text-file {say('A note from a script.')}", "cases", "exit"]
    result = invoke("shell", input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.stderr
    assert "Recorded the note as entry 2" in result.stderr
    assert PROMPT not in result.stdout  # no prompt when nobody is typing


def test_a_command_typed_as_a_hint_writes_it_runs_in_a_shell(vault: VaultInfo, say: Say) -> None:
    """Hints and the next-step panel say 'safeguard note …': typed so at the prompt, it runs."""
    lines = [shlex.join(["safeguard", *record_args(say("He has been messaging my daughter."))])]
    lines += [f"safeguard note {CASE} --text-file {say('As the panel said.')}", "safeguard"]
    result = invoke("shell", input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.stderr
    assert "Recorded the note as entry 2" in result.stderr
    assert "safeguard: a shell is already open" in invoke("shell", input="safeguard shell\n").stderr
    quoted = invoke("shell", input=f"'safeguard timeline {CASE}'\n")  # copied with its quotes
    assert quoted.exit_code == 0 and CASE in quoted.stdout, quoted.stderr
    for line, said in (
        (f"safeguard timeline {CASE} | less -R", "pipes and redirections are for your own shell"),
        ("SAFEGUARD_USER=bob safeguard cases", "SAFEGUARD_USER cannot be set here"),
    ):
        refused = invoke("shell", input=line + "\n")
        assert refused.exit_code == 2 and said in " ".join(refused.stderr.split()), refused.stderr


def test_a_wrong_passphrase_from_the_environment_ends_it_at_once(vault: VaultInfo) -> None:
    result = invoke("shell", input="cases\n", env={"SAFEGUARD_PASSPHRASE": "not it at all"})
    assert result.exit_code == 3
    assert "wrong passphrase for 'alice'" in result.stderr and "more tries" not in result.stderr


@on_both_engines
def test_a_shell_tells_its_user_of_failed_attempts_since_their_last_unlock(
    vault: VaultInfo,
) -> None:
    assert invoke("cases", env={"SAFEGUARD_PASSPHRASE": "not it at all"}).exit_code == 3
    result = invoke("shell", input="exit\n")
    assert result.exit_code == 0, result.stderr
    assert "1 failed attempt to unlock as alice since your last unlock" in result.stderr


def test_the_shell_ends_with_its_last_commands_exit_code(vault: VaultInfo) -> None:
    result = invoke("shell", input="timeline SG-2026-0042\n")
    assert result.exit_code == 4 and "(exit 4)" in result.stderr


def test_outside_a_shell_each_command_asks_as_before(vault: VaultInfo, say: Say) -> None:
    assert sitting.current() is None
    result = invoke(*record_args(say("A disclosure.")), env={"SAFEGUARD_PASSPHRASE": "wrong one"})
    assert result.exit_code == 3


def test_idle_time_comes_through_the_clock(vault: VaultInfo, set_clock: SetClock) -> None:
    from safeguarding.vault import Vault

    held = sitting.Sitting(vault.path, "alice", timedelta(minutes=10))
    set_clock(DEFAULT_NOW)
    opened = Vault.open(vault.path)
    held.unlock(opened).close()
    buffer = held._held._buffer  # type: ignore[union-attr]
    set_clock(DEFAULT_NOW + timedelta(minutes=9))
    assert not held.lock_if_idle() and held.unlocked
    assert _held_opens(held, vault.path) == "alice"  # no passphrase asked
    set_clock(DEFAULT_NOW + timedelta(minutes=10, seconds=1))
    assert _held_opens(held, vault.path) is None  # idle too long: completion opens nothing
    assert any(buffer)
    assert held.lock_if_idle() and not held.unlocked
    assert buffer == bytearray(len(buffer)) and len(buffer) == 64  # zeroed in place
    assert _held_opens(held, vault.path) is None  # locked: nothing opens without the passphrase


def _held_opens(held: sitting.Sitting, path: Path) -> str | None:
    """Whose vault the sitting's held keys open now, without a passphrase (None: nothing)."""
    from safeguarding.vault import Vault

    opened = Vault.open(path)
    try:
        unlocked = held.held_unlock(opened)
        return None if unlocked is None else unlocked.user.name
    finally:
        opened.close()


def test_lock_after_must_be_a_positive_number_of_minutes(vault: VaultInfo, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    for bad in ("0", "-1", '"ten"', "true", "100000"):
        config.write_text(f"lock_after = {bad}\n")
        result = invoke("shell", input="", env={"SAFEGUARD_CONFIG": str(config)})
        assert result.exit_code == 2 and "'lock_after' must be a number of minutes" in result.stderr


def test_completion_offers_commands_options_and_readable_cases() -> None:
    root = typer.main.get_command(app)
    complete = Completer(root, lambda: [CASE, "SG-2026-0002"]).matches
    assert complete("", "ti") == ["timeline "]
    assert complete("", "ex") == ["exit ", "export "]
    assert complete("user ", "") == ["add ", "disable ", "list ", "passwd "]
    assert complete("note ", "SG-2026-000") == [f"{CASE} ", "SG-2026-0002 "]
    assert "--text-file " in complete(f"note {CASE} ", "--")
    assert complete("audit --case ", "SG") == [f"{CASE} ", "SG-2026-0002 "]
    assert complete("note --text-file ", "") == []  # a file's name is not a case
    assert complete("cases ", "") == []  # `cases` takes no case


def test_changing_who_can_open_the_vault_asks_for_the_passphrase_in_a_shell_too(
    vault: VaultInfo, shell_env: dict[str, str]
) -> None:
    shell = Terminal("shell", env={**shell_env, "SAFEGUARD_NEW_PASSPHRASE": "bob's passphrase 26"})
    shell.unlock()
    shell.expect(PROMPT)
    shell.line("user add bob --role deputy")
    shell.unlock("not the passphrase")  # someone at a shell left open cannot add themselves
    refused = shell.expect(PROMPT)
    assert "wrong passphrase" in refused and "(exit 3)" in refused
    shell.line("user add bob --role deputy")
    shell.unlock()
    assert "Added bob (deputy)." in shell.expect(PROMPT)
    listed = shell.command("user", "list")  # reading asks for nothing
    assert "bob" in listed and ASKED not in listed
    shell.line("exit")
    assert shell.wait() == 0  # a wrong passphrase here does not end the shell
    assert shell.seen.count(ASKED) == 3
