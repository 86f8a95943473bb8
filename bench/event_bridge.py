"""What the per-event Django bridge costs, on Reflex's real event path, in-process.

    python bench/event_bridge.py [--events N]

Drives `EventNamespace.on_event` → Reflex's event processor → middleware → handler
with the tests' harness (python/tests/reflex_harness.py), against the tests' Django
project on a fresh SQLite file with a real database session. The handler reads
`current_user().username` and assigns it, so every event does the work an app's click
does and emits one update. Prints events/s and the ratio to the no-bridge rate for:

- no bridge (the same app without `DjangoEventBridge`), one tab and a new tab per
  event (the baselines of the warm and cold rows);
- bridge, anonymous (no session cookie);
- bridge, signed in, warm (one tab sends every event);
- bridge, signed in, cold (every event on a new tab);
- bridge, signed in, memo off (REFLEX_DJANGO_AUTH_CHANGE_LOG = None: every event
  verified against the database, the path taken when no change log is available);
- bridge, signed in, after a revocation (the user's password changed from another
  thread: every event must then see AnonymousUser);

and the time of `import reflex_django` in a fresh interpreter. The goal of the bridge:
signed-in events ≥ 0.5× the no-bridge rate, anonymous bridge cost ≤ 100 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "python" / "tests"
sys.path[:0] = [str(REPO / "python"), str(TESTS)]
os.environ["DJANGO_SETTINGS_MODULE"] = "rdj_testproject.settings"
_db = tempfile.TemporaryDirectory(prefix="rdj-bench-")
os.environ["RDJ_TEST_DB"] = str(Path(_db.name) / "db.sqlite3")
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
os.environ["REFLEX_STATE_MANAGER_MODE"] = "memory"

import reflex as rx  # noqa: E402

from reflex_django.conf import configure_django  # noqa: E402

configure_django()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from dbthread import in_db_thread  # noqa: E402
from reflex_django import identity  # noqa: E402
from reflex_django.context import current_user  # noqa: E402
from reflex_django.middleware import DjangoEventBridge  # noqa: E402
from reflex_harness import Reflex, fresh_app, running  # noqa: E402

call_command("migrate", verbosity=0)


class BenchState(rx.State):
    who: str = ""
    n: int = 0

    @rx.event
    async def touch(self):
        user = current_user()
        self.who = user.username if user.is_authenticated else ""
        self.n += 1  # always a change, so every event emits an update


async def _rate(reflex: Reflex, events: int, cookies: dict[str, str] | None, *, new_tab_each: bool) -> float:
    """Events per second for `events` events, sent in order and awaited together."""
    tab = await reflex.tab(cookies=cookies)
    await tab.send(BenchState.touch)  # warm-up: state created, caches filled
    await reflex.settle()
    tabs = [await reflex.tab(cookies=cookies) for _ in range(events)] if new_tab_each else None
    gc.collect()  # every run starts without the garbage of the previous one
    start = time.perf_counter()
    for i in range(events):
        await (tabs[i] if tabs else tab).send(BenchState.touch)
    await _drained(reflex)
    return events / (time.perf_counter() - start)


async def _drained(reflex: Reflex) -> None:
    """Every queued event has run (polled each millisecond: the harness's `settle`
    polls every 10 ms, too coarse to time fast runs)."""
    processor = reflex.processor
    while processor._futures or processor._tasks:  # noqa: ASYNC110 - the processor has no event to await
        await asyncio.sleep(0.001)


async def _who(reflex: Reflex, cookies: dict[str, str]) -> str:
    tab = await reflex.tab(cookies=cookies)
    await tab.send(BenchState.touch)
    await reflex.settle()
    return (await reflex.state(tab, BenchState)).who


def _signed_in_cookie(username: str) -> dict[str, str]:
    from django.contrib.auth.models import User
    from django.test import Client

    User.objects.create_user(username=username, password="pw")
    client = Client()
    assert client.login(username=username, password="pw")
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def _change_password(username: str) -> None:
    from django.contrib.auth.models import User

    user = User.objects.get(username=username)
    user.set_password("new")
    user.save()


def _import_ms() -> float:
    code = "import time; t = time.perf_counter(); import reflex_django; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    runs = [
        float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout)
        for _ in range(5)
    ]
    return statistics.median(runs) * 1000


async def main(events: int, rounds: int) -> None:
    plain, bridged = fresh_app(), fresh_app()
    bridged.add_middleware(DjangoEventBridge(), index=0)
    signed_in = in_db_thread(_signed_in_cookie, "bench-user")
    rows: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    for round_ in range(rounds):
        async with running(plain) as reflex:
            record("no bridge", await _rate(reflex, events, None, new_tab_each=False))
            record("no bridge (new tab each)", await _rate(reflex, events, None, new_tab_each=True))
        async with running(bridged) as reflex:
            record("bridge, anonymous", await _rate(reflex, events, None, new_tab_each=False))
            assert await _who(reflex, signed_in) == "bench-user"
            record("bridge, signed in (warm)", await _rate(reflex, events, signed_in, new_tab_each=False))
            record("bridge, signed in (cold)", await _rate(reflex, events, signed_in, new_tab_each=True))
            with override_settings(REFLEX_DJANGO_AUTH_CHANGE_LOG=None):
                memo_off = await _rate(reflex, events, signed_in, new_tab_each=False)
            record("bridge, signed in, memo off", memo_off)
            name = f"bench-revoked-{round_}"
            revoked = in_db_thread(_signed_in_cookie, name)
            assert await _who(reflex, revoked) == name
            in_db_thread(_change_password, name)
            assert await _who(reflex, revoked) == "", "a revoked session was still signed in"
            record("bridge, after a revocation", await _rate(reflex, events, revoked, new_tab_each=False))
    status = identity.status()

    median = {name: statistics.median(values) for name, values in rows.items()}
    print(f"Reflex events/s, {events} events per run, median of {rounds} rounds")
    print(f"memo: {status}")
    print(f"  {'scenario':<30} {'events/s':>10} {'µs/event':>10} {'vs no bridge':>13} {'bridge µs':>10}")
    for name, rate in median.items():
        # A new tab per event costs Reflex something of its own: compare like with like.
        base = median["no bridge (new tab each)" if "new tab" in name or "cold" in name else "no bridge"]
        extra = 1e6 / rate - 1e6 / base
        print(f"  {name:<30} {rate:>10.0f} {1e6 / rate:>10.1f} {rate / base:>12.3f}x {extra:>10.1f}")
    print(f"  import reflex_django: {_import_ms():.1f} ms (median of 5 fresh interpreters)")
    print("goals: signed in >= 0.5x; anonymous bridge <= 100 µs; import <= 30 ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.rounds))
