"""A restart of PostgreSQL while the app runs: the next Reflex event still reaches the
database (reflex_django.connections), as the next Django request would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from throwaway_servers import Postgres

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.mark.parametrize(
    "connections",
    [
        pytest.param({"RDJ_PG_CONN_MAX_AGE": "0"}, id="a-connection-per-event"),
        pytest.param({"RDJ_PG_CONN_MAX_AGE": "600", "RDJ_PG_HEALTH_CHECKS": "1"}, id="persistent-with-health-checks"),
    ],
)
def test_the_next_event_after_a_database_restart_succeeds(postgres: Postgres, connections: dict[str, str]) -> None:
    env = {**os.environ, **postgres.settings, **connections}
    env.pop("RDJ_TEST_DB", None)
    process = subprocess.Popen(
        [sys.executable, str(HERE / "pg_events.py")],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "restart"
        postgres.restart()  # every connection of the Reflex process is cut
        process.stdin.write("go\n")
        process.stdin.flush()
        seen = json.loads(process.stdout.readline())
    finally:
        process.stdin.close()
        process.wait(timeout=60)
    assert seen == [{"user": "pg-user", "notes": 0}] * 3, seen
