"""Code written for reflex-django 0.2.3 (the Python-only plugin) keeps working.

Each test states what 0.2.3 documented or shipped for a public name (the expected
values are written out here, not read from the old package) and checks it against
this package, with the test project's real Django database and Reflex's real event
path (see reflex_harness).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import reflex as rx
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.test import override_settings
from django.utils import translation

from auth_helpers import browser_get, last_load, navigations, session_cookie_of
from dbthread import in_db_thread
from rdj_testproject.notes.models import Bookmark, Note
from reflex_django.auth.conf import DEFAULT_MESSAGES as M
from reflex_django.auth_state import DjangoUserState, auser_snapshot, user_snapshot
from reflex_django.context import (
    begin_event_request,
    current_request,
    current_user,
    end_event_request,
    reset_current_request,
    set_current_request,
)
from reflex_django.mixins import (
    ModelCRUDConfig,
    SessionAuthConfig,
    _default_row_serializer,
    crud_mixin,
    populate_session_auth_state,
    session_auth_mixin,
)
from reflex_harness import Reflex, Tab, bridged_app, running

HERE = Path(__file__).resolve().parent
SESSION = settings.SESSION_COOKIE_NAME

# The names reflex-django 0.2.3 exported from `reflex_django`, and their modules.
ORIGINAL_EXPORTS = {
    "AuthSettings": "reflex_django.auth.settings",
    "DjangoAuthState": "reflex_django.auth.state",
    "DjangoContextState": "reflex_django.reflex_context",
    "DjangoEventBridge": "reflex_django.middleware",
    "DjangoI18nState": "reflex_django.i18n_state",
    "DjangoUserState": "reflex_django.auth_state",
    "Model": "reflex_django.model",
    "ReflexDjangoAuthError": "reflex_django.authz",
    "ReflexDjangoPlugin": "reflex_django.plugin",
    "add_auth_pages": "reflex_django.auth.registry",
    "auth_pages": "reflex_django.auth.pages",
    "auth_routes": "reflex_django.auth.routes",
    "auser_has_perm": "reflex_django.authz",
    "autoload": "reflex_django.auth.registry",
    "begin_event_request": "reflex_django.context",
    "build_django_asgi": "reflex_django.asgi",
    "builtin_i18n_context": "reflex_django.reflex_context",
    "builtin_user_context": "reflex_django.reflex_context",
    "collect_reflex_context": "reflex_django.reflex_context",
    "configure_django": "reflex_django.conf",
    "current_language": "reflex_django.context",
    "current_request": "reflex_django.context",
    "current_session": "reflex_django.context",
    "current_user": "reflex_django.context",
    "django_cli": "reflex_django.cli",
    "django_login_required": "reflex_django.authz",
    "get_auth_settings": "reflex_django.auth.settings",
    "end_event_request": "reflex_django.context",
    "make_dispatcher": "reflex_django.asgi",
    "register_admin": "reflex_django.admin",
    "login_required": "reflex_django.auth.decorators",
    "require_login_user": "reflex_django.authz",
    "session_cookie_clear_js": "reflex_django.session_js",
    "session_cookie_name_and_suffix": "reflex_django.session_js",
    "session_cookie_set_js": "reflex_django.session_js",
    "user_snapshot": "reflex_django.auth_state",
}
# Attribute names that differ from the exported name (None: the module itself).
RENAMED = {"register_admin": "register", "auth_pages": None, "auth_routes": None}
# Modules other people are building at the same time as this compatibility layer.
BUILT_ELSEWHERE = {
    "reflex_django.asgi",
    "reflex_django.cli",
    "reflex_django.auth.settings",
    "reflex_django.auth.registry",
    "reflex_django.auth.decorators",
    "reflex_django.auth.pages",
    "reflex_django.auth.routes",
    "reflex_django.auth.state",
}


# --- states generated the 0.2.3 way --------------------------------------------------


class PlainBase(rx.State):
    """An app's own base state: not a DjangoUserState."""


PlainLogin = session_auth_mixin(
    SessionAuthConfig(
        state_class_name="PlainLogin",
        post_login_redirect="/home",
        redirect_when_authenticated="/home",
    ),
    base=PlainBase,
)

# base and state_module passed by position, as this package always allowed.
Positional = session_auth_mixin(
    SessionAuthConfig(state_class_name="Positional"), PlainBase, "rdj_testproject.generated"
)

_FLAT_CFG = SessionAuthConfig(
    username_var="flat_user",
    password_var="flat_pw",
    error_var="flat_error",
    on_load_event="flat_load",
    submit_event="flat_submit",
    submit_form_event="flat_submit_form",
    logout_event="flat_logout",
    # Set explicitly to 0.2.3's default text: shown as given.
    invalid_credentials_message="Invalid username or password.",
)


def _flat_body(ns: dict[str, Any]) -> None:
    ns["__module__"] = __name__
    annotations: dict[str, Any] = {}
    populate_session_auth_state(ns, _FLAT_CFG, cls_name="FlatLogin", annotations=annotations)
    ns["__annotations__"] = annotations


FlatLogin = types.new_class("FlatLogin", (DjangoUserState,), {}, _flat_body)

# Positional, as 0.2.3's dataclass allowed; everything else at its default.
OLD_NOTES = ModelCRUDConfig(Note, "old_notes", ("title", "content"), "old_error")
OldNotes = crud_mixin(OLD_NOTES, base=PlainBase, state_module=__name__)


@pytest.fixture
async def reflex() -> AsyncIterator[Reflex]:
    async with running(bridged_app()) as r:
        yield r


