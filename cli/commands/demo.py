"""`safeguard demo`: the worked case of `demo_case`, each step run through this same `safeguard`
command, in a throwaway vault, on a simulated clock; shown as the command line that ran, then
what it printed.

The steps run in this process as a script runs them: passphrases from files, text on standard
input, no terminal to prompt on.  Everything is in a private temporary folder, removed at the
end; none of the user's own settings reaches a step, so their vault is never opened.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import shlex
import sys
from collections.abc import Container, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

import typer

from safeguarding.errors import CheckFailed

from .. import output
from ..demo_case import CONFIG, NORTHFIELD_CONFIG, PASSPHRASE_FILES, SESSION, STEPS, Step
from ..state import STATE

#: The placeholders of the case's days, Monday to Friday of its week.
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
#: What a heredoc on a shown command line ends with.
END = "END"


def demo(ctx: typer.Context) -> None:
    """Walk a worked case through a throwaway vault.

    Runs the whole flow, then prints the case's timeline.

    A teaching assistant found to be friends online with a 15-year-old ex-pupil: the disclosure,
    the LADO referral, advice, actions, conversations, a correction and the closure. The case is
    an allegation, so it is restricted, and the demo's deputy DSL does not see it. Each step is
    a real safeguard command, shown as it ran and on the simulated clock it ran at. Your own
    vault is not touched; the demo's is deleted afterwards.
    """
    import tempfile

    from safeguarding import clock

    command = ctx.find_root().command  # this very `safeguard`, run again for each step
    today = clock.now().astimezone().date()
    before = vars(STATE).copy()
    try:
        with tempfile.TemporaryDirectory(prefix="safeguard-demo-") as name:
            walk = Walk(Path(name), today)
            walk.introduce()
            for number, step in enumerate(STEPS, start=1):
                walk.run(command, number, step)
    finally:
        vars(STATE).update(before)  # the last step's vault and user were the demo's
    output.say(
        "\nThe demo vault has been deleted. Start your own with 'safeguard init', then "
        "'safeguard record'."
    )


class Walk:
    """The demo's folder, vault and settings, and the values the steps' placeholders take."""

    def __init__(self, folder: Path, today: date) -> None:
        from safeguarding import config
        from safeguarding.files import write_private

        self.folder = folder
        write_private(folder / "config.toml", CONFIG.encode())
        write_private(folder / "northfield.toml", NORTHFIELD_CONFIG.encode())
        for file in PASSPHRASE_FILES.values():
            write_private(folder / file, secrets.token_urlsafe(24).encode())
        closures = config.load(folder / "config.toml").closure_days
        self.monday = case_week(today, closures)
        self.values = {"folder": str(folder)}
        for number, day in enumerate(DAYS):
            self.values[day] = (self.monday + timedelta(days=number)).isoformat()
        self.session = {name: self.fill(value) for name, value in SESSION}

    def fill(self, text: str) -> str:
        return text.format_map(self.values)

    def moment(self, step: Step) -> datetime:
        day = self.monday + timedelta(days=step.day)
        return datetime.combine(day, time.fromisoformat(step.time)).astimezone()

    def introduce(self) -> None:
        output.say(
            f"A throwaway vault in {_quoted(self.folder)}, deleted at the end. Each step "
            "below is a real safeguard command, run as a script runs it, on a clock set to "
            "the time shown; every step runs with these set (config.toml names the school and "
            "its County contacts, northfield.toml the school a child moves to; each user's "
            "passphrase file, mode 0600, holds a random passphrase):"
        )
        for name, value in self.session.items():
            _command(f"export {name}={shlex.quote(value)}")

    def run(self, command: Any, number: int, step: Step) -> None:
        """Run `step` through `command` (the `safeguard` group), showing it first."""
        from safeguarding import clock
        from safeguarding.files import write_private

        moment = self.moment(step)
        argv = [self.fill(part) for part in step.argv]
        variables = {name: self.fill(value) for name, value in step.env}
        self.show(number, step, moment, argv, variables)
        for name, text in step.files:
            write_private(self.folder / name, text.encode())
        with (
            clock.simulated(moment),
            _environment({**self.session, **variables}),
            _streams(step.stdin) as printed,
        ):
            code = command.main(args=argv, prog_name="safeguard", standalone_mode=False)
        output.reset()  # what the step saved is the step's to report, not the demo's
        if code == 130:  # Ctrl-C: the step has said that nothing was saved
            raise typer.Exit(130)
        if code != step.exit_code:
            raise CheckFailed(
                f"the demo stopped at step {number}: it exited with {code}, not {step.exit_code}",
                hint="what it printed is above; please report it",
            )
        if step.keep is not None:
            self.keep(number, *step.keep, printed.getvalue())

    def keep(self, number: int, name: str, pattern: str, printed: str) -> None:
        found = re.search(pattern, printed, re.MULTILINE)
        if found is None:
            raise CheckFailed(
                f"the demo stopped at step {number}: its output does not give the {name}",
                hint="what it printed is above; please report it",
            )
        self.values[name] = found.group(1)

    def show(
        self,
        number: int,
        step: Step,
        moment: datetime,
        argv: list[str],
        variables: Mapping[str, str],
    ) -> None:
        from rich.text import Text

        output.err.print()
        output.err.print(
            Text.assemble(
                (f"{number:>2}. ", "dim"),
                (moment.strftime("%a %d %b %Y %H:%M"), "cyan"),
                "  ",
                self.fill(step.why),
            )
        )
        for name, text in step.files:
            output.err.print(Text(f"{_quoted(self.folder / name)} holds:", "dim"))
            _text(text)
        assignments = [f"{name}={shlex.quote(value)}" for name, value in variables.items()]
        line = shlex.join(["safeguard", *argv])
        heredoc = f" <<'{END}'" if step.stdin is not None else ""
        _command(" ".join([*assignments, line]) + heredoc)
        if step.stdin is not None:
            _text(step.stdin + END + "\n")


def case_week(today: date, closures: Container[date]) -> date:
    """The Monday of the latest school week before this one with no day closed: the worked case
    happens over that week, ending days before `today`."""
    from safeguarding.deadlines import is_working_day

    monday = today - timedelta(days=today.weekday() + 7)
    while not all(is_working_day(monday + timedelta(days=n), closures) for n in range(5)):
        monday -= timedelta(days=7)
    return monday


def _quoted(path: Path) -> str:
    return shlex.quote(str(path))


def _command(line: str) -> None:
    """A command line as it ran: one line, however long (the terminal wraps it), so that it
    copies whole."""
    from rich.text import Text

    output.err.print(Text("$ " + line, "bold"), soft_wrap=True)


def _text(text: str) -> None:
    from rich.text import Text

    for line in text.splitlines():
        output.err.print(Text(line, "dim"), soft_wrap=True)


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Exactly `variables` of safeguard's own in the environment, for the block: none of the
    user's (their vault, their passphrase, their settings) reaches a step."""
    theirs = {name: value for name, value in os.environ.items() if name.startswith("SAFEGUARD_")}
    for name in theirs:
        del os.environ[name]
    os.environ.update(variables)
    try:
        yield
    finally:
        for name in variables:
            os.environ.pop(name, None)
        os.environ.update(theirs)


class _Tee(io.TextIOBase):
    """A standard stream as a step sees it: written through as it is (a terminal stays a
    terminal, so colours and width are its own), and kept, to find values in."""

    def __init__(self, through: TextIO, kept: io.StringIO) -> None:
        super().__init__()
        self._through, self._kept = through, kept

    def write(self, text: str) -> int:
        self._kept.write(text)
        return self._through.write(text)

    def flush(self) -> None:
        self._through.flush()

    def isatty(self) -> bool:
        return self._through.isatty()

    def fileno(self) -> int:
        return self._through.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._through.encoding


@contextmanager
def _streams(stdin: str | None) -> Iterator[io.StringIO]:
    """For the block: standard input holding `stdin` and never a terminal (nothing can prompt),
    and standard output and error written through and kept (the kept text is given)."""
    kept = io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode()), encoding="utf-8")
    if sys.stdout is not None:
        sys.stdout = _Tee(sys.stdout, kept)
    if sys.stderr is not None:
        sys.stderr = _Tee(sys.stderr, kept)
    try:
        yield kept
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
