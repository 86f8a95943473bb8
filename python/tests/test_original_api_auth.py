"""The `reflex_django.auth` API of the Python-only plugin reflex-django 0.2.3: every
module and name code written for it imports, with the behaviour its README and
docstrings describe, on real Django and Reflex's real event path.

The expected values are written out here from that documentation (the settings table
of "Canned authentication pages", the config dataclasses' fields and defaults). The
one deliberate difference is the reset-confirm route argument `[token]`, which Reflex
reserves: it is read as `[key]`, which matches the same paths.
"""

from __future__ import annotations

import dataclasses
import os
import re
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
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.test import override_settings

from auth_helpers import browser_get, last_load, navigations, session_cookie_of
from dbthread import in_db_thread
from reflex_django.auth.accounts import wait_for_outgoing_mail
from reflex_django.auth.conf import DEFAULT_MESSAGES as M
from reflex_django.auth.conf import auth_settings, message
from reflex_django.auth.mixins.navigation import navigation_mixin, populate_navigation_state
from reflex_django.auth.mixins.password_reset import (
    PasswordResetConfig,
    password_reset_mixin,
    populate_password_reset_state,
)
from reflex_django.auth.mixins.registration import (
    RegistrationConfig,
    populate_registration_state,
    registration_mixin,
)
from reflex_django.auth.settings import AuthSettings, get_auth_settings
from reflex_django.auth.state import DjangoAuthState
from reflex_django.checks import check_auth_settings
from reflex_harness import Reflex, Tab, bridged_app, fresh_app, running

HERE = Path(__file__).resolve().parent
GOOD = "a fine passphrase"

# --- what 0.2.3 documents -----------------------------------------------------------

# `AuthSettings` attributes, in order, with the defaults of the README's table.
ORIGINAL_AUTH_SETTINGS = {
    "enabled": True,
    "signup_enabled": True,
    "password_reset_enabled": True,
    "login_url": "/login",
    "signup_url": "/register",
    "password_reset_url": "/password-reset",
    "password_reset_confirm_url": "/password-reset/confirm/[uid]/[key]",  # was [token]
    "login_redirect_url": "/",
    "logout_redirect_url": "/login",
    "signup_redirect_url": "/login",
    "redirect_authenticated_user": "/",
    "email_required": False,
    "username_min_length": 1,
    "password_min_length": 8,
}
ORIGINAL_MESSAGE_KEYS = {
    "invalid_credentials",
    "username_taken",
    "email_taken",
    "password_mismatch",
    "password_too_short",
    "username_required",
    "email_required",
    "reset_email_sent",
    "reset_success",
    "reset_invalid_link",
    "registration_success",
}
ORIGINAL_REGISTRATION_CONFIG = {
    "signup_redirect_url": "/login",
    "redirect_when_authenticated": "/",
    "email_required": False,
    "username_min_length": 1,
    "password_min_length": 8,
    "error_var": "registration_error",
    "success_var": "registration_success",
    "on_load_event": "on_load_register",
    "submit_event": "handle_registration",
    "state_class_name": "DjangoAuthState",
    "messages": None,
}
ORIGINAL_PASSWORD_RESET_CONFIG = {
    "password_reset_url": "/password-reset",
    "password_reset_confirm_url": "/password-reset/confirm/[uid]/[key]",  # was [token]
    "login_url": "/login",
    "error_var": "reset_error",
    "success_var": "reset_success",
    "email_sent_var": "reset_email_sent",
    "confirm_valid_var": "reset_link_valid",
    "request_event": "submit_password_reset_request",
    "confirm_event": "submit_password_reset_confirm",
    "on_load_confirm_event": "on_load_password_reset_confirm",
    "state_class_name": "DjangoAuthState",
    "messages": None,
}
# The REFLEX_DJANGO_AUTH that 0.2.3's project template wrote, with every documented
# key (texts of our own under its MESSAGES keys).
ORIGINAL_PROJECT_SETTING = {
    "ENABLED": True,
    "SIGNUP_ENABLED": True,
    "PASSWORD_RESET_ENABLED": True,
    "LOGIN_URL": "/login",
    "SIGNUP_URL": "/register",
    "PASSWORD_RESET_URL": "/password-reset",
    "PASSWORD_RESET_CONFIRM_URL": "/password-reset/confirm/[uid]/[token]",
    "LOGIN_REDIRECT_URL": "/",
    "LOGOUT_REDIRECT_URL": "/login",
    "SIGNUP_REDIRECT_URL": "/login",
    "REDIRECT_AUTHENTICATED_USER": "/",
    "EMAIL_REQUIRED": False,
    "USERNAME_MIN_LENGTH": 1,
    "PASSWORD_MIN_LENGTH": 8,
    "MESSAGES": {key: f"text for {key}" for key in ORIGINAL_MESSAGE_KEYS},
}


