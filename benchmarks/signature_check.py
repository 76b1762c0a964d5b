"""Check every signature in FILE once, shared among CORES processes, and nothing else.

    python benchmarks/signature_check.py FILE CORES

The floor `run.py` measures `verify` against, as a whole process like `verify` itself: start
Python, load PyNaCl (libsodium, as `verify` uses), read the signatures and check them on every
core.  FILE holds the signer's 32-byte public key, then for each entry its 64-byte signature,
the length of its signed bytes (4 bytes, big-endian) and those bytes.  Exits 1 if one does not
hold.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

KEY_BYTES = 32
SIGNATURE_BYTES = 64


def read(path: Path) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    data = path.read_bytes()
    key, offset, signed = data[:KEY_BYTES], KEY_BYTES, []
    while offset < len(data):
        signature = data[offset : offset + SIGNATURE_BYTES]
        offset += SIGNATURE_BYTES
        length = int.from_bytes(data[offset : offset + 4], "big")
        offset += 4
        signed.append((signature, data[offset : offset + length]))
        offset += length
    return key, signed


def write(path: Path, key: bytes, signed: list[tuple[bytes, bytes]]) -> None:
    parts = [key]
    for signature, body in signed:
        parts += [signature, len(body).to_bytes(4, "big"), body]
    path.write_bytes(b"".join(parts))


def check(key: bytes, signed: list[tuple[bytes, bytes]], share: int, shares: int) -> None:
    verifier = VerifyKey(key)
    try:
        for signature, body in signed[share::shares]:
            verifier.verify(body, signature)
    except BadSignatureError:
        sys.exit(1)


def main(path: Path, cores: int) -> int:
    key, signed = read(path)
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=check, args=(key, signed, share, cores)) for share in range(cores)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return 1 if any(worker.exitcode for worker in workers) else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2])))