async def user_tab(reflex: Reflex, login: Any, user: Any) -> Tab:
    return await reflex.tab(cookies={SESSION: login(user)})


def _request(user: Any = None, language: str | None = None) -> HttpRequest:
    request = HttpRequest()
    if user is not None:
        request.user = user
    if language:
        request.LANGUAGE_CODE = language
    return request


# --- reflex_django (the package) ---------------------------------------------------------


def test_every_original_export_is_listed_with_its_module() -> None:
    import reflex_django

    assert set(ORIGINAL_EXPORTS) <= set(reflex_django.__all__)
    assert {n: reflex_django._EXPORTS[n] for n in ORIGINAL_EXPORTS} == ORIGINAL_EXPORTS


@pytest.mark.parametrize("name", sorted(ORIGINAL_EXPORTS))
def test_every_original_export_resolves(name: str) -> None:
    import reflex_django

    module_name = ORIGINAL_EXPORTS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if module_name in BUILT_ELSEWHERE and exc.name == module_name:
            pytest.skip(f"{module_name} is not written yet")
        raise
    attribute = RENAMED.get(name, name)
    expected = module if attribute is None else getattr(module, attribute)
    assert getattr(reflex_django, name) is expected


def test_import_loads_neither_reflex_nor_django() -> None:
    done = _python("""
        import sys, reflex_django
        assert not [m for m in sys.modules if m.split(".")[0] in ("reflex", "django")]
        assert "begin_event_request" in dir(reflex_django)
    """)
    assert done.returncode == 0, done.stderr


# --- reflex_django.context ----------------------------------------------------------------


def test_begin_ends_the_binding_an_earlier_begin_left() -> None:
    """0.2.3's pairing: a second `begin` first ends the first one's binding, so one
    `end` leaves nothing bound (a leaked binding never outlives the next event)."""
    outer, inner = _request(), _request()
    assert begin_event_request(outer) is not None  # a token, for end_event_request(token)
    begin_event_request(inner)
    assert current_request() is inner
    end_event_request()
    assert current_request() is None
    end_event_request()  # nothing left: harmless
    assert current_request() is None
    # A plain set_current_request binding is kept by begin/end and comes back.
    token = set_current_request(outer)
    begin_event_request(inner)
    end_event_request()
    assert current_request() is outer
    reset_current_request(token)


def test_end_with_a_token_and_the_bare_setters() -> None:
    first, second = _request(), _request()
    token = begin_event_request(first)
    begin_event_request(second)
    end_event_request(token)  # undoes both: back to before `first`
    assert current_request() is None
    end_event_request()  # the stack went with it
    assert current_request() is None

    token = set_current_request(first)
    end_event_request()  # set_current_request is not a begin: left alone
    assert current_request() is first
    reset_current_request(token)
    assert current_request() is None


def test_end_restores_the_language_of_what_was_bound_before() -> None:
    token = set_current_request(_request(language="fr"))
    begin_event_request(_request(language="ar"))
    assert translation.get_language() == "ar"
    end_event_request()
    assert translation.get_language() == "fr"
    reset_current_request(token)
    translation.deactivate()
    begin_event_request(_request(language="ar"))
    end_event_request()
    assert translation.get_language() == settings.LANGUAGE_CODE


async def test_bindings_belong_to_their_task() -> None:
    outer = _request()

    async def event(label: str) -> list[Any]:
        request = _request()
        begin_event_request(request)
        await asyncio.sleep(0.01)  # the other task runs meanwhile
        seen = [current_request() is request]
        end_event_request()
        seen.append(current_request() is outer)
        return seen

    async def main() -> list[Any]:
        begin_event_request(outer)
        results = await asyncio.gather(event("a"), event("b"))
        results.append([current_request() is outer])
        end_event_request()
        results.append([current_request() is None])
        return results

    assert await asyncio.create_task(main()) == [[True, True], [True, True], [True], [True]]


# --- reflex_django.middleware -------------------------------------------------------------


class _NoRouterData:
    pass


class _BadRouterData:
    router_data = ["not", "a", "mapping"]


class _RaisingRouterData:
    @property
    def router_data(self) -> Any:
        raise RuntimeError("no router data here")


class _MappingRouterData:
    def __init__(self, **data: Any) -> None:
        self.router_data = types.MappingProxyType(data)  # a Mapping, not a dict


async def _bridge(state: Any, event: Any) -> HttpRequest:
    """Run the bridge in a task of its own, as Reflex does, and return the request
    the handler would see."""
    from reflex_django.middleware import DjangoEventBridge

    async def handle() -> Any:
        assert await DjangoEventBridge().preprocess(None, state, event) is None  # type: ignore[arg-type]
        request = current_request()
        assert request is not None and current_user() is request.user
        return request

    return await asyncio.create_task(handle())


@pytest.mark.parametrize("state", [_NoRouterData(), _BadRouterData(), _RaisingRouterData(), object()])
@pytest.mark.parametrize("event", [_NoRouterData(), _BadRouterData(), types.SimpleNamespace(router_data=None)])
async def test_bridge_degrades_to_an_anonymous_request(state: Any, event: Any, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="reflex_django"):
        request = await _bridge(state, event)
    assert isinstance(request.user, AnonymousUser)
    assert request.session is not None and request.path == "/"
    assert not caplog.records