# --- states generated with the 0.2.3 builders, on a plain rx.State -----------------


class OrigBase(rx.State):
    """An app's own base state: not a DjangoUserState."""


SignUp = registration_mixin(
    RegistrationConfig(
        signup_redirect_url="/welcome",
        redirect_when_authenticated="/home",
        username_min_length=4,
        password_min_length=12,
        state_class_name="OrigSignUp",
        messages={"password_mismatch": "Not the same."},
    ),
    base=OrigBase,
)

Reset = password_reset_mixin(
    PasswordResetConfig(
        password_reset_confirm_url="/forgot/[uid]/[token]",
        login_url="/signin",
        state_class_name="OrigReset",
        messages={"reset_invalid_link": "Dead link."},
    ),
    base=OrigBase,
)

Nav = navigation_mixin(base=OrigBase, state_class_name="OrigNav")

Elsewhere = registration_mixin(
    RegistrationConfig(state_class_name="OrigElsewhere"),
    base=OrigBase,
    state_module="rdj_testproject.generated",
)


def _flat_body(ns: dict[str, Any]) -> None:
    """One class from the three `populate_*` functions, as 0.2.3's flat build did."""
    annotations: dict[str, Any] = {}
    populate_registration_state(
        ns, RegistrationConfig(state_class_name="OrigFlat"), cls_name="OrigFlat", annotations=annotations
    )
    populate_password_reset_state(
        ns, PasswordResetConfig(state_class_name="OrigFlat"), cls_name="OrigFlat", annotations=annotations
    )
    populate_navigation_state(ns, cls_name="OrigFlat")
    ns["__annotations__"] = annotations
    ns["__module__"] = __name__


OrigFlat = types.new_class("OrigFlat", (OrigBase,), {}, _flat_body)


# --- helpers ----------------------------------------------------------------------


@pytest.fixture
async def reflex() -> AsyncIterator[Reflex]:
    mail.outbox = []
    async with running(bridged_app()) as r:
        yield r
    mail.outbox = []


async def send(reflex: Reflex, tab: Tab, handler: Any, url: str, **payload: Any) -> None:
    await tab.send(handler, url=url, **payload)
    await reflex.settle()


def link_path(body: str, prefix: str) -> str:
    match = re.search(rf"https://app\.example\.com({re.escape(prefix)}[^\s]+)", body)
    assert match, body
    return match.group(1)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REFLEX_DJANGO_BIN"}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), str(HERE)])
    env["DJANGO_SETTINGS_MODULE"] = "rdj_testproject.settings"
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=120
    )


# --- module paths and names ---------------------------------------------------------

ORIGINAL_NAMES = {
    "reflex_django.auth": [
        "AuthSettings",
        "DjangoAuthState",
        "add_auth_pages",
        "autoload",
        "get_auth_settings",
        "pages",
        "login_required",
        "routes",
    ],
    "reflex_django.auth.decorators": ["login_required"],
    "reflex_django.auth.settings": ["AuthSettings", "get_auth_settings"],
    "reflex_django.auth.registry": ["add_auth_pages", "autoload"],
    "reflex_django.auth.state": ["DjangoAuthState"],
    "reflex_django.auth.state_builders": ["build_django_auth_state", "get_or_create_django_auth_state"],
    "reflex_django.auth.routes": [
        "LOGIN_ROUTE",
        "SIGNUP_ROUTE",
        "PASSWORD_RESET_ROUTE",
        "PASSWORD_RESET_CONFIRM_ROUTE",
    ],
    "reflex_django.auth.mixins": [
        "PasswordResetConfig",
        "RegistrationConfig",
        "password_reset_mixin",
        "populate_password_reset_state",
        "populate_registration_state",
        "registration_mixin",
    ],
    "reflex_django.auth.mixins.registration": [
        "RegistrationConfig",
        "populate_registration_state",
        "registration_mixin",
    ],
    "reflex_django.auth.mixins.password_reset": [
        "PasswordResetConfig",
        "populate_password_reset_state",
        "password_reset_mixin",
    ],
    "reflex_django.auth.mixins.navigation": ["navigation_mixin", "populate_navigation_state"],
    "reflex_django.auth.pages": [
        "login_page",
        "password_reset_confirm_page",
        "password_reset_page",
        "register_page",
    ],
    "reflex_django.auth.pages.components": [
        "MIN_WIDTH",
        "PADDING_TOP",
        "input_100w",
        "auth_card",
        "auth_page_shell",
        "error_callout",
        "success_callout",
    ],
    "reflex_django.auth.pages.login": ["login_page"],
    "reflex_django.auth.pages.register": ["register_page"],
    "reflex_django.auth.pages.password_reset": ["password_reset_page", "password_reset_confirm_page"],
}


