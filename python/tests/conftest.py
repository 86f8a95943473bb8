"""Test setup: the package and a small Django project (SQLite file), migrated once."""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # reflex_django, rdj_testproject
os.environ["DJANGO_SETTINGS_MODULE"] = "rdj_testproject.settings"
_db_dir = tempfile.TemporaryDirectory(prefix="rdj-tests-")
os.environ["RDJ_TEST_DB"] = str(Path(_db_dir.name) / "db.sqlite3")
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "0")
os.environ["REFLEX_STATE_MANAGER_MODE"] = "memory"  # not `.states/` in the cwd

from reflex_django.conf import configure_django  # noqa: E402

configure_django()

from django.core.management import call_command  # noqa: E402

from dbthread import in_db_thread  # noqa: E402

call_command("migrate", verbosity=0)

_names = itertools.count(1)


@pytest.fixture
def make_user() -> Callable[..., Any]:
    """Create a real user in the database."""
    from django.contrib.auth.models import Group, User

    def create(password: str, groups: tuple[str, ...], **fields: Any) -> User:
        user = User.objects.create_user(username=f"user{next(_names)}", password=password, **fields)
        for name in groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        return user

    def make(password: str = "pw", groups: tuple[str, ...] = (), **fields: Any) -> User:
        return in_db_thread(create, password, groups, **fields)

    return make


@pytest.fixture
def login() -> Callable[..., str]:
    """Log `user` in through Django's own `login()`; returns the session cookie value."""
    from django.conf import settings
    from django.test import Client

    def do_login(user: Any, password: str = "pw") -> str:
        client = Client()
        assert in_db_thread(client.login, username=user.username, password=password)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    return do_login


@pytest.fixture(autouse=True)
def _no_request_bound() -> Iterator[None]:
    """Every test starts and ends without a request bound in its own context."""
    from reflex_django.context import current_request

    assert current_request() is None
    yield
    assert current_request() is None