async def test_bridge_reads_any_mapping_as_router_data(make_user, login) -> None:
    user = make_user()
    state = _MappingRouterData(headers={"cookie": f"{SESSION}={login(user)}"}, pathname="/notes")
    request = await _bridge(state, _NoRouterData())
    assert request.user.pk == user.pk and request.path == "/notes"


# --- reflex_django.auth_state -------------------------------------------------------------

SNAPSHOT_KEYS = {
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "is_authenticated",
    "is_staff",
    "is_superuser",
    "group_names",
}


async def test_user_snapshot_shape_without_touching_the_database(make_user) -> None:
    user = make_user(groups=("editors",), email="a@example.com", first_name="Ada", is_staff=True)
    # Called on the event loop, like 0.2.3's README example: a query would raise
    # SynchronousOnlyOperation.
    snapshot = user_snapshot(user)
    assert set(snapshot) == SNAPSHOT_KEYS | {"user_id"}  # `user_id`, DjangoUserState's name, too
    assert snapshot["id"] == snapshot["user_id"] == user.pk
    assert snapshot["username"] == user.username and snapshot["email"] == "a@example.com"
    assert (snapshot["is_authenticated"], snapshot["is_staff"], snapshot["is_superuser"]) == (
        True,
        True,
        False,
    )
    assert snapshot["group_names"] == []  # not asked for
    assert user_snapshot(user, group_names=["b", "a"])["group_names"] == ["b", "a"]
    json.dumps(snapshot)

    anonymous = user_snapshot(AnonymousUser(), group_names=["ignored"])
    assert anonymous == {
        "id": None,
        "user_id": None,
        "username": "",
        "email": "",
        "first_name": "",
        "last_name": "",
        "is_authenticated": False,
        "is_staff": False,
        "is_superuser": False,
        "group_names": [],
    }


async def test_auser_snapshot_groups_follow_the_setting(make_user) -> None:
    user = make_user(groups=("editors", "authors"))
    assert (await auser_snapshot(user))["group_names"] == []  # default: off
    assert (await auser_snapshot(user, include_groups=True))["group_names"] == [
        "authors",
        "editors",
    ]
    with override_settings(REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS=True):
        assert (await auser_snapshot(user))["group_names"] == ["authors", "editors"]
        assert (await auser_snapshot(user, include_groups=False))["group_names"] == []


def test_user_state_fields_and_handlers() -> None:
    assert set(DjangoUserState.base_vars) >= (SNAPSHOT_KEYS - {"id"}) | {"user_id"}
    assert "sync_from_django" in DjangoUserState.event_handlers
    # Both are event handlers (public methods of a state), as in 0.2.3.
    assert {"sync_from_django", "refresh_django_user_fields"} <= set(DjangoUserState.event_handlers)
    for handler in (DjangoUserState.refresh_django_user_fields, DjangoUserState.sync_from_django):
        fn = handler.fn
        assert inspect.iscoroutinefunction(fn)
        parameter = inspect.signature(fn).parameters["include_groups"]
        assert (parameter.kind, parameter.default) == (parameter.KEYWORD_ONLY, None)


def test_user_state_handlers_bind_to_any_trigger() -> None:
    for trigger in (
        DjangoUserState.sync_from_django,
        DjangoUserState.sync_from_django(),
        DjangoUserState.sync_from_django(include_groups=True),
        DjangoUserState.refresh_django_user_fields,
    ):
        rendered = str(rx.button("refresh", on_click=trigger).render())
        assert "sync_from_django" in rendered or "refresh_django_user_fields" in rendered
    rx.box(on_mount=DjangoUserState.sync_from_django).render()


async def test_user_state_groups_through_events(reflex: Reflex, make_user, login) -> None:
    user = make_user(groups=("editors",))
    tab = await user_tab(reflex, login, user)

    async def groups_after(**payload: Any) -> list[str]:
        await tab.send(DjangoUserState.sync_from_django, **payload)
        await reflex.settle()
        state = await reflex.state(tab, DjangoUserState)
        assert (state.user_id, state.username) == (user.pk, user.username)
        return state.group_names

    assert await groups_after() == []
    assert await groups_after(include_groups=True) == ["editors"]
    assert await groups_after(include_groups={"button": 0}) == []  # a click's data: None
    with override_settings(REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS=True):
        assert await groups_after() == ["editors"]
        assert await groups_after(include_groups=False) == []


# --- reflex_django.authz ------------------------------------------------------------------


def test_require_login_user_raises_reflex_django_auth_error(make_user) -> None:
    from django.core.exceptions import PermissionDenied

    from reflex_django.authz import ReflexDjangoAuthError, require_login_user

    assert issubclass(ReflexDjangoAuthError, PermissionError)
    with pytest.raises(ReflexDjangoAuthError):
        require_login_user()  # no request bound
    begin_event_request(_request(AnonymousUser()))
    try:
        with pytest.raises(PermissionError) as raised:
            require_login_user()
        assert isinstance(raised.value, (ReflexDjangoAuthError, PermissionDenied))
    finally:
        end_event_request()
    user = make_user()
    begin_event_request(_request(user))
    try:
        assert require_login_user() is user
    finally:
        end_event_request()


async def test_auser_has_perm(make_user) -> None:
    from django.contrib.auth.models import Permission

    from reflex_django.authz import auser_has_perm

    assert list(inspect.signature(auser_has_perm).parameters) == ["user", "perm"]
    boss, plain, editor = make_user(is_superuser=True), make_user(), make_user()
    change = Permission.objects.filter(codename="change_group")
    in_db_thread(lambda: editor.user_permissions.add(*change))
    assert await auser_has_perm(boss, "auth.change_group") is True
    assert await auser_has_perm(plain, "auth.change_group") is False
    assert await auser_has_perm(editor, "auth.change_group") is True
    assert await auser_has_perm(AnonymousUser(), "auth.change_group") is False


