"""The auth change log: how every process of a project tells the Reflex workers that a
session or a user changed, so a worker may reuse what it verified for earlier events.

It is an append-only file. A process that saves or deletes a session, a user or a
permission appends records (`reflex_django.auth_changes`); a Reflex worker `stat`s the
file before each event that carries a session cookie and reads only what was appended
since its last look. A record names what changed by a digest, never the session key
itself (a key is a credential):

    s:<digest of a session key>     u:<digest of a user pk>     *   (everything)

A record prefixed with `?` says the change is *in progress* (its transaction has not
committed yet): readers then verify what it names on every event until the same record
arrives without the `?` (published once the transaction commits), or until the memo's
maximum age passes if it never does (a rollback, a lost commit hook). So a change is
never missed because a commit hook did not run.

Every file starts with a header line holding a random id. A reader that finds another
header (the file was truncated and written again) forgets everything, as it does when
the file is replaced (rotation, deletion: another inode) or shrinks.

Failure modes, all towards "verify again" and never towards "stale":

- the file cannot be read or created: the reader reports the channel down and the
  bridge verifies every event against the database;
- a writer cannot append (disk full, permissions): it deletes the file, so every reader
  starts over (and logs the error); if even that fails, the memo's maximum age bounds
  what a reader may serve.

Appends of one `write` with O_APPEND are atomic on local filesystems; a reader only
consumes complete lines. The file must be on a filesystem every process of the project
shares with the same view (the SQLite database's directory, by default). It is created
readable and writable by its owner only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

__all__ = ["ALL", "IN_PROGRESS", "ChangeLog", "ChannelDown", "Tail", "session_record", "user_record"]

logger = logging.getLogger(__name__)

ALL = "*"
IN_PROGRESS = "?"
HEADER = "#"
# A log past this size is replaced by an empty one (readers then start over).
ROTATE_AT = 4 * 1024 * 1024
_MODE = 0o600


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


def session_record(session_key: str) -> str:
    """The record that says: the session with this key changed (or went)."""
    return "s:" + _digest(session_key)


def user_record(pk: object) -> str:
    """The record that says: the user with this primary key changed (or went)."""
    return "u:" + _digest(str(pk))


def _header() -> bytes:
    return f"{HEADER}{secrets.token_hex(8)}\n".encode()


class ChannelDown(Exception):
    """The log cannot be read: nothing verified earlier may be reused."""


class ChangeLog:
    """The writing end: append records, rotate the file when it grows too big."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def publish(self, records: Iterable[str]) -> None:
        data = "".join(record + "\n" for record in records).encode()
        if not data:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, _MODE)
            try:
                if os.fstat(fd).st_size == 0:  # new, or emptied behind our back
                    data = _header() + data
                written = os.write(fd, data)  # one write: appended whole
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if written != len(data):
                raise OSError(f"short write ({written} of {len(data)} bytes)")
        except OSError as exc:
            self._give_up(exc)
            return
        if size > ROTATE_AT:
            self.rotate()

    def rotate(self) -> None:
        """Replace the file with an empty one (readers see a new inode, start over)."""
        fresh = self.path.with_name(f"{self.path.stem}.{os.getpid()}.new{self.path.suffix}")
        try:
            fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, _MODE)
            try:
                os.write(fd, _header())
            finally:
                os.close(fd)
            os.replace(fresh, self.path)
        except OSError as exc:
            logger.warning("reflex-django: could not rotate the auth change log %s: %s", self.path, exc)
            fresh.unlink(missing_ok=True)

    def _give_up(self, exc: OSError) -> None:
        """A change that readers cannot learn of: make them start over instead."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError as unlink_exc:
            logger.error(
                "reflex-django: could not record an auth change in %s (%s) nor remove the file (%s); "
                "Reflex workers may reuse a verified session for up to REFLEX_DJANGO_AUTH_MEMO_MAX_AGE "
                "seconds\nhint: make the file and its directory writable by every process of the project",
                self.path,
                exc,
                unlink_exc,
            )
            return
        logger.error(
            "reflex-django: could not record an auth change in %s (%s); removed it so that Reflex "
            "workers verify sessions again\nhint: make the file and its directory writable by every "
            "process of the project",
            self.path,
            exc,
        )


class Tail:
    """The reading end, for one process: what was appended since the last `poll`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._position = 0
        self._header = b""

    def poll(self) -> list[str] | None:
        """The records appended since the last call, or None when the reader must
        forget everything (first call, file replaced, shrunk or rewritten).

        Raises `ChannelDown` when the file can be neither read nor created.
        """
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self._reopen()
            return None
        except OSError as exc:
            self.close()
            raise ChannelDown(str(exc)) from exc
        if self._fd is None or (stat.st_dev, stat.st_ino) != self._identity:
            self._reopen()
            return None
        if stat.st_size == self._position:
            return []
        if stat.st_size < self._position:  # truncated in place
            self._start_over_at(stat.st_size)
            return None
        try:
            data = os.pread(self._fd, stat.st_size - self._position, self._position)
            start = os.pread(self._fd, len(self._header), 0) if self._header else b""
        except OSError as exc:
            self.close()
            raise ChannelDown(str(exc)) from exc
        complete = data.rfind(b"\n") + 1  # a line being written is read next time
        if start != self._header:  # emptied and written again since the last look
            self._start_over_at(stat.st_size)
            return None
        self._position += complete
        lines = data[:complete].decode("ascii", "replace").split()
        if not self._header and lines and lines[0].startswith(HEADER):
            self._header = lines[0].encode() + b"\n"
        return [line for line in lines if not line.startswith(HEADER)]

    def _reopen(self) -> None:
        self.close()
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, _MODE)
        except OSError as exc:
            raise ChannelDown(str(exc)) from exc
        stat = os.fstat(fd)
        self._fd, self._identity, self._position = fd, (stat.st_dev, stat.st_ino), stat.st_size
        self._read_header()

    def _start_over_at(self, size: int) -> None:
        self._position, self._header = size, b""
        self._read_header()

    def _read_header(self) -> None:
        """Remember the file's first line, if it is a header, and read on from there."""
        assert self._fd is not None
        first = os.pread(self._fd, 64, 0)
        end = first.find(b"\n") + 1
        if end and first.startswith(HEADER.encode()):
            self._header = first[:end]
            self._position = max(self._position, end)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._identity, self._position, self._header = None, None, 0, b""
