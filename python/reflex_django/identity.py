"""The bridge's memo of verified sessions: what a Reflex worker learnt about a session
cookie (the session's stored data, its expiry, the user it authenticates) reused by
later events until something says it changed. See docs/event-bridge.md.

An event whose cookie is in the memo costs no thread hop and no query: the bridge
`stat`s the auth change log (`reflex_django.changelog`), drops what the new records
name, and, if the entry survived, hands the event a fresh user instance built from the
memo and a session store that decodes the memo's data only if the handler reads it.
Any other event is verified against the database in one trip to Django's sync thread
(`verify`), exactly as Django's middleware would, and the result is remembered, unless
a record for it arrived meanwhile.

The memo is used only where it cannot serve stale authority:

- `reflex_django` is in INSTALLED_APPS (so every process with these settings publishes
  its changes) and there is an auth change log that can be read;
- the session engine stores rows (`db`, `cached_db`, or a subclass that loads the
  same way), so every session write is a signal;
- the user was authenticated by a backend whose `get_user` is `ModelBackend`'s, so
  the verdict depends on the user row alone;
- the entry is younger than REFLEX_DJANGO_AUTH_MEMO_MAX_AGE (60 s): the bound for
  changes made behind Django's signals.

Otherwise each event is verified against the database, as without the memo.
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

from reflex_django.changelog import ALL, IN_PROGRESS, ChannelDown, Tail, session_record, user_record

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase

    class MemoSessionStore(SessionBase):
        """What `memo_session_store` makes, to mypy (its base is known at run time)."""

        _memo_data: str | None


__all__ = ["Identity", "IdentityMemo", "memo", "status", "verify"]

logger = logging.getLogger(__name__)

MAX_AGE_SETTING = "REFLEX_DJANGO_AUTH_MEMO_MAX_AGE"
DEFAULT_MAX_AGE = 60.0
CAPACITY = 10_000
# Field values a handler cannot change in place: shared between the memo and events.
_IMMUTABLE = (str, int, float, bool, type(None), bytes, Decimal, UUID, datetime, date, time_of_day, timedelta)


@dataclass(slots=True)
class Identity:
    """What one verification of a session cookie found."""

    record: str  # the change-log record of the session
    session_data: str | None  # the row's encoded data; None: no such session
    expires: float  # epoch seconds; the row stops loading then
    verified: float  # monotonic time of the verification
    user_class: type[Model] | None = None  # None: anonymous
    user_values: dict[str, Any] | None = None  # concrete fields by attname, as loaded
    user_db: str | None = None
    user_record: str | None = None
    mutable_fields: tuple[str, ...] = ()

    def user(self) -> Any:
        """A new user instance for one event (handlers may change it freely)."""
        if self.user_class is None or self.user_values is None:
            from django.contrib.auth.models import AnonymousUser

            return AnonymousUser()
        cls, values = self.user_class, self.user_values
        if not _builds_plainly(cls):  # a custom __init__/from_db, a field tracker: as a query would
            names = list(values)
            return cls.from_db(self.user_db, names, [copy.deepcopy(values[name]) for name in names])
        # What Model.from_db makes of these values, without running Model.__init__.
        user = cls.__new__(cls)
        user.__dict__.update(values)
        for name in self.mutable_fields:
            user.__dict__[name] = copy.deepcopy(values[name])
        state = ModelState()
        state.adding, state.db = False, self.user_db
        user._state = state
        return user


def _builds_plainly(cls: type[Model]) -> bool:
    """Whether `Model.from_db` would do no more than set the fields: no `__init__` or
    `from_db` of the model's own, no receivers of its init signals (checked again
    whenever a receiver is connected or disconnected)."""
    stamp = (tuple(r[0] for r in pre_init.receivers), tuple(r[0] for r in post_init.receivers))
    found = _plain_classes.get(cls)
    if found is None or found[0] != stamp:
        plain = (
            inspect.getattr_static(cls, "__init__") is Model.__init__
            and getattr(cls.from_db, "__func__", None) is _MODEL_FROM_DB
            and not pre_init.has_listeners(cls)
            and not post_init.has_listeners(cls)
        )
        _plain_classes[cls] = found = (stamp, plain)
    return found[1]


_plain_classes: dict[type[Model], tuple[tuple[tuple[Any, ...], tuple[Any, ...]], bool]] = {}
# The function behind the classmethod `Model.from_db`.
_MODEL_FROM_DB = Model.__dict__["from_db"].__func__


class IdentityMemo:
    """Verified identities of one process, forgotten as the change log says."""

    def __init__(self, tail: Tail, max_age: float, capacity: int = CAPACITY) -> None:
        self._tail = tail
        self._max_age = max_age
        self._capacity = capacity
        self._entries: dict[str, Identity | _Pending] = {}
        # Records of changes in progress (published, not yet committed): how many, and
        # until when they count if their commit is never announced.
        self._unsettled: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self.down_reason: str | None = None

    def lookup(self, session_key: str) -> tuple[Identity | None, _Pending | None]:
        """The memo's identity for `session_key`, or (None, a ticket for `remember`);
        (None, None) when nothing may be reused or remembered now (the change log is
        down, or a change to this session or its user is in progress)."""
        record = session_record(session_key)
        with self._lock:
            if not self._catch_up() or self._in_progress(ALL) or self._in_progress(record):
                return None, None
            entry = self._entries.get(record)
            if isinstance(entry, Identity):
                if self._in_progress(entry.user_record):
                    del self._entries[record]
                    return None, None
                if entry.expires > time.time() and time.monotonic() - entry.verified < self._max_age:
                    return entry, None
                del self._entries[record]
            # A ticket taken before the database is read: a change published while
            # the event reads it drops the ticket, and the result is not remembered.
            pending = _Pending(record)
            self._entries[record] = pending
            self._evict()
            return None, pending

    def remember(self, pending: _Pending, identity: Identity) -> None:
        """Keep `identity`, unless a change to it arrived since `pending` was taken."""
        with self._lock:
            if self._entries.get(pending.record) is not pending:
                return
            if self._in_progress(ALL) or self._in_progress(identity.user_record):
                del self._entries[pending.record]
            else:
                self._entries[pending.record] = identity

    def forget(self, pending: _Pending) -> None:
        with self._lock:
            if self._entries.get(pending.record) is pending:
                del self._entries[pending.record]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._unsettled.clear()

    def _in_progress(self, record: str | None) -> bool:
        if record is None or not self._unsettled:
            return False
        found = self._unsettled.get(record)
        if found is None:
            return False
        if found[1] <= time.monotonic():  # its commit was never announced: long enough
            del self._unsettled[record]
            return False
        return True

    def _catch_up(self) -> bool:
        try:
            records = self._tail.poll()
        except ChannelDown as exc:
            if self.down_reason is None:
                logger.warning(
                    "reflex-django: the auth change log %s cannot be read (%s); every event is "
                    "verified against the database until it can",
                    self._tail.path,
                    exc,
                )
            self.down_reason = str(exc)
            self._entries.clear()
            self._unsettled.clear()
            return False
        self.down_reason = None
        if records is None:
            self._entries.clear()
            self._unsettled.clear()
        elif records:
            self._apply(records)
        return True

    def _apply(self, records: list[str]) -> None:
        now = time.monotonic()
        users = set()
        for line in records:
            begins = line.startswith(IN_PROGRESS)
            record = line[1:] if begins else line
            count, _ = self._unsettled.get(record, (0, 0.0))
            if begins:  # verify it every event until it commits
                self._unsettled[record] = (count + 1, now + self._max_age)
            elif count > 1:
                self._unsettled[record] = (count - 1, now + self._max_age)
            else:
                self._unsettled.pop(record, None)
            if record == ALL:
                self._entries.clear()
            elif record.startswith("u:"):
                users.add(record)
            else:
                self._entries.pop(record, None)
        if users:
            for key, entry in list(self._entries.items()):
                # A ticket does not know its user yet: it goes too.
                if isinstance(entry, _Pending) or entry.user_record in users:
                    del self._entries[key]
        if len(self._unsettled) > CAPACITY:  # rolled back changes, never settled
            for record, (_, until) in list(self._unsettled.items()):
                if until <= now:
                    del self._unsettled[record]

    def _evict(self) -> None:
        while len(self._entries) > self._capacity:
            del self._entries[next(iter(self._entries))]  # the oldest


class _Pending:
    __slots__ = ("record",)

    def __init__(self, record: str) -> None:
        self.record = record


def verify(request: Any, engine: Any, session_key: str, memoize: bool) -> tuple[Any, Identity | None]:
    """Load the session `session_key` of `request` and its user, as Django's middleware
    would (sync: call it in Django's sync thread). Returns the user and, when `memoize`
    and the verdict may be reused, what to remember."""
    from django.contrib.auth import BACKEND_SESSION_KEY, get_user

    from reflex_django.connections import close_old_connections

    close_old_connections()  # as a request starts: no expired or broken connection
    store = engine.SessionStore(session_key)
    request.session = store
    row = None
    if memoize:
        row = store._get_session_from_db()  # the row itself: its expiry is needed too
        store._session_cache = store.decode(row.session_data) if row is not None else {}
    user = get_user(request)
    if not memoize or store.session_key not in (session_key, None) or store.modified:
        return user, None  # the session changed on the way (flushed, cycled)
    identity = Identity(
        record=session_record(session_key),
        session_data=row.session_data if row is not None else None,
        expires=row.expire_date.timestamp() if row is not None else float("inf"),
        verified=time.monotonic(),
    )
    if user.is_authenticated:
        if not _verdict_depends_on_row_alone(type(user), store.get(BACKEND_SESSION_KEY)):
            return user, None
        snapshot = _snapshot(user)
        if snapshot is None:
            return user, None
        identity.user_class = type(user)
        identity.user_values, identity.mutable_fields = snapshot
        identity.user_db = user._state.db
        identity.user_record = user_record(user.pk)
    return user, identity


def _snapshot(user: Any) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """The user's concrete field values, copied (the verifying event's handler gets
    `user` itself and may change it); None if one is not loaded or cannot be copied."""
    loaded = user.__dict__
    values: dict[str, Any] = {}
    mutable = []
    for field in type(user)._meta.concrete_fields:
        if field.attname not in loaded:  # deferred
            return None
        value = loaded[field.attname]
        if not isinstance(value, _IMMUTABLE):
            try:
                value = copy.deepcopy(value)
            except Exception:  # a memoryview, say
                return None
            mutable.append(field.attname)
        values[field.attname] = value
    return values, tuple(mutable)


def _verdict_depends_on_row_alone(user_class: type[Model], backend_path: Any) -> bool:
    """Whether Django's verdict on this session can change only through a change to
    the user row or the session row (each one a record in the change log): a stock
    `ModelBackend` lookup, through a manager that does not filter, of a user whose
    `is_active` and session hash come from its own fields."""
    from django.contrib.auth import load_backend
    from django.contrib.auth.backends import AllowAllUsersModelBackend, ModelBackend
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db.models.manager import BaseManager
    from django.db.models.query_utils import DeferredAttribute

    try:
        backend = type(load_backend(str(backend_path)))
    except Exception:
        return False
    is_active = inspect.getattr_static(user_class, "is_active", True)
    return (
        backend.get_user is ModelBackend.get_user
        and getattr(backend, "user_can_authenticate", None)
        in (ModelBackend.user_can_authenticate, AllowAllUsersModelBackend.user_can_authenticate)
        and type(user_class._default_manager).get_queryset is BaseManager.get_queryset
        and getattr(user_class, "get_session_auth_hash", None) is AbstractBaseUser.get_session_auth_hash
        and (isinstance(is_active, bool) or type(is_active) is DeferredAttribute)
    )


# --- the process's memo, made from the settings on first use ----------------------

_memo: IdentityMemo | None = None
_reason = "not set up yet"
_made = False
_setup_lock = threading.Lock()


def memo() -> IdentityMemo | None:
    """This process's memo, or None where it may not be used (`status()` says why)."""
    if not _made:
        _make()
    return _memo


