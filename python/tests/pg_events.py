"""Reflex events on PostgreSQL across a database restart (driven by test_db_restart.py).

Runs in its own process (the tests' other Django settings use SQLite): migrates, signs
a user in, sends an event that reads the database, says "restart" on stdout and waits
for a line on stdin (the test restarts PostgreSQL meanwhile), sends more events, and
prints what each one saw as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ["DJANGO_SETTINGS_MODULE"] = "rdj_testproject.settings_pg"
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
os.environ["REFLEX_STATE_MANAGER_MODE"] = "memory"

import reflex as rx  # noqa: E402

from reflex_django.conf import configure_django  # noqa: E402

configure_django()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402

from dbthread import in_db_thread  # noqa: E402
from reflex_django.context import current_user  # noqa: E402
from reflex_django.middleware import DjangoEventBridge  # noqa: E402
from reflex_harness import fresh_app, running  # noqa: E402

seen: list[dict[str, object]] = []


class DbState(rx.State):
    @rx.event
    async def count(self) -> None:
        from rdj_testproject.notes.models import Note

        user = current_user()
        try:
            notes = await Note.objects.acount()
            seen.append({"user": user.get_username() if user.is_authenticated else None, "notes": notes})
        except Exception as exc:
            seen.append({"error": f"{type(exc).__name__}: {exc}"})


def _signed_in() -> str:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    User.objects.filter(username="pg-user").delete()
    User.objects.create_user(username="pg-user", password="pw")
    client = Client()
    assert client.login(username="pg-user", password="pw")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def main() -> None:
    in_db_thread(call_command, "migrate", verbosity=0)
    cookie = {"sessionid": in_db_thread(_signed_in)}
    in_db_thread(connections.close_all)
    app = fresh_app()
    app.add_middleware(DjangoEventBridge(), index=0)
    async with running(app) as reflex:
        tab = await reflex.tab(cookies=cookie)
        await tab.send(DbState.count)
        await reflex.settle()
        print("restart", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        for _ in range(2):
            await tab.send(DbState.count)
            await reflex.settle()
    print(json.dumps(seen), flush=True)


asyncio.run(main())
