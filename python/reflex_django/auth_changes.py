"""What counts as an auth change, and where it is published (`reflex_django.changelog`).

Connected by `ReflexDjangoConfig.ready()`, so every process whose settings list
`reflex_django` in INSTALLED_APPS publishes: the Django server, the admin, `manage.py
shell`, each Reflex worker. What is published:

- a session row saved or deleted (login, logout, `cycle_key`, `flush`, `asave()` from
  a handler) → that session; not the deletion of an expired one (`clearsessions`):
  readers check expiry themselves;
- a user saved or deleted, also through a proxy model or a subclass (password,
  `is_active`, any field), or its groups or direct permissions changed (either side
  of the relation) → that user;
- a group's permissions changed, a group or a permission deleted → everything.

Inside a transaction a change is published twice: at once as *in progress* (readers
verify it every event from then on) and again when the transaction commits (readers
may reuse what they verify after that). Outside one it is committed already and
published once. So a reader never remembers a row read before the commit, even if a
commit hook of the application fails and the second record never comes.

Changes that skip Django's signals (`QuerySet.update()`, `bulk_update()`, raw SQL,
another program) are not seen: call `auth_changed()` after them, else the bridge's memo
forgets what it verified after REFLEX_DJANGO_AUTH_MEMO_MAX_AGE seconds.

Where: REFLEX_DJANGO_AUTH_CHANGE_LOG is an absolute path, None (no log: the bridge
verifies every event) or "auto" (the default): next to the database file when users and
sessions live in SQLite files, the one case where every process that can change them
is known to share this machine's filesystem; otherwise none. The name ends in `.log`,
which Reflex's hot reload ignores.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reflex_django.changelog import ALL, IN_PROGRESS, ChangeLog, session_record, user_record

__all__ = ["auth_changed", "change_log_path", "connect"]

SETTING = "REFLEX_DJANGO_AUTH_CHANGE_LOG"
_SUFFIX = ".reflex-django-auth.log"
_UID = "reflex_django.auth_changes"


def auth_changed(*, user: Any = None, session_key: str | None = None, using: str | None = None) -> None:
    """Tell the event bridge that auth data changed behind Django's signals (after a
    `QuerySet.update()` or raw SQL): `user` (an instance or a pk) and/or `session_key`;
    with neither, everything. `using` is the database alias the change was made on
    (default: where the user model, else the session model, is written): inside a
    transaction there, the change counts as in progress until it commits."""
    records = []
    if user is not None:
        records.append(user_record(getattr(user, "pk", user)))
    if session_key is not None:
        records.append(session_record(session_key))
    if using is None:
        from django.contrib.auth import get_user_model
        from django.db import router

        model = get_user_model() if user is not None or session_key is None else _session_model()
        using = router.db_for_write(model) if model is not None else None
    _publish(records or [ALL], using)


def change_log_path() -> Path | None:
    """Where this project's auth changes are published, or None (see the module doc)."""
    return _change_log_path()


@functools.cache
def _change_log_path() -> Path | None:
    from django.conf import settings

    configured = getattr(settings, SETTING, "auto")
    if configured is None or configured == "":
        return None
    if configured != "auto":
        return Path(configured).absolute()  # a relative path is refused by a system check
    from django.contrib.auth import get_user_model

    user_db = _sqlite_file(get_user_model())
    session_model = _session_model()
    if user_db is None or (session_model is not None and _sqlite_file(session_model) is None):
        return None
    return user_db.with_name(user_db.name + _SUFFIX)


def _sqlite_file(model: type) -> Path | None:
    """The database file `model` is written to, when that is a SQLite file."""
    from django.db import connections, router

    config = connections.settings[router.db_for_write(model) or "default"]
    name = str(config.get("NAME") or "")
    if "sqlite" not in str(config.get("ENGINE", "")) or not name or name == ":memory:":
        return None
    if name.startswith("file:"):  # a URI: only a plain file path is a known place
        return None
    return Path(name).resolve()