@pytest.mark.parametrize("module", sorted(ORIGINAL_NAMES))
def test_every_original_name_imports(module: str) -> None:
    loaded = __import__(module, fromlist=["_"])
    for name in ORIGINAL_NAMES[module]:
        assert getattr(loaded, name) is not None, f"{module}.{name}"
        if hasattr(loaded, "__all__"):
            assert name in loaded.__all__, f"{module}.__all__ lacks {name}"


def test_same_objects_under_every_name() -> None:
    import reflex_django.auth as auth
    from reflex_django.auth import decorators, guards, pages, registry, routes, state, state_builders
    from reflex_django.auth.pages import login, password_reset, register

    assert auth.login_required is decorators.login_required is guards.login_required
    assert auth.add_auth_pages is registry.add_auth_pages is pages.add_auth_pages
    assert auth.autoload is registry.autoload
    assert auth.AuthSettings is AuthSettings and auth.get_auth_settings is get_auth_settings
    assert auth.DjangoAuthState is state.DjangoAuthState is DjangoAuthState
    assert auth.pages is pages and auth.routes is routes
    assert pages.login_page is login.login_page and pages.register_page is register.register_page
    assert pages.password_reset_page is password_reset.password_reset_page
    assert pages.password_reset_confirm_page is password_reset.password_reset_confirm_page
    assert state_builders.build_django_auth_state() is DjangoAuthState
    assert state_builders.get_or_create_django_auth_state() is DjangoAuthState
    assert state_builders.build_django_auth_state(auth=AuthSettings(login_url="/x")) is DjangoAuthState


def test_names_the_package_exported_before_still_import() -> None:
    """`reflex_django.auth.pages` was a module; its names stay where they were."""
    from reflex_django.auth.pages import (  # noqa: F401
        add_auth_pages,
        auth_card,
        login_form,
        password_reset_confirm_form,
        password_reset_form,
        register_form,
    )


def test_the_package_and_its_settings_do_not_import_reflex() -> None:
    done = _python("""
        import sys
        from reflex_django.conf import configure_django
        configure_django()
        import reflex_django.auth as auth
        from reflex_django.auth import AuthSettings, get_auth_settings
        from reflex_django.auth.settings import AuthSettings as again
        assert AuthSettings is again
        assert get_auth_settings().login_url == "/login"
        assert "reflex" not in sys.modules, "reflex imported"
        assert auth.DjangoAuthState.__name__ == "DjangoAuthState"   # now it may
    """)
    assert done.returncode == 0, done.stderr


# --- settings -----------------------------------------------------------------------


def test_auth_settings_fields_and_defaults() -> None:
    names = [f.name for f in dataclasses.fields(AuthSettings)]
    assert names[: len(ORIGINAL_AUTH_SETTINGS) + 1] == [*ORIGINAL_AUTH_SETTINGS, "messages"]
    bare = AuthSettings()
    assert {k: getattr(bare, k) for k in ORIGINAL_AUTH_SETTINGS} == ORIGINAL_AUTH_SETTINGS
    assert set(bare.messages) >= ORIGINAL_MESSAGE_KEYS
    with pytest.raises(dataclasses.FrozenInstanceError):
        bare.login_url = "/x"  # type: ignore[misc]
    # Positional construction in 0.2.3's field order still works.
    assert AuthSettings(False, False).signup_enabled is False


@override_settings(REFLEX_DJANGO_AUTH=None)
def test_get_auth_settings_defaults() -> None:
    auth = get_auth_settings()
    assert isinstance(auth, AuthSettings)
    assert {k: getattr(auth, k) for k in ORIGINAL_AUTH_SETTINGS} == ORIGINAL_AUTH_SETTINGS
    assert set(auth.messages) >= ORIGINAL_MESSAGE_KEYS
    assert all(isinstance(v, str) and v for v in auth.messages.values())
    assert auth.messages["reset_email_sent"] == M["reset_sent"]
    assert auth.messages["reset_invalid_link"] == M["reset_link_invalid"]


