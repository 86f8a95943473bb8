"""REFLEX_DJANGO_AUTH: defaults, the legacy login URL, errors, routes, system checks."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from reflex_django.auth import routes
from reflex_django.auth.conf import DEFAULT_MESSAGES, auth_setting, auth_settings, message
from reflex_django.authz import login_url
from reflex_django.checks import check_auth_settings

EXPECTED_DEFAULTS = {
    "ENABLED": True,
    "SIGNUP_ENABLED": True,
    "PASSWORD_RESET_ENABLED": True,
    "LOGIN_URL": "/login",
    "SIGNUP_URL": "/register",
    "PASSWORD_RESET_URL": "/password-reset",
    "PASSWORD_RESET_CONFIRM_URL": "/password-reset/confirm/[uid]/[key]",
    "LOGIN_REDIRECT_URL": "/",
    "LOGOUT_REDIRECT_URL": "/login",
    "SIGNUP_REDIRECT_URL": "/login",
    "REDIRECT_AUTHENTICATED_USER": "/",
    "EMAIL_REQUIRED": False,
    "USERNAME_MIN_LENGTH": 1,
    "PASSWORD_MIN_LENGTH": 8,
    "SITE_ORIGIN": None,
    "TICKET_MAX_AGE": 30,
    "SIGNIN_ATTEMPTS": 5,
    "SIGNIN_ATTEMPTS_PER_ADDRESS": 20,
    "SIGNIN_WINDOW": 60,
    "SIGNIN_MAX_LOCKOUT": 900,
    "RESET_ATTEMPTS": 3,
    "RESET_ATTEMPTS_PER_CLIENT": 10,
    "RESET_WINDOW": 3600,
    "SIGNUP_ATTEMPTS_PER_CLIENT": 10,
}


@override_settings(REFLEX_DJANGO_AUTH=None)
def test_every_default() -> None:
    settings = auth_settings()
    assert {k: v for k, v in settings.items() if k != "MESSAGES"} == EXPECTED_DEFAULTS
    assert dict(settings["MESSAGES"]) == dict(DEFAULT_MESSAGES)
    with override_settings(REFLEX_DJANGO_AUTH={}):
        assert dict(auth_settings()) == dict(settings)


def test_values_override_defaults_and_messages_merge() -> None:
    given = {
        "SIGNUP_ENABLED": False,
        "LOGIN_URL": "/signin",
        "PASSWORD_MIN_LENGTH": 12,
        "SITE_ORIGIN": "https://example.com/",
        "MESSAGES": {"login_title": "Welcome back"},
    }
    with override_settings(REFLEX_DJANGO_AUTH=given):
        settings = auth_settings()
        assert settings["SIGNUP_ENABLED"] is False
        assert settings["LOGIN_URL"] == "/signin" == login_url() == routes.LOGIN_URL
        assert settings["PASSWORD_MIN_LENGTH"] == 12
        assert settings["SITE_ORIGIN"] == "https://example.com"
        assert message("login_title") == "Welcome back"
        assert message("signup_title") == DEFAULT_MESSAGES["signup_title"]
        assert message("password_too_short", min_length=12) == "Use at least 12 characters."


def test_legacy_login_url_only_when_login_url_is_absent() -> None:
    with override_settings(REFLEX_DJANGO_LOGIN_URL="/legacy", REFLEX_DJANGO_AUTH=None):
        assert auth_setting("LOGIN_URL") == "/legacy" == login_url() == routes.LOGIN_URL
        with override_settings(REFLEX_DJANGO_AUTH={"SIGNUP_ENABLED": False}):
            assert auth_setting("LOGIN_URL") == "/legacy"
        with override_settings(REFLEX_DJANGO_AUTH={"LOGIN_URL": "/signin"}):
            assert auth_setting("LOGIN_URL") == "/signin"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"LOGIN_URLS": "/x"}, r"unknown key 'LOGIN_URLS'; valid keys are EMAIL_REQUIRED, ENABLED"),
        ({"A": 1, "B": 2}, r"unknown keys 'A', 'B'"),
        (
            {"MESSAGES": {"login_titel": "x"}},
            r"\['MESSAGES'\]: unknown key 'login_titel'; valid keys are",
        ),
        ({"LOGIN_URL": "login"}, r"'LOGIN_URL'\] must be a path on this site"),
        ({"LOGIN_REDIRECT_URL": "//evil.example"}, r"'LOGIN_REDIRECT_URL'\] must be a path"),
        (
            {"REDIRECT_AUTHENTICATED_USER": "/\\evil.example"},
            r"REDIRECT_AUTHENTICATED_USER.*or None",
        ),
        ({"PASSWORD_RESET_CONFIRM_URL": "/reset/[uid]/[tok]"}, r"\[uid\] and \[key\]"),
        ({"USERNAME_MIN_LENGTH": 0}, r"'USERNAME_MIN_LENGTH'\] must be a positive whole number"),
        ({"PASSWORD_MIN_LENGTH": "8"}, r"'PASSWORD_MIN_LENGTH'\] must be a positive whole number"),
        ({"TICKET_MAX_AGE": 0}, r"'TICKET_MAX_AGE'\] must be a positive whole number"),
        ({"SITE_ORIGIN": "example.com"}, r"'SITE_ORIGIN'\] must be an origin"),
        ({"SITE_ORIGIN": "https://example.com/app"}, r"'SITE_ORIGIN'\] must be an origin"),
    ],
)
def test_bad_settings_are_errors(given: dict, expected: str) -> None:
    with override_settings(REFLEX_DJANGO_AUTH=given):
        with pytest.raises(ImproperlyConfigured, match=expected):
            auth_settings()
        with pytest.raises(ImproperlyConfigured, match=expected):
            login_url()  # the event-handler guard reads the same settings
        [error] = check_auth_settings()
        assert error.id == "reflex_django.E001" and error.level >= 40


def test_redirect_authenticated_user_may_be_none() -> None:
    with override_settings(REFLEX_DJANGO_AUTH={"REDIRECT_AUTHENTICATED_USER": None}):
        assert auth_setting("REDIRECT_AUTHENTICATED_USER") is None


def test_routes() -> None:
    assert routes.SIGNUP_URL == "/register"
    assert routes.PASSWORD_RESET_CONFIRM_URL == "/password-reset/confirm/[uid]/[key]"
    assert routes.password_reset_confirm_path("MQ", "abc-123") == "/password-reset/confirm/MQ/abc-123"
    assert routes.match_password_reset_confirm("/password-reset/confirm/MQ/abc-123/") == (
        "MQ",
        "abc-123",
    )
    assert routes.match_password_reset_confirm("/password-reset/confirm/MQ") is None
    assert routes.match_password_reset_confirm("/password-reset/other/MQ/x") is None
    with pytest.raises(AttributeError):
        routes.NOPE  # noqa: B018
    with override_settings(REFLEX_DJANGO_AUTH={"PASSWORD_RESET_CONFIRM_URL": "/r/[key]/x/[uid]"}):
        assert routes.password_reset_confirm_path("u/1", "k") == "/r/k/x/u%2F1"
        assert routes.match_password_reset_confirm("/r/k/x/u%2F1") == ("u/1", "k")


def test_system_checks() -> None:
    assert check_auth_settings() == []  # the test project is complete
    with override_settings(REFLEX_DJANGO_AUTH={}):
        assert [c.id for c in check_auth_settings()] == ["reflex_django.W001"]
        with override_settings(REFLEX_DJANGO_AUTH={"PASSWORD_RESET_ENABLED": False}):
            assert check_auth_settings() == []
    with override_settings(ROOT_URLCONF="rdj_testproject.urls_without_reflex_django"):
        assert check_auth_settings() == []  # the package serves its views itself
    with override_settings(REFLEX_DJANGO_AUTH={"ENABLED": False}):
        assert check_auth_settings() == []


def test_reflex_django_after_the_admin_is_a_warning_with_the_fix():
    from reflex_django.checks import app_order_problems, check_app_order

    assert check_app_order() == []  # the test project lists reflex_django first
    admin_first = ["django.contrib.admin", "django.contrib.auth", "reflex_django"]
    [warning] = app_order_problems(admin_first)
    assert warning.id == "reflex_django.W002"
    assert warning.hint == "move 'reflex_django' above 'django.contrib.admin' in INSTALLED_APPS"
    assert app_order_problems(["reflex_django", "django.contrib.admin"]) == []
    assert app_order_problems(["django.contrib.auth", "reflex_django"]) == []  # no admin, no clash