def _session_model() -> type | None:
    """The model of the configured session engine, if it stores sessions as rows."""
    from importlib import import_module

    from django.conf import settings

    try:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        get_model_class = getattr(store, "get_model_class", None)
        return get_model_class() if get_model_class is not None else None
    except Exception:  # a broken engine (reported by the bridge), sessions not installed
        return None


def _log() -> ChangeLog | None:
    path = change_log_path()
    return ChangeLog(path) if path is not None else None


def _publish(records: Iterable[str], using: str | None) -> None:
    log = _log()
    if log is None:
        return
    from django.db import transaction

    batch = list(records)
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block and connection.get_autocommit():
        log.publish(batch)  # committed already
        return
    # Not committed yet: from now on readers verify what these name at every event...
    log.publish([IN_PROGRESS + record for record in batch])
    if connection.in_atomic_block:
        # ...until the commit is announced (a reader that looked before it read the
        # old rows, so only what it verifies after this may be reused).
        transaction.on_commit(lambda: log.publish(batch), using=using, robust=True)
    # With autocommit off and no atomic block there is no commit hook: readers verify
    # these until REFLEX_DJANGO_AUTH_MEMO_MAX_AGE has passed.


def connect() -> None:
    """Connect the receivers (idempotent). Saves through a proxy model or a subclass of
    the user or session model send signals with that class as sender: each is
    connected too."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.core.signals import setting_changed
    from django.db.models.signals import m2m_changed, post_delete, post_save

    setting_changed.connect(_forget_path, dispatch_uid=_UID)
    user_model = get_user_model()
    session_model = _session_model()
    for model in apps.get_models():
        if issubclass(model, user_model):
            post_save.connect(_user_changed, sender=model, dispatch_uid=_UID)
            post_delete.connect(_user_changed, sender=model, dispatch_uid=_UID)
        elif session_model is not None and issubclass(model, session_model):
            post_save.connect(_session_changed, sender=model, dispatch_uid=_UID)
            post_delete.connect(_session_deleted, sender=model, dispatch_uid=_UID)
    for relation in ("groups", "user_permissions"):
        through = getattr(getattr(user_model, relation, None), "through", None)
        if through is not None:
            m2m_changed.connect(_membership_changed, sender=through, dispatch_uid=_UID)
    if apps.is_installed("django.contrib.auth"):
        from django.contrib.auth.models import Group, Permission

        m2m_changed.connect(_everything_changed, sender=Group.permissions.through, dispatch_uid=_UID)
        for model in (Group, Permission):
            post_delete.connect(_everything_changed, sender=model, dispatch_uid=_UID)


def _forget_path(*, setting: str, **_: Any) -> None:
    if setting in (SETTING, "DATABASES", "SESSION_ENGINE", "AUTH_USER_MODEL"):
        _change_log_path.cache_clear()


def _user_changed(sender: type, instance: Any, using: str, **_: Any) -> None:
    _publish([user_record(instance.pk)], using)


def _session_changed(sender: type, instance: Any, using: str, **_: Any) -> None:
    _publish([session_record(instance.session_key)], using)


def _session_deleted(sender: type, instance: Any, using: str, **_: Any) -> None:
    from django.utils import timezone

    expire_date = getattr(instance, "expire_date", None)
    if expire_date is not None and expire_date <= timezone.now():
        return  # expired: readers check expiry themselves (clearsessions deletes thousands)
    _publish([session_record(instance.session_key)], using)


def _membership_changed(
    sender: type, instance: Any, action: str, reverse: bool, pk_set: set[Any] | None, using: str, **_: Any
) -> None:
    if not action.startswith("post_"):
        return
    if not reverse:  # user.groups.add(...): one user
        _publish([user_record(instance.pk)], using)
    elif pk_set is not None:  # group.user_set.add(...): these users
        _publish([user_record(pk) for pk in pk_set], using)
    else:  # group.user_set.clear(): users unknown
        _publish([ALL], using)


def _everything_changed(sender: type, using: str, action: str = "post_", **_: Any) -> None:
    if action.startswith("post_"):
        _publish([ALL], using)
