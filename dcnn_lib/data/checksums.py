"""Is a data file the published one? MD5 checks, hashed once per file and process.

- :func:`file_md5` hashes a file once per process: the digest is kept under the file's path,
  size and modification time, so a file that changes is hashed again.
- :func:`check_file` compares a file (plain, or gzipped: its uncompressed content) with an
  expected ``(size, md5)`` and says what is wrong: missing, truncated (size), not a complete
  gzip stream, or a checksum mismatch of the same length (a corrupted byte).
- :func:`unpack_verified` writes the (uncompressed) content to a destination through a
  temporary file, hashing on the way, and keeps it only when it is the expected one.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
_DIGESTS: dict[tuple[str, int, int], str] = {}


def _copy_hashing(src: BinaryIO, dst: BinaryIO | None) -> tuple[int, str]:
    md5, size = hashlib.md5(usedforsecurity=False), 0
    while chunk := src.read(CHUNK):
        md5.update(chunk)
        size += len(chunk)
        if dst is not None:
            dst.write(chunk)
    return size, md5.hexdigest()


def file_md5(path: Path) -> str:
    """MD5 of ``path``'s bytes, computed once per process while its size and mtime stay."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        with open(path, "rb") as f:
            _DIGESTS[key] = _copy_hashing(f, None)[1]
    return _DIGESTS[key]


def _mismatch(size: int, md5: str, expected: tuple[int, str]) -> str | None:
    want_size, want_md5 = expected
    if size != want_size:
        return f"{size:,} bytes, expected {want_size:,} (truncated or not this file)"
    if md5 != want_md5:
        return f"checksum mismatch: MD5 {md5}, expected {want_md5} (same length: corrupted)"
    return None


def check_file(path: Path, expected: tuple[int, str]) -> str | None:
    """``None`` when ``path`` holds the expected content, else what is wrong with it.

    A ``.gz`` file is checked by its uncompressed content (a recompressed copy, such as
    Debian's, is as good as the original)."""
    if not path.is_file():
        return "missing"
    if path.suffix != ".gz":
        if path.stat().st_size != expected[0]:
            return _mismatch(path.stat().st_size, "", expected)
        return _mismatch(expected[0], file_md5(path), expected)
    return unpack_verified(path, None, expected)


def unpack_verified(src: Path, dst: Path | None, expected: tuple[int, str]) -> str | None:
    """Copy ``src`` (gunzipped when it ends in ``.gz``) to ``dst`` if its content is the
    expected one; returns ``None`` on success, else the reason (``dst`` is then untouched).
    ``dst=None`` only checks."""
    tmp = dst.with_name(dst.name + ".part") if dst is not None else None
    opener = gzip.open if src.suffix == ".gz" else open
    try:
        with opener(src, "rb") as fin:
            if tmp is None:
                size, md5 = _copy_hashing(fin, None)
            else:
                tmp.parent.mkdir(parents=True, exist_ok=True)
                with open(tmp, "wb") as fout:
                    size, md5 = _copy_hashing(fin, fout)
    except (EOFError, OSError, zlib.error) as exc:   # gzip.BadGzipFile is an OSError
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        return f"not a complete gzip file ({type(exc).__name__}: {exc})"
    problem = _mismatch(size, md5, expected)
    if tmp is not None:
        if problem is None:
            os.replace(tmp, dst)
            st = dst.stat()
            _DIGESTS[(str(dst.resolve()), st.st_size, st.st_mtime_ns)] = md5   # no need to hash it again
        else:
            tmp.unlink(missing_ok=True)
    return problem