def status() -> str:
    """Whether events reuse verified sessions here, and if not, why."""
    current = memo()
    if current is None:
        return f"off: {_reason}"
    if current.down_reason is not None:
        return f"down: {current.down_reason}"
    return f"on: change log {current._tail.path}"


def _make() -> None:
    global _memo, _reason, _made
    with _setup_lock:
        if _made:
            return
        _memo, _reason = _build()
        _made = True
        from django.core.signals import setting_changed

        setting_changed.connect(_reset, dispatch_uid="reflex_django.identity")


def _build() -> tuple[IdentityMemo | None, str]:
    from django.apps import apps
    from django.conf import settings

    from reflex_django.auth_changes import change_log_path

    if not apps.is_installed("reflex_django"):
        return None, "reflex_django is not in INSTALLED_APPS (other processes would not publish changes)"
    try:
        max_age = float(getattr(settings, MAX_AGE_SETTING, DEFAULT_MAX_AGE) or 0)
    except (TypeError, ValueError):
        return None, f"{MAX_AGE_SETTING} is not a number (see manage.py check)"
    if max_age <= 0:
        return None, f"{MAX_AGE_SETTING} is 0"
    if not memoizable_engine(settings.SESSION_ENGINE):
        return None, f"SESSION_ENGINE {settings.SESSION_ENGINE!r} does not store sessions as database rows"
    path = change_log_path()
    if path is None:
        return None, "no auth change log (REFLEX_DJANGO_AUTH_CHANGE_LOG; 'auto' needs SQLite files)"
    return IdentityMemo(Tail(path), max_age), ""


