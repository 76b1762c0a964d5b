"""The `safeguard>` prompt: reading a line, completing it, and running it as a command through
the same group a single command runs through, with the sitting's keys.

It keeps what was typed in memory only: readline never reads or writes a history file here,
answers typed inside a command never join the history, and the history is dropped when the
sitting locks.
"""

from __future__ import annotations

import shlex
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from . import output, sitting

if TYPE_CHECKING:
    from .sitting import Sitting

PROMPT = "safeguard> "
#: Commands a shell does not run: itself, and those that make a vault of their own.
REFUSED = {
    "shell": "a shell is already open",
    "init": "'init' makes a new vault: run it on its own, outside the shell",
    "demo": "'demo' makes a vault of its own: run it on its own, outside the shell",
}
#: The options that may start a line: the rest of the global options are the shell's own.
LEADING = ("-h", "--help", "--version")
ENDS = ("exit", "quit")
#: A shell's pipes and redirections, which a line here does not have.
_PIPING = frozenset({"|", "||", "&&", ";", ">", ">>", "<", "2>", "&"})
#: Exit codes for a shell ended by a signal, as a shell reports a process it ended.
HANGUP, TERMINATED = 128 + signal.SIGHUP, 128 + signal.SIGTERM


class _Locked(BaseException):
    """The sitting locked itself while the prompt waited."""


