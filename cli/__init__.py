"""The command-line layer of safeguard (installed as `safeguarding.cli`): parse, call, render.

`main` is the console script.  It checks this machine's limits before loading the app, so a
process that could not even load it (too little memory, too few open files) gets one line and
exit 5, not a traceback.
"""

import errno
import os
import sys

from safeguarding.errors import OutOfMemory, SafeguardError, TooManyOpenFiles

#: What the heaviest command (a PDF export; unlocking, whose key derivation takes 64 MiB) needs,
#: with room to spare: below it, some command would fail partway.
MIN_ADDRESS_SPACE = 192 * 1024 * 1024
#: Open files: the vault, its WAL and shared memory, a backup and its manifest, fonts.
MIN_OPEN_FILES = 16


def main() -> None:
    """The console script's entry point."""
    try:
        _check_limits()
        from .app import main as run_app

        run_app()
    except SystemExit as leaving:
        _leave(leaving)
    except MemoryError:
        _cannot_run(OutOfMemory())
    except OSError as error:
        if error.errno not in (errno.EMFILE, errno.ENFILE):
            raise
        _cannot_run(TooManyOpenFiles())


def _leave(leaving: SystemExit) -> None:
    """End the process with the command's exit code, without tearing down every module the
    command loaded, which takes longer than a note's work.  Nothing is lost: the command has
    closed the vault (each commit was synced as it was made), what it printed is flushed here,
    and the exit handlers (temporary files' removal among them) run first."""
    if not isinstance(leaving.code, int | None):
        raise leaving  # a message to print on the way out: the interpreter's own exit does it
    import atexit

    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: the descriptor was closed before the process began
                stream.flush()
        except (OSError, ValueError):
            pass  # the command already said what it could (see output.OutputLost)
    atexit._run_exitfuncs()
    os._exit(leaving.code or 0)


def _check_limits() -> None:
    import resource

    memory, _ = resource.getrlimit(resource.RLIMIT_AS)
    if memory != resource.RLIM_INFINITY and memory < MIN_ADDRESS_SPACE:
        _cannot_run(OutOfMemory(limit_mb=memory // 2**20, needed_mb=MIN_ADDRESS_SPACE // 2**20))
    files, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if files != resource.RLIM_INFINITY and files < MIN_OPEN_FILES:
        _cannot_run(TooManyOpenFiles(limit=files, needed=MIN_OPEN_FILES))


def _cannot_run(error: SafeguardError) -> None:
    # Straight to the descriptor: nothing here may need a module or a file it does not have.
    os.write(2, f"safeguard: {error.message}\n  {error.hint}\n".encode())
    sys.exit(error.exit_code)