def test_get_auth_settings_reads_overrides() -> None:
    given = {
        "ENABLED": False,
        "SIGNUP_ENABLED": False,
        "PASSWORD_RESET_ENABLED": False,
        "LOGIN_URL": "/signin",
        "SIGNUP_URL": "/join",
        "PASSWORD_RESET_URL": "/forgot",
        "PASSWORD_RESET_CONFIRM_URL": "/forgot/[uid]/[key]",
        "LOGIN_REDIRECT_URL": "/home",
        "LOGOUT_REDIRECT_URL": "/bye",
        "SIGNUP_REDIRECT_URL": "/welcome",
        "REDIRECT_AUTHENTICATED_USER": "/already",
        "EMAIL_REQUIRED": True,
        "USERNAME_MIN_LENGTH": 3,
        "PASSWORD_MIN_LENGTH": 12,
        "MESSAGES": {"invalid_credentials": "No match."},
    }
    with override_settings(REFLEX_DJANGO_AUTH=given):
        auth = get_auth_settings()
    assert dataclasses.asdict(auth) | {"messages": None, "site_origin": None, "ticket_max_age": None} == {
        "enabled": False,
        "signup_enabled": False,
        "password_reset_enabled": False,
        "login_url": "/signin",
        "signup_url": "/join",
        "password_reset_url": "/forgot",
        "password_reset_confirm_url": "/forgot/[uid]/[key]",
        "login_redirect_url": "/home",
        "logout_redirect_url": "/bye",
        "signup_redirect_url": "/welcome",
        "redirect_authenticated_user": "/already",
        "email_required": True,
        "username_min_length": 3,
        "password_min_length": 12,
        "messages": None,
        "site_origin": None,
        "ticket_max_age": None,
    }
    assert auth.messages["invalid_credentials"] == "No match."
    assert auth.messages["username_taken"] == M["username_taken"]


def test_unset_redirects_follow_the_login_urls() -> None:
    """Without their own keys, sign-out and sign-up go to LOGIN_URL, and signed-in
    visitors of the sign-in page to LOGIN_REDIRECT_URL."""
    with override_settings(REFLEX_DJANGO_AUTH={"LOGIN_URL": "/signin", "LOGIN_REDIRECT_URL": "/home"}):
        auth = get_auth_settings()
    assert (auth.logout_redirect_url, auth.signup_redirect_url) == ("/signin", "/signin")
    assert auth.redirect_authenticated_user == "/home"


def test_legacy_login_url() -> None:
    with override_settings(REFLEX_DJANGO_LOGIN_URL="/legacy", REFLEX_DJANGO_AUTH={}):
        auth = get_auth_settings()
        assert auth.login_url == "/legacy" and auth.logout_redirect_url == "/legacy"
        from reflex_django.auth import routes

        assert routes.LOGIN_ROUTE == "/legacy"
    with override_settings(REFLEX_DJANGO_LOGIN_URL="/legacy", REFLEX_DJANGO_AUTH={"LOGIN_URL": "/mine"}):
        assert get_auth_settings().login_url == "/mine"


def test_legacy_site_origin_builds_reset_links(make_user) -> None:
    from reflex_django.auth.accounts import send_password_reset

    make_user(email="legacy-origin@example.com")
    mail.outbox = []
    with override_settings(REFLEX_DJANGO_AUTH={}, REFLEX_DJANGO_SITE_ORIGIN="https://old.example.com/"):
        assert get_auth_settings().site_origin == "https://old.example.com"
        assert in_db_thread(send_password_reset, "legacy-origin@example.com") == []
        assert check_auth_settings() == []  # no "reset links have no origin" warning
    wait_for_outgoing_mail()
    [sent] = mail.outbox
    assert "https://old.example.com/password-reset/confirm/" in sent.body
    mail.outbox = []


