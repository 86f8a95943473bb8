"""reflex-django: Django (ORM, admin, sessions, auth) and Reflex, together.

The `reflex-django` command (a Rust binary shipped in the same wheel) runs both;
this package holds what must run inside the Reflex process. It is also a Django app
(`INSTALLED_APPS = [..., "reflex_django"]`), so importing it stays cheap: the names
below load Reflex and Django only when first used.

Every name that reflex-django 0.2.3 exported from here still is, from the same module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reflex_django._lazy import lazy_exports

if TYPE_CHECKING:
    __version__: str

    from reflex_django.admin import register as register_admin
    from reflex_django.asgi import build_django_asgi, make_dispatcher
    from reflex_django.auth import pages as auth_pages
    from reflex_django.auth import routes as auth_routes
    from reflex_django.auth.decorators import login_required
    from reflex_django.auth.registry import add_auth_pages, autoload
    from reflex_django.auth.settings import AuthSettings, get_auth_settings
    from reflex_django.auth.state import DjangoAuthState
    from reflex_django.auth_changes import auth_changed
    from reflex_django.auth_state import DjangoUserState, user_snapshot
    from reflex_django.authz import (
        ReflexDjangoAuthError,
        auser_has_perm,
        django_login_required,
        group_required,
        permission_required,
        require_login_user,
        staff_required,
        superuser_required,
        user_passes_test,
    )
    from reflex_django.cli import django_cli
    from reflex_django.conf import configure_django
    from reflex_django.context import (
        begin_event_request,
        current_language,
        current_request,
        current_session,
        current_user,
        end_event_request,
    )
    from reflex_django.i18n_state import DjangoI18nState
    from reflex_django.middleware import DjangoEventBridge
    from reflex_django.model import Model
    from reflex_django.plugin import ReflexDjangoPlugin
    from reflex_django.reflex_context import (
        DjangoContextState,
        builtin_i18n_context,
        builtin_user_context,
        collect_reflex_context,
    )
    from reflex_django.session_js import (
        session_cookie_clear_js,
        session_cookie_name_and_suffix,
        session_cookie_set_js,
    )

# Name -> the module that defines it (the modules of reflex-django 0.2.3).
_EXPORTS = {
    "ReflexDjangoPlugin": "reflex_django.plugin",
    "configure_django": "reflex_django.conf",
    "build_django_asgi": "reflex_django.asgi",
    "make_dispatcher": "reflex_django.asgi",
    "django_cli": "reflex_django.cli",
    "current_request": "reflex_django.context",
    "current_user": "reflex_django.context",
    "current_session": "reflex_django.context",
    "current_language": "reflex_django.context",
    "begin_event_request": "reflex_django.context",
    "end_event_request": "reflex_django.context",
    "DjangoEventBridge": "reflex_django.middleware",
    "auth_changed": "reflex_django.auth_changes",
    "DjangoUserState": "reflex_django.auth_state",
    "user_snapshot": "reflex_django.auth_state",
    "DjangoI18nState": "reflex_django.i18n_state",
    "DjangoContextState": "reflex_django.reflex_context",
    "builtin_i18n_context": "reflex_django.reflex_context",
    "builtin_user_context": "reflex_django.reflex_context",
    "collect_reflex_context": "reflex_django.reflex_context",
    "ReflexDjangoAuthError": "reflex_django.authz",
    "auser_has_perm": "reflex_django.authz",
    "django_login_required": "reflex_django.authz",
    "require_login_user": "reflex_django.authz",
    "group_required": "reflex_django.authz",
    "permission_required": "reflex_django.authz",
    "staff_required": "reflex_django.authz",
    "superuser_required": "reflex_django.authz",
    "user_passes_test": "reflex_django.authz",
    "Model": "reflex_django.model",
    "register_admin": "reflex_django.admin",
    "session_cookie_clear_js": "reflex_django.session_js",
    "session_cookie_name_and_suffix": "reflex_django.session_js",
    "session_cookie_set_js": "reflex_django.session_js",
    "AuthSettings": "reflex_django.auth.settings",
    "get_auth_settings": "reflex_django.auth.settings",
    "DjangoAuthState": "reflex_django.auth.state",
    "add_auth_pages": "reflex_django.auth.registry",
    "autoload": "reflex_django.auth.registry",
    "login_required": "reflex_django.auth.decorators",
    "auth_pages": "reflex_django.auth.pages",
    "auth_routes": "reflex_django.auth.routes",
}

# Names that differ from the attribute they stand for (None: the module itself).
_RENAMED: dict[str, str | None] = {
    "register_admin": "register",
    "auth_pages": None,
    "auth_routes": None,
}

__all__ = [
    "AuthSettings",
    "DjangoAuthState",
    "DjangoContextState",
    "DjangoEventBridge",
    "DjangoI18nState",
    "DjangoUserState",
    "Model",
    "ReflexDjangoAuthError",
    "ReflexDjangoPlugin",
    "__version__",
    "add_auth_pages",
    "auser_has_perm",
    "auth_changed",
    "auth_pages",
    "auth_routes",
    "autoload",
    "begin_event_request",
    "build_django_asgi",
    "builtin_i18n_context",
    "builtin_user_context",
    "collect_reflex_context",
    "configure_django",
    "current_language",
    "current_request",
    "current_session",
    "current_user",
    "django_cli",
    "django_login_required",
    "end_event_request",
    "get_auth_settings",
    "group_required",
    "login_required",
    "make_dispatcher",
    "permission_required",
    "register_admin",
    "require_login_user",
    "session_cookie_clear_js",
    "session_cookie_name_and_suffix",
    "session_cookie_set_js",
    "staff_required",
    "superuser_required",
    "user_passes_test",
    "user_snapshot",
]

_lazy_getattr, _lazy_dir = lazy_exports(__name__, _EXPORTS, globals(), _RENAMED)


def __dir__() -> list[str]:
    return sorted({*_lazy_dir(), "__version__"})


def _version() -> str:
    # importlib.metadata costs tens of milliseconds to import: only when asked.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("reflex-django")
    except PackageNotFoundError:  # running from a source checkout
        return "0.0.0+source"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value = globals()["__version__"] = _version()
        return value
    return _lazy_getattr(name)
