"""The auth change log: how every process of a project tells the Reflex workers that a
session or a user changed, so a worker may reuse what it verified for earlier events.

It is an append-only file. A process that saves or deletes a session, a user or a
permission appends one line per change *after its transaction commits*
(`reflex_django.auth_changes`); a Reflex worker `stat`s the file before each event that
carries a session cookie and reads only what was appended since its last look. A line
names what changed by a digest, never the session key itself (a key is a credential):

    s:<digest of a session key>     u:<digest of a user pk>     *   (everything)

Failure modes, all towards "verify again" and never towards "stale":

- the file cannot be read or created: the reader reports the channel down and the
  bridge verifies every event against the database;
- a writer cannot append (disk full, permissions): it deletes the file, so every reader
  starts over (and logs the error); if even that fails, the memo's maximum age bounds
  what a reader may serve;
- the file is replaced (rotation, deletion, a new file under the same name) or shrinks:
  readers forget everything they verified. A reader keeps its file open, so the inode
  it compares with cannot be reused while it looks.

Appends of one line are atomic on local filesystems (O_APPEND, one `write`); a reader
only consumes complete lines. The file must be on a filesystem every process of the
project shares with the same view (the SQLite database's directory, by default).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["ALL", "ChangeLog", "ChannelDown", "Tail", "session_record", "user_record"]

logger = logging.getLogger(__name__)

ALL = "*"
# A log past this size is replaced by an empty one (readers then start over).
ROTATE_AT = 4 * 1024 * 1024


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


def session_record(session_key: str) -> str:
    """The line that says: the session with this key changed (or went)."""
    return "s:" + _digest(session_key)


def user_record(pk: object) -> str:
    """The line that says: the user with this primary key changed (or went)."""
    return "u:" + _digest(str(pk))


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
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
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
            self._rotate()

    def _rotate(self) -> None:
        fresh = self.path.with_name(f"{self.path.name}.{os.getpid()}.new")
        try:
            fresh.touch(mode=0o666)
            os.replace(fresh, self.path)  # readers see a new inode and start over
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

    def poll(self) -> list[str] | None:
        """The records appended since the last call, or None when the reader must
        forget everything (first call, file replaced or shrunk).

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
            self._position = stat.st_size
            return None
        try:
            data = os.pread(self._fd, stat.st_size - self._position, self._position)
        except OSError as exc:
            self.close()
            raise ChannelDown(str(exc)) from exc
        complete = data.rfind(b"\n") + 1  # a line being written is read next time
        self._position += complete
        return data[:complete].decode("ascii", "replace").split()

    def _reopen(self) -> None:
        self.close()
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise ChannelDown(str(exc)) from exc
        stat = os.fstat(fd)
        self._fd, self._identity, self._position = fd, (stat.st_dev, stat.st_ino), stat.st_size

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._identity, self._position = None, None, 0
