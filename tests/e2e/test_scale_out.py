"""Scale-out: two replicas of `reflex-django run --env prod` (different ports, the same
PostgreSQL and Redis) behind nginx running the config `deploy nginx` made. A replica
killed with SIGKILL: the page reconnects through nginx to the other one, still signed
in, its Reflex state and the database rows intact; requests survive a replica's crash
and restart; an admin edit on either replica shows in a browser (live updates)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from e2e_support import Load, Nginx, Stack, binary, free_port, signed_in_as, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python" / "tests"))
from throwaway_servers import Postgres, Redis


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[Postgres, Redis]]:
    postgres, redis = Postgres(), Redis()
    postgres.start()
    redis.start()
    try:
        yield postgres, redis
    finally:
        redis.remove()
        postgres.remove()


@pytest.fixture(scope="module")
def cluster(prod_root: Path, run_env: dict[str, str], services, admin_password: str, tmp_path_factory):
    postgres, redis = services
    nginx_port = free_port()
    env = {
        **run_env,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{postgres.port}/postgres",
        "REFLEX_REDIS_URL": redis.url,
        # Sessions in Django's cache on the same Redis (another database), in front of
        # PostgreSQL.
        "CACHE_REDIS_URL": redis.url.rsplit("/", 1)[0] + "/1",
        "GRANIAN_WORKERS": "2",  # Reflex's choice would be 5 a replica on 2 CPUs
        "REFLEX_DJANGO_DJANGO_WORKERS": "1",
        "REFLEX_DJANGO_PROXY_TRUSTED_PROXIES": "127.0.0.1/32",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": f"http://localhost:{nginx_port}",
        "DJANGO_SUPERUSER_PASSWORD": admin_password,
    }
    for command in (
        ["migrate", "--noinput"],
        ["createsuperuser", "--noinput", "--username", "admin", "--email", "admin@example.com"],
    ):
        done = subprocess.run([binary(), *command], cwd=prod_root, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    replicas = [Stack(prod_root, env, prod=True), Stack(prod_root, env, prod=True)]
    nginx_dir = tmp_path_factory.mktemp("nginx")
    nginx = None
    try:
        for replica in replicas:
            replica.start(timeout=240)
        args = ["deploy", "nginx", "--listen", str(nginx_port)]
        for replica in replicas:
            args += ["--upstream", f"127.0.0.1:{replica.port}"]
        made = subprocess.run([binary(), *args], cwd=prod_root, env=env, capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        nginx = Nginx(nginx_dir, made.stdout)
        nginx.start()
        wait_for(
            lambda: httpx.get(f"http://localhost:{nginx_port}/_reflex_django/health").status_code == 200, 30, "nginx"
        )
        yield f"http://localhost:{nginx_port}", replicas, env
    finally:
        if nginx is not None:
            nginx.stop()
        for replica in replicas:
            if replica.proc and replica.proc.poll() is None:
                replica.stop()


def signed_in_with_a_note(page, url: str, admin_password: str, title: str) -> None:
    """Signs in through the admin (nginx in front) and adds a note on the notes page."""
    page.goto(f"{url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", admin_password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"{url}/notes")
    page.fill("#note-title", title)
    page.click("#note-add")
    page.wait_for_selector(f"text={title}")


def crash(replica: Stack) -> None:
    """SIGKILL the replica's `run` (its children follow it, as after a crash)."""
    assert replica.proc is not None
    os.kill(replica.proc.pid, signal.SIGKILL)
    replica.proc.wait(timeout=10)
    wait_for(lambda: not replica.leftovers(), 30, "the replica's children to stop")


def restart(replica: Stack) -> None:
    replica.lines.clear()
    replica.start(timeout=240)


def test_a_killed_replica_costs_the_page_nothing(cluster, page, admin_password) -> None:
    url, replicas, cluster_env = cluster
    signed_in_with_a_note(page, url, admin_password, "kept in PostgreSQL")
    page.goto(f"{url}/counter")
    for _ in range(3):
        page.click("#bump")
    wait_for(lambda: page.inner_text("#count") == "3", 20, "the counter to reach 3")

    # Each replica in turn dies; whichever served the page's WebSocket, the page goes on.
    for expected in ("4", "5"):
        victim = replicas[int(expected) - 4]
        crash(victim)
        started = time.monotonic()
        page.click("#bump")
        wait_for(
            lambda expected=expected: page.inner_text("#count") == expected,
            30,
            f"the counter to reach {expected} after a crash",
        )
        print(f"after killing a replica: the next click was served in {time.monotonic() - started:.2f}s")
        restart(victim)
    page.goto(f"{url}/")
    assert signed_in_as(page) == "admin"
    wait_for(lambda: page.inner_text("#note-count").startswith("1"), 20, "the note, still in the database")
    # The session lives in the shared cache (cached_db), in front of PostgreSQL.
    import redis as redis_client

    cache = redis_client.Redis.from_url(cluster_env["CACHE_REDIS_URL"])
    assert any(b"django.contrib.sessions.cached_db" in key for key in cache.keys("*")), cache.keys("*")


def test_requests_through_nginx_survive_a_replica_crash_and_restart(cluster) -> None:
    url, replicas, _ = cluster
    paths = ["/api/notes/", "/", "/_reflex_django/health", "/static/admin/css/base.css"]
    total = 2000
    load = Load(url, paths, total, threads=4)
    load.wait_for_share(0.25, "a quarter of the requests")
    crash(replicas[0])
    load.wait_for_share(0.5, "half of the requests")
    restart(replicas[0])
    load.join()
    failures = load.failures
    print(f"{total} requests through nginx, a replica killed and restarted meanwhile: {len(failures)} failed")
    # nginx retries what a dead replica could not answer on the other one.
    assert len(failures) <= total // 100, failures[:20]


def test_an_admin_edit_on_one_replica_shows_in_a_browser_on_any(cluster, browser, page, admin_password) -> None:
    url, replicas, _ = cluster
    signed_in_with_a_note(page, url, admin_password, "watched live")
    current = "watched live"
    # The edit goes straight to each replica in turn (not through nginx): whichever
    # holds the page's WebSocket, the other one made the change at least once.
    for n, replica in enumerate(replicas):
        # Another browser, signed in to the admin of this replica only.
        admin = browser.new_context().new_page()
        try:
            admin.goto(f"{replica.front_door_url}/admin/login/?next=/admin/notes/note/")
            admin.fill("#id_username", "admin")
            admin.fill("#id_password", admin_password)
            admin.click("input[type=submit]")
            admin.click(f"#result_list tbody a:text-is('{current}')")
            title = f"edited on replica {n + 1}"
            admin.fill("#id_title", title)
            started = time.monotonic()
            admin.click("input[name=_save]")
            admin.wait_for_selector(".messagelist .success")
        finally:
            admin.context.close()
        page.wait_for_selector(f"text={title}", timeout=30_000)
        current = title
        print(f"an admin edit on replica {n + 1} showed in the browser after {time.monotonic() - started:.3f}s")
