"""Chaos under `reflex-django run --env prod` with real Django and Reflex: a view that
hangs, a frozen (SIGSTOPped) Django, a Django killed under load, spoofed forwarded
headers. The behaviour is asserted; times are printed, never asserted."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from e2e_support import Load, Stack, serving, title, wait_for


@pytest.fixture(scope="module")
def chaos(prod_root, run_env):
    env = {
        **run_env,
        "REFLEX_DJANGO_PROXY_UPSTREAM_TIMEOUT": "2s",
        "REFLEX_DJANGO_LIVENESS_EVERY": "1s",
        "REFLEX_DJANGO_LIVENESS_TIMEOUT": "1s",
        "REFLEX_DJANGO_LIVENESS_FAILURES": "2",
        "REFLEX_DJANGO_DJANGO_WORKERS": "1",
    }
    yield from serving(Stack(prod_root, env, prod=True))


def django_pid(stack: Stack) -> int:
    return stack.child_pid("uvicorn")


def test_a_view_that_hangs_gets_a_504_and_the_rest_goes_on(chaos):
    started = time.monotonic()
    answer = httpx.get(f"{chaos.app_url}/api/slow/?s=30", timeout=60, headers={"accept": "text/html"})
    print(f"a hanging view was answered for after {time.monotonic() - started:.2f}s (limit 2s)")
    assert answer.status_code == 504
    assert "django did not answer within 2s" in answer.text
    assert "proxy.upstream_timeout" in answer.text
    # Reflex's side never waited on it.
    assert httpx.get(f"{chaos.app_url}/ping").json() == "pong"


def test_a_frozen_django_is_restarted_by_the_liveness_checks(chaos):
    frozen = django_pid(chaos)
    os.kill(frozen, signal.SIGSTOP)
    try:
        started = time.monotonic()
        answer = httpx.get(f"{chaos.app_url}/admin/login/", timeout=60)
        print(
            f"a request to a frozen Django was answered after {time.monotonic() - started:.2f}s: {answer.status_code}"
        )
        # Either the deadline (504) or, if the restart came first, the page itself.
        assert answer.status_code in (504, 200), answer.text
        wait_for(lambda: "django stopped answering" in chaos.log(), 30, "the liveness checks to find it out")
        print(f"a frozen Django was found out and stopped after {time.monotonic() - started:.2f}s")
        wait_for(
            lambda: title(httpx.get(f"{chaos.app_url}/admin/login/", timeout=30)) == "Log in | Django site admin",
            60,
            "Django to serve again",
        )
        print(f"... and served again after {time.monotonic() - started:.2f}s")
        assert django_pid(chaos) != frozen
    finally:
        try:
            os.kill(frozen, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_no_get_fails_when_django_is_killed_under_load(chaos):
    total, threads = 600, 8
    load = Load(chaos.app_url, ["/admin/login/"], total, threads, ok=lambda status: status == 200)
    load.wait_for_share(0.25, "the load to get going")
    os.kill(django_pid(chaos), signal.SIGKILL)
    load.join()
    done, failures = load.done, load.failures
    # An answer Django had begun when it died cannot be sent again: the client gets a
    # cut body. Only those, and at most one per request in flight, may fail; a request
    # that Django had not answered is sent again and must succeed.
    cut = [f for f in failures if "without sending complete message body" in f]
    print(
        f"{total} GETs with {threads} at a time, Django killed (SIGKILL) meanwhile: "
        f"{len(failures)} failed, {len(cut)} of them answers cut mid-body"
    )
    assert done == total
    assert failures == cut, failures[:10]
    assert len(cut) <= threads, cut
    assert "django was killed by SIGKILL" in chaos.log()


def internal_port(stack: Stack) -> int:
    """The port Django's server listens on, behind the front door."""
    for command in stack.commands():
        if "uvicorn" in command and "--port" in command:
            return int(command.split("--port", 1)[1].split()[0])
    raise AssertionError(stack.commands())


def test_forwarded_headers_from_a_client_are_not_believed(chaos):
    lie = {"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https", "x-forwarded-host": "evil.test"}
    seen = httpx.get(f"{chaos.app_url}/api/who/", headers=lie).json()
    assert seen["remote_addr"] == "127.0.0.1", seen
    assert seen["url"].startswith(f"http://localhost:{chaos.port}/"), seen
    # Not even by Django's own server, for a local program that goes round the front door.
    direct = httpx.get(f"http://127.0.0.1:{internal_port(chaos)}/api/who/", headers={**lie, "host": "localhost"})
    assert direct.json()["remote_addr"] == "127.0.0.1", direct.text
    assert direct.json()["url"].startswith("http://localhost/"), direct.text


def test_a_request_without_host_gets_the_public_host(chaos):
    import socket

    with socket.create_connection(("127.0.0.1", chaos.port)) as conn:
        conn.sendall(b"GET /api/who/ HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")), answer
    seen = __import__("json").loads(body)
    assert seen["host"] == f"localhost:{chaos.port}", seen