def test_a_0_2_3_project_setting_is_accepted_unchanged() -> None:
    with override_settings(REFLEX_DJANGO_AUTH=ORIGINAL_PROJECT_SETTING):
        assert [c.id for c in check_auth_settings() if c.level >= 40] == []
        auth = get_auth_settings()
        assert auth.password_reset_confirm_url == "/password-reset/confirm/[uid]/[key]"
        assert {k: auth.messages[k] for k in ORIGINAL_MESSAGE_KEYS} == ORIGINAL_PROJECT_SETTING["MESSAGES"]
        # The 0.2.3 keys reach the texts the pages and handlers show.
        assert message("reset_sent") == "text for reset_email_sent"
        assert message("reset_done") == "text for reset_success"
        assert message("reset_link_invalid") == "text for reset_invalid_link"
        assert auth_settings()["USERNAME_MIN_LENGTH"] == 1
        from reflex_django.auth.pages import password_reset_page

        assert "text for reset_email_sent" in str(password_reset_page().render())


def test_routes_constants() -> None:
    from reflex_django.auth import routes

    assert (routes.LOGIN_ROUTE, routes.SIGNUP_ROUTE, routes.PASSWORD_RESET_ROUTE) == (
        "/login",
        "/register",
        "/password-reset",
    )
    assert routes.PASSWORD_RESET_CONFIRM_ROUTE == "/password-reset/confirm/[uid]/[key]"
    with override_settings(REFLEX_DJANGO_AUTH={"LOGIN_URL": "/signin", "SIGNUP_URL": "/join"}):
        assert (routes.LOGIN_ROUTE, routes.SIGNUP_ROUTE) == ("/signin", "/join")
    with pytest.raises(AttributeError):
        routes.LOGOUT_ROUTE  # noqa: B018


# --- registry -----------------------------------------------------------------------


def test_add_auth_pages_from_the_settings() -> None:
    from reflex_django.auth.registry import add_auth_pages

    app = fresh_app()
    add_auth_pages(app)
    pages = app._unevaluated_pages
    assert set(pages) == {"login", "register", "password-reset", "password-reset/confirm/[uid]/[key]"}
    assert pages["login"].on_load == DjangoAuthState.on_load_login
    assert pages["register"].on_load == DjangoAuthState.on_load_register
    assert pages["password-reset/confirm/[uid]/[key]"].on_load == DjangoAuthState.on_load_password_reset_confirm
    assert pages["login"].title == M["login_title"]


def test_add_auth_pages_with_explicit_settings() -> None:
    from reflex_django.auth.registry import add_auth_pages

    app = fresh_app()
    add_auth_pages(
        app,
        settings=AuthSettings(
            login_url="/signin",
            signup_enabled=False,
            password_reset_confirm_url="/forgot/[uid]/[token]",
        ),
    )
    assert set(app._unevaluated_pages) == {"signin", "password-reset", "forgot/[uid]/[key]"}
    app = fresh_app()
    add_auth_pages(app, settings=AuthSettings(password_reset_enabled=False))
    assert set(app._unevaluated_pages) == {"login", "register"}
    app = fresh_app()
    add_auth_pages(app, settings=AuthSettings(enabled=False))
    assert app._unevaluated_pages == {}
    with override_settings(REFLEX_DJANGO_AUTH={"ENABLED": False}):
        app = fresh_app()
        add_auth_pages(app)
        assert app._unevaluated_pages == {}


def test_autoload_finds_the_projects_app(monkeypatch) -> None:
    import reflex_base.config

    from reflex_django.auth.registry import autoload

    module = types.ModuleType("orig_autoload_app.orig_autoload_app")
    module.app = fresh_app()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    config = types.SimpleNamespace(app_name="orig_autoload_app", module=module.__name__)
    monkeypatch.setattr(reflex_base.config, "get_config", lambda: config)
    autoload()
    assert "login" in module.app._unevaluated_pages  # type: ignore[attr-defined]
    del module.app  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="orig_autoload_app"):
        autoload()


# --- pages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "name", "marker"),
    [
        ("login", "login_page", "login-form"),
        ("register", "register_page", "register-form"),
        ("password_reset", "password_reset_page", "reset-form"),
        ("password_reset", "password_reset_confirm_page", "reset-confirm-form"),
    ],
)
def test_pages_return_components(module: str, name: str, marker: str) -> None:
    page = getattr(__import__(f"reflex_django.auth.pages.{module}", fromlist=["_"]), name)
    component = page()
    assert isinstance(component, rx.Component)
    assert f'"{marker}"' in str(component.render())


