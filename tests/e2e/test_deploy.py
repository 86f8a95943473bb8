"""`reflex-django deploy`: what it writes passes the engines' own checks (`nginx -t`,
the Kubernetes schemas, the Compose Specification's schema, hadolint), and nginx running the generated config really
routes plain requests and the event WebSocket to the replicas, skipping one that is
down or draining."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from e2e_support import Nginx, binary, free_port, wait_for

TOOLS = Path(os.environ.get("REFLEX_DJANGO_TEST_PYTHON", "python")).parent


def deploy(root: Path, env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([binary(), "deploy", *args], cwd=root, env=env, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


class Upstream:
    """A replica's front door, as nginx sees it: answers its name (or `status`), and
    switches protocols for a WebSocket handshake, then echoes."""

    def __init__(self, name: str, status: int = 200) -> None:
        self.name, self.status = name, status
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests: list[tuple[str, dict[str, str]]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:  # nginx keeps connections to upstreams alive: many requests each
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
                self.requests.append((path, headers))
                if headers.get("upgrade", "").lower() == "websocket":
                    conn.sendall(
                        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                    )
                    while data := conn.recv(65536):  # echo what the client sends
                        conn.sendall(data)
                    return
                body = self.name.encode()
                conn.sendall(f"HTTP/1.1 {self.status} X\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def nginx_running(tmp_path: Path, demo_root: Path, run_env: dict[str, str]) -> Iterator[tuple[int, list[Upstream]]]:
    replicas = [Upstream("replica-a"), Upstream("replica-b"), Upstream("draining", status=503)]
    listen = free_port()
    args = ["nginx", "--listen", str(listen)]
    for replica in replicas:
        args += ["--upstream", f"127.0.0.1:{replica.port}"]
    nginx = Nginx(tmp_path / "nginx", deploy(demo_root, run_env, *args).stdout)
    nginx.start()
    try:
        wait_for(lambda: _answers(listen), 10, "nginx to listen")
        yield listen, replicas
    finally:
        nginx.stop()
        for replica in replicas:
            replica.close()


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_nginx_spreads_requests_and_skips_a_draining_replica(nginx_running) -> None:
    port, (a, _b, draining) = nginx_running
    answers = [httpx.get(f"http://127.0.0.1:{port}/notes/", headers={"Host": "app.example.com"}) for _ in range(12)]
    assert {r.status_code for r in answers} == {200}  # the 503 of the draining one is retried elsewhere
    assert {r.text for r in answers} == {"replica-a", "replica-b"}
    path, headers = a.requests[0]
    assert path == "/notes/"
    assert headers["host"] == "app.example.com"  # Host preserved
    assert headers["x-forwarded-proto"] == "http" and headers["x-forwarded-for"] == "127.0.0.1"
    assert "upgrade" not in headers.get("connection", "").lower()  # kept alive, not upgraded
    assert draining.requests, "nginx never tried the draining replica"


def test_nginx_passes_the_event_websocket_upgrade(nginx_running) -> None:
    port, replicas = nginx_running
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: app.example.com\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101"), head
        sock.sendall(b"frames both ways")
        assert sock.recv(4096) == b"frames both ways"
    upgrades = [h for r in replicas for p, h in r.requests if p.startswith("/_event")]
    assert upgrades and upgrades[0]["upgrade"] == "websocket" and upgrades[0]["connection"].lower() == "upgrade"


def test_nginx_serves_the_built_files_itself(demo_root: Path, run_env: dict[str, str], tmp_path: Path):
    # A copy of the demo with a (minimal) build, so the shared demo is left as it was.
    root = tmp_path / "demo"
    shutil.copytree(demo_root, root, ignore=shutil.ignore_patterns(".web", "node_modules", "*.sqlite3*"))
    client = root / ".web/build/client"
    (client / "assets").mkdir(parents=True)
    (client / "index.html").write_text("home")
    (client / "assets/app-0123abcd.js").write_text("js")
    result = deploy(root, run_env, "nginx", "--serve-files", "--listen", str(free_port()))
    conf = result.stdout
    assert f"root {client};" in conf
    assert "location ^~ /admin/" in conf and "location ^~ /_upload/" in conf
    Nginx(tmp_path / "nginx", conf).test()


def test_serve_files_without_a_build_says_what_to_do(demo_root: Path, run_env: dict[str, str], tmp_path: Path) -> None:
    root = tmp_path / "demo"
    shutil.copytree(demo_root, root, ignore=shutil.ignore_patterns(".web", "node_modules", "*.sqlite3*"))
    result = deploy(root, run_env, "nginx", "--serve-files", check=False)
    assert result.returncode == 2
    assert "--serve-files needs the built frontend" in result.stderr and "reflex-django build" in result.stderr


def test_compose_and_k8s_files_pass_their_checks(demo_root: Path, run_env: dict[str, str], tmp_path: Path) -> None:
    root = tmp_path / "demo"
    shutil.copytree(demo_root, root, ignore=shutil.ignore_patterns(".web", "node_modules", "*.sqlite3*"))
    deploy(root, run_env, "compose", "--replicas", "3")
    deploy(root, run_env, "k8s", "--host", "notes.example.com")
    lint = subprocess.run([TOOLS / "hadolint", root / "deploy/Dockerfile"], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    manifests = sorted((root / "deploy/k8s").glob("*.yaml"))
    assert [m.name for m in manifests] == [
        "configmap.yaml",
        "deployment.yaml",
        "ingress.yaml",
        "migrate-job.yaml",
        "secret.example.yaml",
        "service.yaml",
    ]
    check = subprocess.run([TOOLS / "kubernetes-validate", "--strict", *manifests], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("passed") == len(manifests), check.stdout
    # The Compose Specification's own JSON schema (no Docker needed).
    spec = subprocess.run(
        [TOOLS / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", root / "deploy/compose.yaml"],
        capture_output=True,
        text=True,
    )
    assert spec.returncode == 0, spec.stdout + spec.stderr
    compose = (root / "deploy/compose.yaml").read_text()
    assert all(f"app-{i}: *app" in compose for i in (1, 2, 3))
    nginx_conf = root / "deploy/nginx.conf"
    assert "server app-3:8000" in nginx_conf.read_text()


def test_edited_files_are_kept_unless_forced(demo_root: Path, run_env: dict[str, str], tmp_path: Path) -> None:
    root = tmp_path / "demo"
    shutil.copytree(demo_root, root, ignore=shutil.ignore_patterns(".web", "node_modules", "*.sqlite3*"))
    deploy(root, run_env, "compose")
    again = deploy(root, run_env, "compose", "--replicas", "4")
    assert "replaced" in again.stderr  # nobody edited them: regenerated
    compose = root / "deploy/compose.yaml"
    edited = compose.read_text() + "# my own service\n"
    compose.write_text(edited)
    refused = deploy(root, run_env, "compose", check=False)
    assert refused.returncode == 2
    assert "was edited since reflex-django made it" in refused.stderr and "--force" in refused.stderr
    assert compose.read_text() == edited
    deploy(root, run_env, "compose", "--force")
    assert "# my own service" not in compose.read_text()