async def test_django_login_required(make_user) -> None:
    from reflex_django.authz import django_login_required

    assert inspect.signature(django_login_required).parameters["redirect_to"].default is None
    ran = []

    @django_login_required("/signin")
    async def handler(state: Any, x: int) -> str:
        ran.append(x)
        return "done"

    begin_event_request(_request(AnonymousUser()))
    try:
        spec = await handler(None, 1)
    finally:
        end_event_request()
    assert spec.handler.fn.__qualname__ == "_redirect"
    assert {str(k): v for k, v in spec.args}["path"]._var_value == "/signin"
    begin_event_request(_request(make_user()))
    try:
        assert await handler(None, 2) == "done"
    finally:
        end_event_request()
    assert ran == [2]


# --- reflex_django.conf and default_settings ------------------------------------------


def _python(code: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter with no Django settings in its environment."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k != "DJANGO_SETTINGS_MODULE" and not k.startswith("REFLEX_DJANGO_") and k != "REFLEX_DB_URL"
    }
    base["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), str(HERE)])
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_configure_django_returns_the_settings_module() -> None:
    from reflex_django.conf import configure_django, is_configured

    assert configure_django() == "rdj_testproject.settings"
    assert configure_django("some.other.settings") == "rdj_testproject.settings"  # env wins
    assert is_configured()


def test_plain_django_setup_autodiscovers_reflex_django_admin() -> None:
    """Django started without configure_django (manage.py, an ASGI server): the admin's
    autodiscovery imports reflex_django.admin, whose configure_django() must not set
    Django up a second time."""
    done = _python(
        """
        import sys, django
        django.setup()
        from reflex_django.conf import configure_django, is_configured
        assert "reflex_django.admin" in sys.modules and is_configured()
        assert configure_django() == "rdj_testproject.settings"
        assert not [m for m in sys.modules if m.split(".")[0] == "reflex"]
        """,
        DJANGO_SETTINGS_MODULE="rdj_testproject.settings",
    )
    assert done.returncode == 0, done.stderr


_DEFAULT_SETTINGS_PROBE = """
    import json, logging, os, stat, sys
    logging.basicConfig()
    from reflex_django.conf import configure_django, is_configured
    facts = {"configured_before": is_configured(), "django_loaded": "django" in sys.modules}
    facts["module"] = configure_django()
    facts["configured_after"] = is_configured()
    from django.conf import settings
    from django.core.management import call_command
    call_command("check")
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User
    User.objects.create_superuser("ada", "ada@example.com", "pw")
    from django.test import Client
    from django.urls import reverse
    client = Client()
    assert client.login(username="ada", password="pw")
    names = [
        "REFLEX_DJANGO_AUTO_SETTINGS", "REFLEX_DJANGO_ADMIN_PREFIX",
        "REFLEX_DJANGO_CONTEXT_PROCESSORS", "REFLEX_DJANGO_USE_TEMPLATE_CONTEXT_PROCESSORS",
        "REFLEX_DJANGO_LOGIN_URL", "REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS",
        "REFLEX_DJANGO_I18N_EVENT_BRIDGE", "DEFAULT_AUTO_FIELD", "USE_TZ", "STATIC_URL",
    ]
    facts["settings"] = {n: getattr(settings, n) for n in names}
    facts["auth_is_a_dict"] = isinstance(settings.REFLEX_DJANGO_AUTH, dict)
    facts["apps"] = list(settings.INSTALLED_APPS)
    facts["database"] = settings.DATABASES["default"]
    facts["secret_key"] = settings.SECRET_KEY
    key_file = os.path.join(".reflex-django", "secret_key")
    facts["key_file_mode"] = (
        oct(stat.S_IMODE(os.stat(key_file).st_mode)) if os.path.exists(key_file) else None
    )
    facts["admin_url"] = reverse("admin:index")
    facts["admin_status"] = client.get(reverse("admin:index")).status_code
    facts["handoff_url"] = reverse("reflex_django:session")
    from reflex_django.default_settings import database_from_url
    facts["urls"] = [
        database_from_url(u)
        for u in (
            "postgresql+psycopg://me:p%40ss@db.example.com:5433/shop",
            "sqlite:////tmp/abs.db",
            "sqlite:///:memory:",
        )
    ]
    facts["reflex_loaded"] = any(m.split(".")[0] == "reflex" for m in sys.modules)
    print(json.dumps(facts))
"""


def test_a_failed_setup_is_reported_again_not_hidden(tmp_path: Path) -> None:
    """After `django.setup()` failed, Django's registry stays "loading" for ever; later
    calls must say why instead of returning as if Django were being set up."""
    (tmp_path / "broken_settings.py").write_text(
        "SECRET_KEY = 'x'\nINSTALLED_APPS = ['django.contrib.contenttypes', 'no_such_app']\n"
    )
    done = _python(
        """
        from reflex_django.conf import configure_django
        for attempt in (1, 2):
            try:
                configure_django()
            except Exception as exc:
                print(attempt, type(exc).__name__, exc)
        """,
        cwd=tmp_path,
        DJANGO_SETTINGS_MODULE="broken_settings",
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(HERE.parent)]),
    )
    first, second = done.stdout.splitlines()
    assert first.startswith("1 ModuleNotFoundError") and "no_such_app" in first
    assert second.startswith("2 ImproperlyConfigured") and "failed earlier" in second and "no_such_app" in second