def memoizable_engine(engine_path: str) -> bool:
    """Whether sessions of this engine load as `db` does (a row, whose writes signal)."""
    from importlib import import_module

    from django.contrib.sessions.backends import cached_db, db

    try:
        store = import_module(engine_path).SessionStore
    except Exception:
        return False
    return issubclass(store, db.SessionStore) and store.load in (db.SessionStore.load, cached_db.SessionStore.load)


def _reset(**_: Any) -> None:
    """Settings changed (tests): start again from them."""
    global _memo, _made
    with _setup_lock:
        if _memo is not None:
            _memo.clear()
            _memo._tail.close()
        _memo, _made = None, False


@functools.cache
def memo_session_store(base: type[SessionBase]) -> type[MemoSessionStore]:
    """`base` (an engine's SessionStore) loading its data from the memo."""

    class SessionStore(base):  # type: ignore[misc, valid-type]  # a base known at run time
        """A session whose data the bridge already read: decoded when first used."""

        _memo_data: str | None = None

        def load(self) -> dict[str, Any]:
            if self._memo_data is None:  # there was no such session
                self._session_key = None
                return {}
            data: dict[str, Any] = self.decode(self._memo_data)
            return data

        async def aload(self) -> dict[str, Any]:
            return self.load()

    # The same names as `base`: the session's signing salt is made of the class's
    # qualified name, and repr() should not tell the two apart either.
    SessionStore.__module__, SessionStore.__qualname__ = base.__module__, base.__qualname__
    return SessionStore
