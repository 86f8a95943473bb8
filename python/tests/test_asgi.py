"""`reflex_django.asgi`: Django composed into a Starlette (Reflex-like) app by prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from reflex_django.asgi import RESERVED_REFLEX_PREFIXES, build_django_asgi, make_dispatcher, request_path


async def _reflex_page(request):
    return PlainTextResponse(f"reflex {request.url.path}")


async def _event(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("reflex event channel")
    await websocket.close()


def reflex_like(frontend: Path | None = None) -> Starlette:
    """Routes like Reflex's backend: `/_event` WebSocket, `/ping`, and in production a
    catch-all `StaticFiles` mount for the built frontend."""
    routes = [WebSocketRoute("/_event", _event), Route("/ping", _reflex_page), Route("/{path:path}", _reflex_page)]
    if frontend is not None:
        routes = [routes[0], routes[1], Mount("/", app=StaticFiles(directory=frontend, html=True), name="frontend")]
    return Starlette(routes=routes)


@pytest.fixture(scope="module")
def client() -> TestClient:
    transformer = make_dispatcher(build_django_asgi(), backend_prefixes=("/admin", "static/", "/_reflex_django"))
    return TestClient(transformer(reflex_like()))


def test_django_prefixes_reach_django(client: TestClient) -> None:
    page = client.get("/admin/login/")
    assert page.status_code == 200
    assert "<title>Log in | Django site admin</title>" in page.text
    assert client.get("/admin", follow_redirects=False).status_code == 301  # Django's APPEND_SLASH


def test_static_files_are_served_by_django(client: TestClient) -> None:
    css = client.get("/static/admin/css/base.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]


@pytest.mark.parametrize("path", ["/", "/notes", "/administrator", "/ping", "/adminx/", "/%61dmin/"])
def test_everything_else_reaches_reflex(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.text.startswith("reflex ")


def test_reflex_websocket_is_untouched(client: TestClient) -> None:
    with client.websocket_connect("/_event") as ws:
        assert ws.receive_text() == "reflex event channel"


def test_websocket_under_a_django_prefix_goes_to_django(client: TestClient) -> None:
    # Stock Django speaks only HTTP: the upgrade is refused, nothing is raised.
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/admin/live"):
        pass


def test_a_django_websocket_app_gets_the_upgrade() -> None:
    async def channels_like(scope, receive, send):
        assert scope["type"] == "websocket" and scope["path"] == "/api/live"
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "from django"})
        await send({"type": "websocket.close", "code": 1000})

    app = make_dispatcher(channels_like, backend_prefixes=("/api",))(reflex_like())
    with TestClient(app).websocket_connect("/api/live") as ws:
        assert ws.receive_text() == "from django"


def test_lifespan_stays_with_reflex() -> None:
    seen: list[str] = []

    async def django(scope, receive, send):
        seen.append(scope["type"])

    async def reflex(scope, receive, send):
        seen.append(f"reflex {scope['type']}")
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    with TestClient(make_dispatcher(django, backend_prefixes=("/admin",))(reflex)):
        pass
    assert seen == ["reflex lifespan"]


def test_production_frontend_mount_takes_http_only(tmp_path: Path) -> None:
    """Reflex's single-port production app ends with a catch-all `StaticFiles` mount,
    which cannot take a WebSocket: after the transformer it no longer matches one."""
    (tmp_path / "index.html").write_text("<title>built app</title>")
    reflex = reflex_like(frontend=tmp_path)
    app = make_dispatcher(build_django_asgi(), backend_prefixes=("/admin",))(reflex)
    client = TestClient(app)
    assert "built app" in client.get("/").text
    with client.websocket_connect("/_event") as ws:
        assert ws.receive_text() == "reflex event channel"
    # A WebSocket no route takes is refused by the router, not failed inside StaticFiles.
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/somewhere"):
        pass
    assert [type(r).__name__ for r in reflex.routes][-1] == "HttpOnlyMount"


@pytest.mark.parametrize(
    ("prefixes", "problem"),
    [((), "at least one prefix"), (("/",), "cannot be empty"), (("/_event/x",), "reserved path '/_event'")],
)
def test_bad_prefixes_are_refused(prefixes: tuple[str, ...], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        make_dispatcher(build_django_asgi(), backend_prefixes=prefixes)


def test_prefixes_are_normalised_and_reserved_paths_listed() -> None:
    transformer = make_dispatcher(build_django_asgi(), backend_prefixes=("admin/", "/api//v1/", "/admin"))
    assert transformer.backend_prefixes == ("/admin", "/api/v1")
    assert "/_event" in RESERVED_REFLEX_PREFIXES and "/ping" in RESERVED_REFLEX_PREFIXES


def test_request_path_is_the_raw_path() -> None:
    assert request_path({"raw_path": b"/%61dmin/", "path": "/admin/"}) == "/%61dmin/"
    assert request_path({"path": "/admin/"}) == "/admin/"


def test_package_views_need_no_line_in_the_projects_urlconf(client: TestClient) -> None:
    """A project written for 0.2.3 does not include `reflex_django.urls`: the session
    hand-off view answers anyway (a bad ticket gets its refusal page, not a 404), and
    `handoff_url()` names it."""
    from django.test import override_settings

    from reflex_django.handoff import handoff_url

    with override_settings(ROOT_URLCONF="rdj_testproject.urls_without_reflex_django"):
        refused = client.get("/_reflex_django/session/?ticket=forged")
        assert refused.status_code == 400 and 'id="ticket-invalid"' in refused.text
        assert client.get("/_reflex_django/nope/").status_code == 404
        assert handoff_url() == "/_reflex_django/session/"
        assert "Log in | Django site admin" in client.get("/admin/login/").text  # the project's own


def test_reflex_django_urls_as_the_whole_urlconf(client: TestClient) -> None:
    """0.2.3 projects set `ROOT_URLCONF = "reflex_django.urls"`: the admin at the admin
    prefix, and the package's views."""
    import importlib

    from django.test import override_settings
    from django.urls import clear_url_caches, reverse

    import reflex_django.urls

    try:
        with override_settings(ROOT_URLCONF="reflex_django.urls"):
            importlib.reload(reflex_django.urls)
            clear_url_caches()
            assert "Log in | Django site admin" in client.get("/admin/login/").text
            assert reverse("reflex_django:session") == "/_reflex_django/session/"
            assert client.get("/_reflex_django/session/?ticket=x").status_code == 400
    finally:
        importlib.reload(reflex_django.urls)
        clear_url_caches()
    assert reflex_django.urls.urlpatterns == reflex_django.urls.package_patterns  # includable again


def test_reflex_cors_leaves_django_paths_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reflex's CORS middleware echoes any origin with credentials allowed; after the
    plugin's wrap it no longer does so for Django's prefixes (as under the front door),
    and Reflex's own paths keep Reflex's behaviour."""
    from reflex.app import App

    from reflex_django.asgi import keep_reflex_cors_off_django

    monkeypatch.setattr(App, "_add_cors", App.__dict__["_add_cors"])  # restored afterwards
    assert keep_reflex_cors_off_django(("/admin",))
    assert keep_reflex_cors_off_django(("/admin", "/api"))  # again: wraps Reflex's, not ours
    api = reflex_like()
    App._add_cors(api)
    client = TestClient(api)
    cross_site = {"Origin": "http://evil.example", "Cookie": "sessionid=x"}
    assert "access-control-allow-origin" not in client.get("/api/me", headers=cross_site).headers
    preflight = client.options(
        "/admin/x", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert client.get("/ping", headers=cross_site).headers["access-control-allow-origin"] == "http://evil.example"
