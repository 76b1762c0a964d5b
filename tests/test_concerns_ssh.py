"""The way in from other computers, end to end: a real sshd on 127.0.0.1 whose account runs
`safeguard concern-ssh` as its forced command, so a member of staff reaches `concern` and
`concerns` and nothing else.  Skipped only where sshd truly cannot run, with the reason; in CI
(`.ci/run` installs openssh-server) it fails instead."""

from __future__ import annotations

import getpass
import json
import os
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from safeguarding.cli.commands.concern_ssh import allowed

from safeguarding import concerns
from safeguarding.errors import NotAllowed
from safeguarding.vault import Role, Vault
from tests.conftest import PASSPHRASE, VaultInfo, safeguard_executable, write_secret

TESS, TESS_PASSPHRASE = "Tess Teacher", "tess passphrase 2026"
SSHD = shutil.which("sshd") or next(
    (p for p in ("/usr/sbin/sshd", "/usr/local/sbin/sshd") if Path(p).exists()), None
)
#: What the forced command passes on from the test's own environment: the vault, where config
#: and data live, the time zone, and the test seams with their settings (the clock, the KDF).
PASSED = ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "TZ", "PATH", "PYTHONPATH")


def cannot_run(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"sshd cannot run: {reason}; .ci/run installs openssh-server")
    pytest.skip(f"sshd cannot run: {reason} (.ci/run installs openssh-server)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    port: int
    key: Path
    known_hosts: Path

    def ssh(self, asked: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """`ssh` in batch mode, as a script on another computer would run it."""
        return subprocess.run(
            self._command(asked),
            input=stdin, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def _command(self, asked: str) -> list[str]:
        return [
            "ssh", "-F", "/dev/null", "-T", "-p", str(self.port), "-i", str(self.key),
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", f"UserKnownHostsFile={self.known_hosts}",
            "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10",
            "--", f"{getpass.getuser()}@127.0.0.1", asked,
        ]  # fmt: skip

    def popen(self, asked: str) -> subprocess.Popen[str]:
        """`ssh` as `ssh` above, still running: its standard input open until written."""
        return subprocess.Popen(
            self._command(asked),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip


def keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_suffix(".pub").read_text().strip()


@pytest.fixture
def server(vault: VaultInfo, tmp_path: Path) -> Iterator[Server]:
    """sshd on a free port of 127.0.0.1, its own config and host key; one authorized key,
    whose forced command runs `safeguard concern-ssh` for the vault."""
    if SSHD is None:
        cannot_run("openssh-server is not installed")
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        cannot_run("the ssh client is not installed")
    folder = tmp_path / "sshd"
    folder.mkdir()
    host = keygen(folder / "host")
    client = keygen(folder / "client")
    secret = write_secret(folder / "tess-passphrase", TESS_PASSPHRASE)
    passed = {name: os.environ[name] for name in PASSED if name in os.environ}
    passed |= {
        "SAFEGUARD_VAULT": str(vault.path),
        "SAFEGUARD_PASSPHRASE_FILE": str(secret),
    }
    passed |= {k: v for k, v in os.environ.items() if k.startswith("TESTS_")}
    wrapper = " ".join(["env", *(shlex.quote(f"{k}={v}") for k, v in passed.items())])
    forced = f"{wrapper} {shlex.quote(safeguard_executable())} concern-ssh"
    authorized = folder / "authorized_keys"
    authorized.write_text(
        f'command="{forced}",no-port-forwarding,no-agent-forwarding,no-X11-forwarding {client}\n'
    )
    port = free_port()
    (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {host}\n")
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {folder / 'host'}",
                f"PidFile {folder / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin forced-commands-only",
                "PrintMotd no",
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    log = folder / "sshd.log"
    process = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        _wait_for(port, process, log)
        yield Server(port, folder / "client", folder / "known_hosts")
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            cannot_run(f"sshd exited: {log.read_text().strip()[-300:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    cannot_run("sshd did not listen within 15 seconds")


@pytest.fixture
def staffed(vault: VaultInfo) -> VaultInfo:
    alice = Vault.open(vault.path).unlock("alice", PASSPHRASE)
    alice.add_user(TESS, Role.STAFF, TESS_PASSPHRASE)
    alice.close()
    return vault


def test_a_teacher_reports_a_concern_over_ssh_and_reads_it_back(
    staffed: VaultInfo, server: Server
) -> None:
    asked = f"--user {shlex.quote(TESS)} concern --about 'Amy Price' --about-role pupil " + (
        "--where 'the playground' --text-file - --json"
    )
    reported = server.ssh(asked, "Amy said: he hit me at break.\n")
    assert reported.returncode == 0, reported.stderr
    number = json.loads(reported.stdout)["concern"]
    mine = server.ssh(f"--user {shlex.quote(TESS)} concerns --json")
    assert mine.returncode == 0, mine.stderr
    (item,) = json.loads(mine.stdout)["concerns"]
    assert (item["concern"], item["state"]) == (number, "waiting")
    assert item["text"] == "Amy said: he hit me at break.\n"  # kept as it was sent
    alice = Vault.open(staffed.path).unlock("alice", PASSPHRASE)
    try:
        (waiting,) = concerns.inbox(alice)
    finally:
        alice.close()
    assert (waiting.number, waiting.author) == (number, TESS)


def test_a_name_sent_over_ssh_is_in_no_process_arguments_on_the_server(
    staffed: VaultInfo, server: Server
) -> None:
    """Every account on the server may read every process's arguments: what the teacher asked
    for runs in the forced command's own process, never as a command line of its own."""
    asked = f"--user {shlex.quote(TESS)} concern --about 'Amy Price' --about-role pupil " + (
        "--where 'the playground' --text-file -"
    )
    client = server.popen(asked)
    try:
        reporting = _opening(staffed.path, client)
        arguments = Path(f"/proc/{reporting}/cmdline").read_bytes()
        assert b"concern-ssh" in arguments  # the forced command, as sshd started it
        assert b"Amy" not in arguments and b"playground" not in arguments
    finally:
        out, err = client.communicate("Amy said: he hit me at break.\n", timeout=60)
    assert client.returncode == 0, err
    assert out.strip().isdigit()  # the receipt


def _opening(vault: Path, client: subprocess.Popen[str]) -> int:
    """The process that has `vault` open, on the server's side of the connection."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert client.poll() is None, client.communicate()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                opened = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
            except OSError:
                continue  # ended meanwhile, or not ours to look at
            if str(vault) in opened:
                return int(proc.name)
        time.sleep(0.05)
    raise AssertionError("no process on the server opened the vault within 30 seconds")


def test_the_account_runs_nothing_else(staffed: VaultInfo, server: Server) -> None:
    before = staffed.path.read_bytes()
    for asked in (
        "cases",
        "--user alice timeline SG-2026-0001",
        "concern --about Amy --about-role pupil --where hall --text-file /etc/passwd",
        "concerns --vault /tmp/other.db",
        "sh -c id",
    ):
        refused = server.ssh(asked)
        assert refused.returncode == 3, (asked, refused.stderr)
        assert refused.stdout == ""
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert staffed.path.read_bytes() == before


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("", ["concern"]),
        ("concerns", ["concerns"]),
        ("concerns 3 --json", ["concerns", "3", "--json"]),
        ("--user 'Tess Teacher' concern --text-file=- --json", [
            "--user", "Tess Teacher", "concern", "--text-file=-", "--json"]),
    ],
)  # fmt: skip
def test_what_the_shell_lets_through(asked: str, expected: list[str]) -> None:
    assert allowed(asked) == expected


@pytest.mark.parametrize(
    "asked",
    [
        "user list",
        "concern --done-file ../secret",
        "concerns --debug",
        "concern --user x",
        "concern 3",
        "concerns ３",
    ],
)
def test_what_the_shell_refuses(asked: str) -> None:
    with pytest.raises(NotAllowed):
        allowed(asked)