def test_components() -> None:
    from reflex_django.auth.pages import components as c

    assert (c.MIN_WIDTH, c.PADDING_TOP) == ("20rem", "4rem")
    field = str(c.input_100w("email", type="email").render())
    assert '"email"' in field and '"100%"' in field
    card = str(c.auth_card(rx.text("inside", id="inside")).render())
    assert '"inside"' in card and c.MIN_WIDTH in card
    shell = str(c.auth_page_shell(rx.text("x")).render())
    assert c.PADDING_TOP in shell and "100vh" in shell
    error = str(c.error_callout("Broken").render())
    assert "Broken" in error and '"alert"' in error and "red" in error
    ok = str(c.success_callout(DjangoAuthState.registration_error).render())
    assert '"status"' in ok and "green" in ok and "registration_error" in ok


def test_login_required_wraps_a_page() -> None:
    from reflex_django.auth.decorators import login_required

    def members() -> rx.Component:
        return rx.heading("Members only", id="members")

    guarded = login_required(members)
    assert guarded.__name__ == "members"
    rendered = str(guarded().render())
    assert '"members"' in rendered and "is_authenticated" in rendered


# --- config dataclasses ---------------------------------------------------------------


def test_registration_config() -> None:
    assert dataclasses.asdict(RegistrationConfig()) == ORIGINAL_REGISTRATION_CONFIG
    assert [f.name for f in dataclasses.fields(RegistrationConfig)] == list(ORIGINAL_REGISTRATION_CONFIG)
    auth = AuthSettings(
        signup_redirect_url="/s",
        redirect_authenticated_user="/r",
        email_required=True,
        username_min_length=2,
        password_min_length=9,
        messages={"a": "b"},
    )
    cfg = RegistrationConfig.from_auth_settings(auth)
    assert (cfg.signup_redirect_url, cfg.redirect_when_authenticated, cfg.email_required) == ("/s", "/r", True)
    assert (cfg.username_min_length, cfg.password_min_length, cfg.messages) == (2, 9, {"a": "b"})
    assert cfg.state_class_name == "DjangoAuthState"
    with pytest.raises(ValueError, match="error_var"):
        RegistrationConfig(error_var="not a name")
    with pytest.raises(ValueError, match="local path"):
        RegistrationConfig(signup_redirect_url="https://evil.example/")


def test_password_reset_config() -> None:
    assert dataclasses.asdict(PasswordResetConfig()) == ORIGINAL_PASSWORD_RESET_CONFIG
    assert [f.name for f in dataclasses.fields(PasswordResetConfig)] == list(ORIGINAL_PASSWORD_RESET_CONFIG)
    auth = AuthSettings(password_reset_url="/f", password_reset_confirm_url="/f/[uid]/[key]", login_url="/in")
    cfg = PasswordResetConfig.from_auth_settings(auth)
    assert (cfg.password_reset_url, cfg.password_reset_confirm_url, cfg.login_url) == (
        "/f",
        "/f/[uid]/[key]",
        "/in",
    )
    assert cfg.messages == auth.messages
    with pytest.raises(ValueError, match=r"\[uid\] and \[key\]"):
        PasswordResetConfig(password_reset_confirm_url="/f/[uid]")


def test_generated_classes() -> None:
    module = sys.modules[__name__]
    for cls, name in ((SignUp, "OrigSignUp"), (Reset, "OrigReset"), (Nav, "OrigNav")):
        assert cls.__name__ == name and cls.__module__ == __name__
        assert getattr(module, name) is cls and issubclass(cls, OrigBase)
    assert {"registration_error", "registration_success"} <= set(SignUp.vars)
    assert {"on_load_register", "handle_registration"} <= set(SignUp.event_handlers)
    assert {"reset_error", "reset_success", "reset_email_sent", "reset_link_valid"} <= set(Reset.vars)
    assert {
        "submit_password_reset_request",
        "submit_password_reset_confirm",
        "on_load_password_reset_confirm",
    } <= set(Reset.event_handlers)
    assert "redirect_to_login" in Nav.event_handlers
    from rdj_testproject import generated

    assert generated.OrigElsewhere is Elsewhere and Elsewhere.__module__ == "rdj_testproject.generated"
    assert {"handle_registration", "submit_password_reset_request", "redirect_to_login"} <= set(OrigFlat.event_handlers)
    with pytest.raises(TypeError, match=r"rx\.State"):
        registration_mixin(RegistrationConfig(state_class_name="Nope"), base=object)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="already exists"):
        registration_mixin(RegistrationConfig(state_class_name="OrigSignUp"), base=OrigBase)