def test_default_settings_use_the_db_url_of_rxconfig(tmp_path: Path) -> None:
    """0.2.3's defaults used Reflex's `db_url`: a literal in rxconfig.py is read (without
    importing Reflex); Reflex's environment variable wins over it."""
    db = tmp_path / "from-rxconfig.db"
    (tmp_path / "rxconfig.py").write_text(
        f"import reflex as rx\nconfig = rx.Config(app_name='x', db_url='sqlite:///{db}')\n"
    )
    probe = """
        import json, sys
        from reflex_django.conf import configure_django
        configure_django()
        from django.conf import settings
        print(json.dumps([settings.DATABASES["default"]["NAME"], "reflex" in sys.modules]))
    """
    done = _python(probe, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [str(db), False]
    done = _python(probe, cwd=tmp_path, REFLEX_DB_URL=f"sqlite:///{tmp_path / 'env.db'}")
    assert json.loads(done.stdout)[0] == str(tmp_path / "env.db")


def test_configure_django_without_settings_uses_default_settings(tmp_path: Path) -> None:
    done = _python(_DEFAULT_SETTINGS_PROBE, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert "using reflex_django.default_settings" in done.stderr  # a warning says so
    assert facts["module"] == "reflex_django.default_settings"
    assert (facts["configured_before"], facts["django_loaded"], facts["configured_after"]) == (
        False,
        False,
        True,
    )
    assert facts["settings"] == {
        "REFLEX_DJANGO_AUTO_SETTINGS": True,
        "REFLEX_DJANGO_ADMIN_PREFIX": "/admin",
        "REFLEX_DJANGO_CONTEXT_PROCESSORS": [],
        "REFLEX_DJANGO_USE_TEMPLATE_CONTEXT_PROCESSORS": False,
        "REFLEX_DJANGO_LOGIN_URL": "/login",
        "REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS": False,
        "REFLEX_DJANGO_I18N_EVENT_BRIDGE": True,
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "USE_TZ": True,
        "STATIC_URL": "/static/",
    }
    assert facts["auth_is_a_dict"]
    assert {
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
        "reflex_django",
    } <= set(facts["apps"])
    assert facts["database"]["ENGINE"] == "django.db.backends.sqlite3"
    assert facts["database"]["NAME"] == str(tmp_path / "reflex.db")
    assert (tmp_path / "reflex.db").is_file()
    assert (facts["admin_url"], facts["admin_status"]) == ("/admin/", 200)
    assert facts["handoff_url"] == "/_reflex_django/session/"
    assert facts["urls"] == [
        {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "shop",
            "USER": "me",
            "PASSWORD": "p@ss",
            "HOST": "db.example.com",
            "PORT": "5433",
        },
        {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/abs.db"},
        {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    ]
    assert not facts["reflex_loaded"]  # the Django process must not need Reflex
    # The generated key is kept: the next process (or the other one) uses the same.
    assert facts["key_file_mode"] == "0o600" and len(facts["secret_key"]) > 40
    again = _python(_DEFAULT_SETTINGS_PROBE.replace('"ada"', '"bob"'), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["secret_key"] == facts["secret_key"]


def test_default_settings_read_the_environment(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    done = _python(
        _DEFAULT_SETTINGS_PROBE,
        cwd=tmp_path,
        REFLEX_DJANGO_DATABASE_URL="sqlite:///data/app.db",
        REFLEX_DJANGO_PREFIXES_ADMIN="/staff/",
        REFLEX_DJANGO_SECRET_KEY="given-" + "x" * 50,
    )
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["database"]["NAME"] == str(tmp_path / "data" / "app.db")
    assert facts["admin_url"] == "/staff/"
    assert facts["settings"]["REFLEX_DJANGO_ADMIN_PREFIX"] == "/staff"
    assert facts["secret_key"] == "given-" + "x" * 50
    assert facts["key_file_mode"] is None  # nothing written when the key is given


# --- reflex_django.mixins -----------------------------------------------------------------


def test_session_auth_config_fields_and_defaults_are_the_originals() -> None:
    assert [(f.name, f.default) for f in dataclasses.fields(SessionAuthConfig)] == [
        ("username_var", "login_username"),
        ("password_var", "login_password"),
        ("error_var", "login_error"),
        ("on_load_event", "on_load_login"),
        ("submit_event", "submit_login"),
        ("logout_event", "logout"),
        ("post_login_redirect", "/"),
        ("post_logout_redirect", "/login"),
        ("redirect_when_authenticated", None),
        ("session_unavailable_message", "Session unavailable. Reload the page."),
        ("invalid_credentials_message", "Invalid username or password."),
        ("state_class_name", "SessionAuthState"),
        ("submit_form_event", "submit_login_form"),
        ("form_username_key", "username"),
        ("form_password_key", "password"),
    ]
    assert dataclasses.is_dataclass(SessionAuthConfig)
    with pytest.raises(dataclasses.FrozenInstanceError):
        SessionAuthConfig().username_var = "x"  # type: ignore[misc]


def test_model_crud_config_fields_and_defaults_are_the_originals() -> None:
    original = [
        ("model", dataclasses.MISSING),
        ("list_var", None),
        ("form_fields", None),
        ("error_var", None),
        ("owner_field", "user"),
        ("ordering", ("-created_at",)),
        ("required_for_create", ()),
        ("row_serializer", None),
        ("refresh_method", "_refresh_rows"),
        ("on_load_event", "on_load_items"),
        ("add_event", "add_item"),
        ("delete_event", "delete_item"),
        ("exclude_from_row", frozenset()),
    ]
    init_fields = [f for f in dataclasses.fields(ModelCRUDConfig) if f.init]
    assert [f.name for f in init_fields[: len(original)]] == [name for name, _ in original]
    for f, (name, default) in zip(init_fields[: len(original)], original, strict=True):
        if default is not None:  # list_var, form_fields, error_var were required
            assert f.default == default, name
    # Every newer field is optional.
    assert all(
        f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        for f in init_fields[len(original) :]
    )
    cfg = OLD_NOTES
    assert (cfg.list_var, cfg.form_fields, cfg.error_var) == (
        "old_notes",
        ("title", "content"),
        "old_error",
    )
    assert (cfg.owner_field, cfg.ordering, cfg.required_for_create) == (
        "user",
        ("-created_at",),
        (),
    )
    assert (cfg.refresh_method, cfg.exclude_from_row) == ("_refresh_rows", frozenset())


def test_factories_take_base_and_state_module_by_keyword_and_position() -> None:
    for factory in (crud_mixin, session_auth_mixin):
        params = inspect.signature(factory).parameters
        assert list(params) == ["cfg", "base", "state_module"]
    assert PlainLogin.get_parent_state() is PlainBase and not issubclass(PlainLogin, DjangoUserState)
    assert OldNotes.get_parent_state() is PlainBase
    assert sys.modules[__name__].NoteCRUDState is OldNotes
    with pytest.raises(TypeError, match=r"rx\.State subclass"):
        crud_mixin(OLD_NOTES, base=object)  # type: ignore[arg-type]
    assert Positional.__module__ == "rdj_testproject.generated"
    assert Positional.get_parent_state() is PlainBase
    assert sys.modules["rdj_testproject.generated"].Positional is Positional


def test_populate_session_auth_state_builds_a_flat_state() -> None:
    assert FlatLogin.get_parent_state() is DjangoUserState
    assert {"flat_user", "flat_pw", "flat_error"} <= set(FlatLogin.base_vars)
    assert {
        "flat_load",
        "flat_submit",
        "flat_submit_form",
        "flat_logout",
        "set_flat_user",
        "set_flat_pw",
    } <= set(FlatLogin.event_handlers)
    assert FlatLogin.event_handlers["flat_submit"].fn.__qualname__ == "FlatLogin.flat_submit"


async def test_session_auth_on_a_plain_base(reflex: Reflex, make_user) -> None:
    user = make_user()
    tab = await reflex.tab()
    await tab.send(PlainLogin.submit_login_form, form_data={"username": user.username, "password": "no"})
    await reflex.settle()
    state = await reflex.state(tab, PlainLogin)
    # Left at its default, the message is the project's REFLEX_DJANGO_AUTH text.
    assert state.login_error == M["invalid_credentials"]

    await tab.send(PlainLogin.submit_login_form, form_data={"username": f" {user.username} ", "password": "pw"})
    await reflex.settle()
    response = browser_get(last_load(tab))
    assert response["Location"] == "/home"
    cookie = session_cookie_of(response)
    assert cookie

    signed_in = await reflex.tab(cookies={SESSION: cookie})
    await signed_in.send(PlainLogin.on_load_login, url="/login")
    await signed_in.send(PlainLogin.logout)
    await reflex.settle()
    assert navigations(signed_in)[0] == ("page", "/home")  # redirect_when_authenticated
    response = browser_get(last_load(signed_in), cookie=cookie)
    assert response["Location"] == "/login" and session_cookie_of(response) == ""


async def test_flat_session_auth_state(reflex: Reflex, make_user) -> None:
    user = make_user()
    tab = await reflex.tab()
    await tab.send(FlatLogin.set_flat_user, value=user.username)
    await tab.send(FlatLogin.set_flat_pw, value="wrong")
    await tab.send(FlatLogin.flat_submit)
    await reflex.settle()
    state = await reflex.state(tab, FlatLogin)
    assert (state.flat_error, state.flat_pw) == ("Invalid username or password.", "")
    await tab.send(FlatLogin.set_flat_pw, value="pw")
    await tab.send(FlatLogin.flat_submit)
    await reflex.settle()
    assert browser_get(last_load(tab))["Location"] == "/"
    state = await reflex.state(tab, FlatLogin)
    assert state.flat_error == ""


async def test_crud_with_the_original_defaults(reflex: Reflex, make_user, login) -> None:
    ada, bob = make_user(), make_user()
    tab = await user_tab(reflex, login, ada)
    await tab.send(OldNotes.add_item)  # title left blank: the first form field is required
    await reflex.settle()
    state = await reflex.state(tab, OldNotes)
    assert state.old_error == f"Title: {M['crud_required']}"  # a str, as in 0.2.3
    assert state.old_error_fields == {"title": M["crud_required"]}
    for title in ("first", "second"):
        await tab.send(OldNotes.set_form_title, value=title)
        await tab.send(OldNotes.add_item)
        await reflex.settle()
    await tab.send(OldNotes.on_load_items)
    await reflex.settle()
    state = await reflex.state(tab, OldNotes)
    assert state.old_error == "" and state.old_error_fields == {}
    assert [n["title"] for n in state.old_notes] == ["second", "first"]  # -created_at
    assert all("user" not in n and isinstance(n["id"], int) for n in state.old_notes)  # owner hidden
    assert "_refresh_rows" not in OldNotes.event_handlers and callable(OldNotes._refresh_rows)

    bob_tab = await user_tab(reflex, login, bob)  # scoped to the user by default
    await bob_tab.send(OldNotes.on_load_items)
    await bob_tab.send(OldNotes.delete_item, item_id=state.old_notes[0]["id"])
    await reflex.settle()
    bob_state = await reflex.state(bob_tab, OldNotes)
    assert bob_state.old_notes == [] and bob_state.old_error == M["crud_not_found"]
    assert in_db_thread(lambda: Note.objects.filter(user=ada).count()) == 2


def test_original_row_serializers_still_work(make_user) -> None:
    from reflex_django.mixins.crud import _serializer

    user = make_user()
    note = in_db_thread(lambda: Note.objects.create(user=user, title="t", content="c"))
    row = _default_row_serializer(note, exclude_fields=frozenset({"user"}))
    assert row == {
        "id": note.pk,
        "title": "t",
        "content": "c",
        "stars": 0,
        "created_at": note.created_at.strftime("%Y-%m-%d %H:%M"),
    }
    hidden = frozenset({"user", "content"})
    old_style = _serializer(lambda obj, *, exclude_fields: {"hidden": sorted(exclude_fields)}, hidden)
    assert old_style(note) == {"hidden": ["content", "user"]}
    assert _serializer(lambda obj, **kw: kw, hidden)(note) == {"exclude_fields": hidden}
    assert _serializer(lambda obj: {"pk": obj.pk}, hidden)(note) == {"pk": note.pk}
    # The factory reports a default owner/ordering that the model lacks.
    with pytest.raises(ValueError, match="owner_field defaults to 'user'"):
        ModelCRUDConfig(Bookmark, "marks", ("url",), "err")
    with pytest.raises(ValueError, match=r"ordering defaults to \('-created_at',\)"):
        ModelCRUDConfig(Bookmark, "marks", ("url",), "err", owner_field=None)


# --- reflex_django.reflex_context and i18n_state ----------------------------------------


@pytest.mark.parametrize(
    ("explicit", "templates", "expected"),
    [((), False, False), ((), True, True), (("x.y",), True, False), (("x.y",), False, False)],
)
def test_template_sanitization_flag(explicit: tuple, templates: bool, expected: bool) -> None:
    from reflex_django.reflex_context import reflex_context_processors_use_template_sanitization

    with override_settings(
        REFLEX_DJANGO_CONTEXT_PROCESSORS=explicit,
        REFLEX_DJANGO_USE_TEMPLATE_CONTEXT_PROCESSORS=templates,
    ):
        assert reflex_context_processors_use_template_sanitization() is expected


def test_reflex_context_helpers(make_user) -> None:
    from reflex_django import reflex_context as rc

    for name in (
        "DjangoContextState",
        "builtin_i18n_context",
        "builtin_user_context",
        "collect_reflex_context",
        "reflex_context_processor_paths",
        "reflex_context_processors_use_template_sanitization",
        "template_context_processor_paths",
    ):
        assert name in rc.__all__ and hasattr(rc, name)
    user = make_user()
    begin_event_request(_request(user))
    try:
        # A request without `user`: the event's user, as 0.2.3 read it.
        assert rc.builtin_user_context(HttpRequest())["user"]["username"] == user.username
    finally:
        end_event_request()
    i18n = rc.builtin_i18n_context(_request(language="ar"))
    assert (i18n["LANGUAGE_CODE"], i18n["LANGUAGE_BIDI"]) == ("ar", True)
    assert ["fr", "French"] in [[code, str(name)] for code, name in settings.LANGUAGES]
    assert rc.DjangoContextState.get_fields()["django_context_json"].default == ""
    assert "load_django_context" in rc.DjangoContextState.event_handlers


def test_i18n_state_surface() -> None:
    from reflex_django.i18n_state import DjangoI18nState

    assert {"django_language_code", "django_language_bidi"} <= set(DjangoI18nState.base_vars)
    assert "sync_from_django" in DjangoI18nState.event_handlers
    assert inspect.iscoroutinefunction(DjangoI18nState.refresh_django_i18n_fields.fn)


# --- reflex_django.model --------------------------------------------------------------


def test_model_base_and_serializer(make_user) -> None:
    from django.db import models
    from reflex_base.utils.serializers import serialize

    from reflex_django.model import Model, serialize_django_model

    assert issubclass(Model, models.Model) and Model._meta.abstract
    user = make_user()
    note = in_db_thread(lambda: Note.objects.create(user=user, title="t", content="c", stars=2))
    expected = {"id": note.pk, "user": user.pk, "title": "t", "content": "c", "stars": 2}
    assert serialize_django_model(note) == expected
    assert serialize(note) == expected  # registered with Reflex


# --- reflex_django.session_js ---------------------------------------------------------


def _cookie_written_by(js: str) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is needed to run the JavaScript")
    program = f"const document = {{}};\n{js}\nprocess.stdout.write(document.cookie);"
    done = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_session_cookie_js() -> None:
    from reflex_django.session_js import (
        session_cookie_clear_js,
        session_cookie_name_and_suffix,
        session_cookie_set_js,
    )

    assert session_cookie_name_and_suffix() == (
        "sessionid",
        "path=/; max-age=1209600; samesite=Lax",
    )
    assert _cookie_written_by(session_cookie_set_js("abc123")) == (
        "sessionid=abc123; path=/; max-age=1209600; samesite=Lax"
    )
    cleared = _cookie_written_by(session_cookie_clear_js())
    assert cleared.startswith("sessionid=; path=/;") and "expires=Thu, 01 Jan 1970 00:00:00 GMT" in cleared
    with override_settings(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_AGE=60,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=True,
    ):
        assert session_cookie_name_and_suffix() == (
            "sid",
            "path=/; max-age=60; samesite=Strict; secure",
        )
        assert _cookie_written_by(session_cookie_set_js("k")) == "sid=k; path=/; max-age=60; samesite=Strict; secure"
    # Escaped for JavaScript, not for the cookie: "'" is a valid cookie character.
    assert _cookie_written_by(session_cookie_set_js("a'b")).startswith("sessionid=a'b; path=/;")
    for bad in ("a;domain=evil.example", "a b", 'a"b', "a\\b", "a,b"):
        with pytest.raises(ValueError, match="not a valid cookie value"):
            session_cookie_set_js(bad)


# --- reflex_django.admin --------------------------------------------------------------


def test_admin_register(caplog) -> None:
    from django.contrib import admin

    from reflex_django import register_admin
    from reflex_django.admin import register, site

    assert site is admin.site and register_admin is register
    try:
        made = register(Bookmark, list_display=("url",))
        assert issubclass(made, admin.ModelAdmin) and made.__name__ == "BookmarkAdmin"
        assert made.list_display == ("url",) and isinstance(site._registry[Bookmark], made)
        with pytest.raises(admin.sites.AlreadyRegistered):
            register(Bookmark)
    finally:
        site.unregister(Bookmark)

    class NoteAdmin(admin.ModelAdmin):
        search_fields = ("title",)

    try:
        with caplog.at_level(logging.WARNING, logger="reflex_django"):
            assert register(Note, NoteAdmin, list_display=("title",)) is NoteAdmin
        assert "ignored" in caplog.text and type(site._registry[Note]) is NoteAdmin
    finally:
        site.unregister(Note)


# --- reflex_django.vite_proxy ---------------------------------------------------------


def _vite_config_js() -> str:
    from reflex.utils import frontend_skeleton
    from reflex_base.config import get_config

    return frontend_skeleton._compile_vite_config(get_config())


def _binary() -> str:
    from reflex_django._find_bin import find_reflex_django_bin

    try:
        return find_reflex_django_bin()
    except FileNotFoundError:
        pytest.skip("no reflex-django binary; set REFLEX_DJANGO_BIN to run this test")


def _syntax_ok(js: str, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        return
    path = tmp_path / "vite.config.mjs"
    path.write_text(js)
    done = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_inject_vite_dev_proxy_through_the_binary(monkeypatch, tmp_path: Path) -> None:
    from reflex_django.vite_proxy import inject_vite_dev_proxy

    monkeypatch.setenv("REFLEX_DJANGO_BIN", _binary())
    monkeypatch.chdir(tmp_path)  # no project here: the binary must not need one
    text = _vite_config_js()
    patched = inject_vite_dev_proxy(text, target="http://localhost:8000/", prefixes=("/admin", "api/", "/admin", " "))
    assert patched != text and "defineConfig" in patched
    rules = [line.strip() for line in patched.splitlines() if 'target: "http' in line]
    assert rules == [
        '"^/admin(?:[/?#]|$)": { target: "http://localhost:8000", ws: true },',
        '"^/api(?:[/?#]|$)": { target: "http://localhost:8000", ws: true },',
        '"^/_reflex_django(?:[/?#]|$)": { target: "http://localhost:8000", ws: true },',
    ]
    _syntax_ok(patched, tmp_path)
    # Again with other prefixes: the rules are replaced, not added.
    again = inject_vite_dev_proxy(patched, target="http://127.0.0.1:9000", prefixes=["/billing"])
    assert again == inject_vite_dev_proxy(text, target="http://127.0.0.1:9000", prefixes=["/billing"])
    assert "/admin" not in again.split("reflex-django:begin")[1] and "/billing" in again
    # No prefixes and no rules: nothing to do.
    assert inject_vite_dev_proxy(text, target="http://localhost:8000", prefixes=()) == text


def test_inject_vite_dev_proxy_with_no_prefixes_removes_the_rules(monkeypatch, tmp_path: Path) -> None:
    from reflex_django.vite_proxy import inject_vite_dev_proxy

    monkeypatch.setenv("REFLEX_DJANGO_BIN", _binary())
    monkeypatch.chdir(tmp_path)
    text = _vite_config_js()
    patched = inject_vite_dev_proxy(text, target="http://localhost:8000", prefixes=("/admin",))
    assert inject_vite_dev_proxy(patched, target="http://localhost:8000", prefixes=()) == text


def test_inject_vite_dev_proxy_without_a_usable_binary(monkeypatch, tmp_path: Path, caplog) -> None:
    from reflex_django.vite_proxy import inject_vite_dev_proxy, vite_patch_command

    assert vite_patch_command("rd", target="http://h:1", prefixes=["/a", "/b"]) == [
        "rd",
        "vite",
        "patch",
        "--target",
        "http://h:1",
        "--prefix",
        "/a",
        "--prefix",
        "/b",
    ]
    monkeypatch.setenv("REFLEX_DJANGO_BIN", str(tmp_path / "missing"))
    text = _vite_config_js()
    with caplog.at_level(logging.WARNING, logger="reflex_django"):
        assert inject_vite_dev_proxy(text, target="http://localhost:8000", prefixes=("/admin",)) == text
    assert "vite.config.js left unchanged" in caplog.text
