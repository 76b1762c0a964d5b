"""Start and measure the benchmark's processes, from a small process of its own.

`run.py` sends one request a line on standard input (JSON: `args`, `env`, and `stdin` in
base64 or null) and reads one answer a line: wall seconds, peak resident memory in KiB, CPU
seconds, the exit code and, if it failed, what it wrote on standard error.

Why a process of its own: on Linux a new process's peak resident memory starts from the
memory of the process it was forked from, so every process started by `run.py` (which holds
the vaults it built, well over 100 MiB) would show at least that much.  Forked from this one, a
process's peak is its own, or about this small process's size, whichever is larger.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Run one process to completion, without a terminal (a session of its own, standard
    input closed or piped) so that nothing can wait at a prompt."""
    stdin = base64.b64decode(request["stdin"]) if request["stdin"] is not None else None
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(
            request["args"],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=request["env"],
            start_new_session=True,
        )
        if stdin is not None and process.stdin is not None:
            process.stdin.write(stdin)
            process.stdin.close()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        error = errors.read().decode(errors="replace") if code else ""
    return {
        "seconds": seconds,
        "peak_kib": usage.ru_maxrss,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "returncode": code,
        "stderr": error,
    }


def main() -> None:
    for line in sys.stdin:
        print(json.dumps(run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