def test_django_auth_state_has_the_original_members() -> None:
    assert {
        "login_username",
        "login_password",
        "login_error",
        "registration_error",
        "registration_success",
        "reset_error",
        "reset_success",
        "reset_email_sent",
        "reset_link_valid",
    } <= set(DjangoAuthState.vars)
    assert {
        "on_load_login",
        "submit_login",
        "submit_login_form",
        "logout",
        "on_load_register",
        "handle_registration",
        "submit_password_reset_request",
        "on_load_password_reset_confirm",
        "submit_password_reset_confirm",
        "redirect_to_login",
    } <= set(DjangoAuthState.event_handlers)


# --- the generated states at work -------------------------------------------------------


async def test_registration_mixin_signs_a_new_user_up(reflex: Reflex) -> None:
    tab = await reflex.tab()
    form = {
        "username": "orig-signup",
        "email": "signup@example.com",
        "password": GOOD + "!!",
        "confirm_password": GOOD + "!!",
    }
    await send(reflex, tab, SignUp.handle_registration, "/signup", form_data=form)
    state = await reflex.state(tab, SignUp)
    assert (state.registration_error, state.registration_success) == ("", True)
    user = in_db_thread(User.objects.get, username="orig-signup")
    assert user.email == "signup@example.com" and user.is_active
    response = browser_get(last_load(tab))
    assert response.status_code == 302 and response["Location"] == "/welcome"
    key = session_cookie_of(response)
    assert in_db_thread(lambda: SessionStore(key).get("_auth_user_id")) == str(user.pk)


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (
            {"username": "abc", "password": GOOD + "!!", "confirm_password": GOOD + "!!"},
            "Use at least 4 characters for the username.",
        ),
        (
            {"username": "orig-short", "password": "elevenchars", "confirm_password": "elevenchars"},
            "Use at least 12 characters.",
        ),
        ({"username": "orig-mismatch", "password": GOOD + "!!", "confirm_password": GOOD + "??"}, "Not the same."),
    ],
)
async def test_registration_mixin_applies_its_config(reflex: Reflex, form: dict, error: str) -> None:
    tab = await reflex.tab()
    await send(reflex, tab, SignUp.handle_registration, "/signup", form_data=form)
    state = await reflex.state(tab, SignUp)
    assert (state.registration_error, state.registration_success) == (error, False)
    assert not in_db_thread(User.objects.filter(username=form["username"]).exists)
    assert navigations(tab) == []


async def test_registration_mixin_on_load(reflex: Reflex, make_user, login) -> None:
    signed_in = await reflex.tab(cookies={settings.SESSION_COOKIE_NAME: login(make_user())})
    await send(reflex, signed_in, SignUp.on_load_register, "/signup")
    anonymous = await reflex.tab()
    await send(reflex, anonymous, SignUp.on_load_register, "/signup")
    assert navigations(signed_in) == [("page", "/home")]
    assert navigations(anonymous) == []


async def test_password_reset_mixin_end_to_end(reflex: Reflex, make_user) -> None:
    user = make_user(email="orig-reset@example.com")
    tab = await reflex.tab()
    for email in ("nobody@example.com", "orig-reset@example.com"):
        await send(reflex, tab, Reset.submit_password_reset_request, "/forgot", form_data={"email": email})
        state = await reflex.state(tab, Reset)
        assert (state.reset_email_sent, state.reset_error) == (True, "")
    wait_for_outgoing_mail()
    [sent] = mail.outbox
    assert sent.to == ["orig-reset@example.com"]
    path = link_path(sent.body, "/forgot/")

    page = await reflex.tab()
    await send(reflex, page, Reset.on_load_password_reset_confirm, path)
    assert (await reflex.state(page, Reset)).reset_link_valid
    form = {"new_password": "brand new secret", "confirm_password": "brand new secret"}
    await send(reflex, page, Reset.submit_password_reset_confirm, path, form_data=form)
    state = await reflex.state(page, Reset)
    assert (state.reset_success, state.reset_error) == (True, "")
    assert navigations(page) == [("page", "/signin")]
    assert in_db_thread(lambda: User.objects.get(pk=user.pk).check_password("brand new secret"))

    # The link works once; the config's text for a bad link (a 0.2.3 key) is shown.
    await send(reflex, page, Reset.on_load_password_reset_confirm, path)
    state = await reflex.state(page, Reset)
    assert (state.reset_link_valid, state.reset_error) == (False, "Dead link.")