class _Ended(BaseException):
    """The terminal closed (SIGHUP) or the shell was told to end (SIGTERM)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def words_of(line: str) -> list[str] | None:
    """A line split as a shell splits it; None (after saying why) if its quotes do not close.

    A line that starts with `safeguard` is the command after it: the hints, the next-step
    panel and the README write commands as typed outside a shell, and may be typed as given."""
    try:
        words = shlex.split(line)
        if len(words) == 1 and words[0].startswith("safeguard "):  # a hint copied with quotes
            words = shlex.split(words[0])
    except ValueError as error:
        output.tell([f"safeguard: {error}: nothing was run"])
        return None
    return words[1:] if words[:1] == ["safeguard"] else words


def refusal(words: list[str]) -> str | None:
    """Why a line is not run in a shell, or None."""
    first = words[0]
    if first in REFUSED:
        return REFUSED[first]
    if "=" in first and first.split("=", 1)[0].isupper():
        return (
            f"{first.split('=', 1)[0]} cannot be set here: the shell's user and vault are set "
            "when it starts ('safeguard --user NAME shell')"
        )
    if any(word in _PIPING for word in words):
        return (
            "a line here is one safeguard command: pipes and redirections are for your own "
            "shell (run 'safeguard timeline CASE | less -R' there)"
        )
    if first.startswith("-") and first not in LEADING:
        return (
            f"{first} cannot be given here: --vault, --user and --debug are given when the shell "
            "starts ('safeguard --user NAME shell')"
        )
    return None


class Prompt:
    """The loop: read a line, run it, show its exit code if it is not 0, until the end."""

    def __init__(self, root: Any, sitting: Sitting, prefix: list[str]) -> None:
        self.root = root
        self.sitting = sitting
        self.prefix = prefix
        self.terminal = sys.stdin.isatty()
        self.editing = _LineEditing(root, self._references) if self.terminal else None
        self._known: list[str] | None = None
        sitting.on_lock.append(self._forget)

    def run(self) -> int:
        """Take commands until `exit`, Ctrl-D or the end of input; the last command's exit
        code (as a shell gives), or the code the shell was ended with."""
        code = 0
        with _signals(self.sitting):
            try:
                while self.sitting.ended is None:
                    try:
                        line = self._read()
                    except EOFError:
                        self._newline()
                        break
                    except KeyboardInterrupt:
                        self._newline()  # Ctrl-C at the prompt: a fresh line
                        continue
                    except _Locked:
                        self._say_locked()
                        continue
                    words = words_of(line)
                    if words and words[0] in ENDS:
                        break
                    if words:
                        code = self.execute(words)
                    elif words is None:
                        code = 2
            except _Ended as ended:
                why = "the terminal closed" if ended.code == HANGUP else "told to end (SIGTERM)"
                _quietly(["", f"safeguard: {why}: the shell locked and ended"])
                return ended.code
            finally:
                if self.editing is not None:
                    self.editing.close()
        return self.sitting.ended if self.sitting.ended is not None else code

    def execute(self, words: list[str]) -> int:
        """Run one command line; its exit code, shown when it is not 0."""
        reason = refusal(words)
        if reason is not None:
            output.tell([f"safeguard: {reason}"])
            code = 2
        else:
            if words[0] == "help":
                words = [*words[1:], "--help"]
            code = self.root.main(
                args=[*self.prefix, *words], prog_name="safeguard", standalone_mode=False
            )
            self.sitting.touch()
            self._known = None  # a case may have been opened
        if code:
            output.tell([f"(exit {code})"])
        return int(code)

    def _read(self) -> str:
        with _idle_timer(self.sitting):
            if self.editing is not None:
                return self.editing.read(PROMPT)
            line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line

    def _newline(self) -> None:
        if self.terminal:
            output.tell([""])

    def _say_locked(self) -> None:
        output.tell(
            [
                "",
                f"safeguard: locked after {sitting.describe(self.sitting.lock_after)} with no "
                "command; the next command asks for the passphrase",
            ]
        )

    def _forget(self) -> None:
        self._known = None
        if self.editing is not None:
            self.editing.forget()

    def _references(self) -> list[str]:
        """The cases the user may read, for completion: read once after each command, and
        only while the sitting holds its keys (completion never asks for the passphrase)."""
        if self._known is None:
            self._known = _readable_references(self.sitting)
        return self._known


def _readable_references(held: Sitting) -> list[str]:
    from safeguarding.errors import SafeguardError
    from safeguarding.held import references

    from .context import open_vault

    try:
        vault = open_vault()
    except SafeguardError:
        return []
    try:
        unlocked = held.held_unlock(vault)
        return [] if unlocked is None else references(unlocked)
    except SafeguardError:
        return []
    finally:
        vault.close()


#: Seconds between the prompt's looks at the clock while it waits.
TICK = 0.5


class _Handling:
    """The shell's signal handlers, kept from tripping over each other.

    A handler that raises inside another's calls into C surfaces as a SystemError, not as
    itself; so one that finds another at work leaves its exception for it to raise when done.
    And when a handler has raised while `input` waits, Python may run the other signals'
    handlers before `input` returns, with that exception still set: any of them that returned
    normally would turn it into a SystemError, so there each raises the same again."""

    busy = False
    pending: BaseException | None = None
    #: What a handler raised during this wait at the prompt (None: nothing yet).
    raised: BaseException | None = None

    def throw(self, error: BaseException) -> None:
        self.raised = error
        raise error

    def defer_or_throw(self, error: BaseException) -> None:
        if self.busy:
            self.pending = self.pending or error
            return
        self.throw(error)

    def done(self, *, raising: bool = True) -> None:
        self.busy = False
        pending, self.pending = self.pending, None
        if pending is not None and raising:
            self.throw(pending)


_HANDLING = _Handling()


def _interrupt(signum: int, frame: object) -> None:
    """Ctrl-C at the prompt: a fresh line (KeyboardInterrupt), as ever."""
    if _HANDLING.raised is not None:
        raise _HANDLING.raised
    _HANDLING.defer_or_throw(KeyboardInterrupt())


@contextmanager
def _idle_timer(held: Sitting) -> Iterator[None]:
    """While the prompt waits, look at the clock every `TICK` and lock the sitting once it has
    been idle for `lock_after`.  Each look also interrupts the wait, so that a signal which
    came just as the prompt was drawn (Ctrl-C, a hang-up) is acted on then, not at the next
    key."""

    def look(signum: int, frame: object) -> None:
        if _HANDLING.raised is not None:
            raise _HANDLING.raised
        if _HANDLING.busy:
            return  # the clock is looked at again in half a second
        _HANDLING.busy = True  # first: nothing else may raise inside the look
        try:
            locked = held.lock_if_idle()
        finally:
            _HANDLING.done()
        if locked:
            _HANDLING.throw(_Locked())

    _HANDLING.raised = None
    previous = {
        signal.SIGALRM: signal.signal(signal.SIGALRM, look),
        signal.SIGINT: signal.signal(signal.SIGINT, _interrupt),
    }
    signal.setitimer(signal.ITIMER_REAL, TICK, TICK)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for number, handler in previous.items():
            signal.signal(number, handler)
        _HANDLING.raised = None


@contextmanager
def _signals(held: Sitting) -> Iterator[None]:
    """SIGHUP (the terminal closed) and SIGTERM lock the sitting at once and end the shell."""

    def end(signum: int, frame: object) -> None:
        code = HANGUP if signum == signal.SIGHUP else TERMINATED
        # Inside another handler's work, or after one raised: the shell's end wipes the keys.
        if _HANDLING.busy:
            _HANDLING.defer_or_throw(_Ended(code))
            return
        if _HANDLING.raised is not None:
            _HANDLING.throw(_Ended(code))
        _HANDLING.busy = True
        try:
            held.lock()
        finally:
            _HANDLING.done(raising=False)  # the end outweighs a Ctrl-C that came meanwhile
        _HANDLING.throw(_Ended(code))

    caught = (signal.SIGHUP, signal.SIGTERM)
    previous = {number: signal.signal(number, end) for number in caught}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _quietly(lines: list[str]) -> None:
    """Say `lines` if anyone can still read them (after a hang-up, usually no one can)."""
    with suppress(OSError, ValueError):
        output.tell(lines)


class _LineEditing:
    """readline at the prompt: completion of commands, options and cases, and a history kept
    in memory only (no file is read or written, and only the prompt's own lines join it)."""

    def __init__(self, root: Any, references: Callable[[], list[str]]) -> None:
        import readline

        self.readline = readline
        self.completer = Completer(root, references)
        readline.set_auto_history(False)
        readline.clear_history()
        readline.set_completer_delims(" \t\n\"'")
        readline.parse_and_bind("tab: complete")

    def read(self, prompt: str) -> str:
        """One line at `prompt`, completed as it is typed, added to the history."""
        self.readline.set_completer(self.completer)
        try:
            line = input(prompt)
        finally:
            # A command's own questions complete nothing (not even file names).
            self.readline.set_completer(_nothing)
        if line.strip():
            self.readline.add_history(line)
        return line

    def forget(self) -> None:
        self.readline.clear_history()

    def close(self) -> None:
        self.readline.clear_history()
        self.readline.set_completer(None)


def _nothing(text: str, state: int) -> None:
    return None


class Completer:
    """readline's completer: command names first, then a group's subcommands, a command's
    options, and case references wherever a command takes a case."""

    def __init__(self, root: Any, references: Callable[[], list[str]]) -> None:
        self.root = root
        self.references = references
        self._matches: list[str] = []

    def __call__(self, text: str, state: int) -> str | None:
        if state == 0:
            import readline

            before = readline.get_line_buffer()[: readline.get_begidx()]
            self._matches = self.matches(before, text)
        return self._matches[state] if state < len(self._matches) else None

    def matches(self, before: str, text: str) -> list[str]:
        """What `text` may complete to after `before` (the line up to it), each followed by a
        space."""
        try:
            words = shlex.split(before)
        except ValueError:
            return []
        found = set(self._candidates(words, text))
        return sorted(f"{word} " for word in found if word.startswith(text))

    def _candidates(self, words: list[str], text: str) -> list[str]:
        context = self.root.context_class(self.root)
        if not words:
            return [*self.root.list_commands(context), "help", *ENDS]
        if words[0] == "help":
            words = words[1:]
        command, rest = self._command(context, words)
        if command is None:
            return list(self.root.list_commands(context)) if not words else []
        if _is_group(command):
            return list(command.list_commands(context)) if not rest else []
        if rest and _takes_value(command, rest[-1]):
            return self.references() if rest[-1] == "--case" else []
        if text.startswith("-"):
            return [name for param in command.params for name in _names(param)] + ["--help"]
        takes_case = any(param.name == "case" for param in command.params)
        return self.references() if takes_case else []

    def _command(self, context: Any, words: list[str]) -> tuple[Any, list[str]]:
        """The command `words` name (descending into groups), and the words after it."""
        command: Any = self.root
        for index, word in enumerate(words):
            if not _is_group(command) or word in REFUSED:
                return (command if command is not self.root else None), words[index:]
            found = command.get_command(context, word)
            if found is None:
                return None, []
            command = found
        return command, []


def _is_group(command: Any) -> bool:
    """A group of commands (Typer brings its own Click, so its classes are not checked)."""
    return hasattr(command, "list_commands")


def _names(param: Any) -> list[str]:
    """An option's names (`--json`, `-h`); none for an argument."""
    if param.param_type_name != "option":
        return []
    return [*param.opts, *param.secondary_opts]


def _takes_value(command: Any, word: str) -> bool:
    """Whether `word` is one of `command`'s options that is followed by a value."""
    for param in command.params:
        if param.param_type_name == "option" and word in param.opts:
            return not (param.is_flag or param.count)
    return False