async def test_navigation_mixin(reflex: Reflex, make_user, login) -> None:
    anonymous = await reflex.tab()
    await send(reflex, anonymous, Nav.redirect_to_login, "/members?tab=2")
    signed_in = await reflex.tab(cookies={settings.SESSION_COOKIE_NAME: login(make_user())})
    await send(reflex, signed_in, Nav.redirect_to_login, "/members")
    assert navigations(anonymous) == [("page", "/login?next=%2Fmembers%3Ftab%3D2")]
    assert navigations(signed_in) == []


async def test_flat_state_from_the_populate_functions(reflex: Reflex) -> None:
    tab = await reflex.tab()
    form = {"username": "orig-flat", "password": GOOD, "confirm_password": GOOD + "?"}
    await send(reflex, tab, OrigFlat.handle_registration, "/register", form_data=form)
    # Django's own text (its form checks the match); MESSAGES may word it otherwise.
    assert (await reflex.state(tab, OrigFlat)).registration_error == SetPasswordForm.error_messages["password_mismatch"]
    await send(reflex, tab, OrigFlat.redirect_to_login, "/private")
    assert navigations(tab) == [("page", "/login?next=%2Fprivate")]


# --- DjangoAuthState under its 0.2.3 names --------------------------------------------


async def test_django_auth_state_handle_registration(reflex: Reflex) -> None:
    tab = await reflex.tab()
    form = {"username": "orig-canned", "email": "", "password": GOOD, "confirm_password": GOOD}
    with override_settings(
        REFLEX_DJANGO_AUTH={"SIGNUP_REDIRECT_URL": "/notes", "SITE_ORIGIN": "https://app.example.com"}
    ):
        await send(reflex, tab, DjangoAuthState.handle_registration, "/register", form_data=form)
    state = await reflex.state(tab, DjangoAuthState)
    assert (state.registration_error, state.registration_success) == ("", True)
    assert browser_get(last_load(tab))["Location"] == "/notes"
    assert in_db_thread(User.objects.filter(username="orig-canned").exists)

    again = await reflex.tab()
    await send(reflex, again, DjangoAuthState.handle_registration, "/register", form_data=form)
    assert (await reflex.state(again, DjangoAuthState)).registration_error == M["username_taken"]

    closed = await reflex.tab()
    form = {**form, "username": "orig-closed"}
    with override_settings(REFLEX_DJANGO_AUTH={"SIGNUP_ENABLED": False}):
        await send(reflex, closed, DjangoAuthState.handle_registration, "/register", form_data=form)
    assert not in_db_thread(User.objects.filter(username="orig-closed").exists)
    assert navigations(closed) == [("page", "/login")]


async def test_django_auth_state_password_reset(reflex: Reflex, make_user) -> None:
    user = make_user(email="orig-canned-reset@example.com")
    tab = await reflex.tab()
    await send(
        reflex,
        tab,
        DjangoAuthState.submit_password_reset_request,
        "/password-reset",
        form_data={"email": "orig-canned-reset@example.com"},
    )
    state = await reflex.state(tab, DjangoAuthState)
    assert (state.reset_email_sent, state.reset_error) == (True, "")
    wait_for_outgoing_mail()
    [sent] = mail.outbox
    path = link_path(sent.body, "/password-reset/confirm/")

    page = await reflex.tab()
    await send(reflex, page, DjangoAuthState.on_load_password_reset_confirm, path)
    assert (await reflex.state(page, DjangoAuthState)).reset_link_valid
    short = {"new_password": "short", "confirm_password": "short"}
    await send(reflex, page, DjangoAuthState.submit_password_reset_confirm, path, form_data=short)
    assert (await reflex.state(page, DjangoAuthState)).reset_error == "Use at least 8 characters."
    form = {"new_password": "another fine one", "confirm_password": "another fine one"}
    await send(reflex, page, DjangoAuthState.submit_password_reset_confirm, path, form_data=form)
    state = await reflex.state(page, DjangoAuthState)
    assert (state.reset_success, state.reset_error) == (True, "")
    assert navigations(page) == [("page", "/login")]
    assert in_db_thread(lambda: User.objects.get(pk=user.pk).check_password("another fine one"))

    await send(reflex, page, DjangoAuthState.on_load_password_reset_confirm, path)
    state = await reflex.state(page, DjangoAuthState)
    assert not state.reset_link_valid and state.reset_error == M["reset_link_invalid"]


async def test_django_auth_state_redirect_to_login(reflex: Reflex) -> None:
    tab = await reflex.tab()
    await send(reflex, tab, DjangoAuthState.redirect_to_login, "/dashboard")
    assert navigations(tab) == [("page", "/login?next=%2Fdashboard")]
