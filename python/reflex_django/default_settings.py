"""Development settings for projects that name no Django settings module.

`configure_django()` falls back to this module when neither `DJANGO_SETTINGS_MODULE`
nor `ReflexDjangoPlugin(settings_module=...)` says otherwise. It is enough to try the
admin, sessions and the auth pages locally; for anything else, write your own
settings (`django-admin startproject`) and point the plugin at them.

What it sets up:

- the contrib apps (admin, auth, contenttypes, sessions, messages, staticfiles) and
  `reflex_django`;
- the database from `REFLEX_DJANGO_DATABASE_URL`, else Reflex's `REFLEX_DB_URL`, else
  the `db_url="…"` literal of `rx.Config(...)` in `./rxconfig.py` (read as text: this
  module must load without importing Reflex, in the Django process too), else the
  SQLite file `reflex.db` in the current directory, Reflex's own default;
- a `SECRET_KEY` from `REFLEX_DJANGO_SECRET_KEY`, else one generated once and kept in
  `.reflex-django/secret_key` (so sessions survive restarts, and the Django and
  Reflex processes agree on it);
- URLs: the admin at `REFLEX_DJANGO_PREFIXES_ADMIN` (else `REFLEX_DJANGO_ADMIN_PREFIX`,
  else `/admin`) and reflex-django's own views under `/_reflex_django/`; this module
  is its own `ROOT_URLCONF`;
- every `REFLEX_DJANGO_*` setting the package reads, at its default.

`REFLEX_DJANGO_AUTO_SETTINGS = True` marks these settings, so code (and `check`) can
tell them from a real project's.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import django

_HERE = Path.cwd()


def _truthy(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() not in {"0", "false", "no", "off", ""}


def _secret_key() -> str:
    given = os.environ.get("REFLEX_DJANGO_SECRET_KEY")
    if given:
        return given
    path = _HERE / ".reflex-django" / "secret_key"
    try:
        existing = path.read_text(encoding="utf-8").strip()
        if existing:
            return existing
    except OSError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then linked into place: a process that
        # reads the file never sees it empty, and the first one to link wins.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(key + "\n")
            os.link(temporary, path)
        finally:
            os.unlink(temporary)
    except FileExistsError:  # another process linked its key first: use theirs
        return path.read_text(encoding="utf-8").strip() or key
    except OSError:
        pass  # read-only directory: a key for this process only
    return key


_ENGINES = {
    "sqlite": "django.db.backends.sqlite3",
    "sqlite3": "django.db.backends.sqlite3",
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
    "mariadb": "django.db.backends.mysql",
    "oracle": "django.db.backends.oracle",
}


def database_from_url(url: str) -> dict[str, Any]:
    """A `DATABASES` entry for a database URL such as `sqlite:///app.db` or
    `postgresql+psycopg://user:pw@host:5432/name` (a `+driver` part is ignored)."""
    parts = urlsplit(url)
    scheme = parts.scheme.partition("+")[0].lower()
    engine = _ENGINES.get(scheme)
    if engine is None:
        raise ValueError(
            f"reflex-django: cannot use the database URL scheme {scheme!r}; use one of "
            f"{', '.join(sorted(_ENGINES))}, or write your own Django settings"
        )
    if engine.endswith("sqlite3"):
        # sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory:
        name = unquote(parts.path)[1:] if parts.path.startswith("/") else unquote(parts.path)
        if not name:
            name = "reflex.db"
        if name != ":memory:" and not Path(name).is_absolute():
            name = str(_HERE / name)
        return {"ENGINE": engine, "NAME": name}
    return {
        "ENGINE": engine,
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


def _admin_prefix() -> str:
    raw = os.environ.get("REFLEX_DJANGO_PREFIXES_ADMIN") or os.environ.get("REFLEX_DJANGO_ADMIN_PREFIX") or "/admin"
    return "/" + "/".join(s for s in raw.split("/") if s)


# --- reflex-django -------------------------------------------------------------------

REFLEX_DJANGO_AUTO_SETTINGS = True
REFLEX_DJANGO_ADMIN_PREFIX = _admin_prefix()
REFLEX_DJANGO_CONTEXT_PROCESSORS: tuple[str, ...] = ()
REFLEX_DJANGO_USE_TEMPLATE_CONTEXT_PROCESSORS = False
REFLEX_DJANGO_LOGIN_URL = "/login"
# The canned auth pages, at their defaults (see docs/auth.md for the keys).
REFLEX_DJANGO_AUTH: dict[str, Any] = {}
REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS = False
REFLEX_DJANGO_I18N_EVENT_BRIDGE = True

# --- Django --------------------------------------------------------------------------

SECRET_KEY = _secret_key()
DEBUG = _truthy("REFLEX_DJANGO_DEBUG", "1")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("REFLEX_DJANGO_ALLOWED_HOSTS", "*").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "reflex_django",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = os.environ.get("REFLEX_DJANGO_URLCONF", __name__)
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _rxconfig_db_url() -> str | None:
    """The `db_url="…"` literal of `rx.Config(...)` in ./rxconfig.py, read without
    importing Reflex (0.2.3's defaults used Reflex's `db_url`, Reflex's own default is
    the same SQLite file as ours)."""
    import ast

    try:
        tree = ast.parse((_HERE / "rxconfig.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "Config":
            for keyword in node.keywords:
                if keyword.arg == "db_url" and isinstance(keyword.value, ast.Constant):
                    value = keyword.value.value
                    return value if isinstance(value, str) and value else None
    return None


DATABASES = {
    "default": database_from_url(
        os.environ.get("REFLEX_DJANGO_DATABASE_URL")
        or os.environ.get("REFLEX_DB_URL")
        or _rxconfig_db_url()
        or "sqlite:///reflex.db"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
STATIC_URL = os.environ.get("REFLEX_DJANGO_STATIC_URL", "/static/")
STATIC_ROOT = os.environ.get("REFLEX_DJANGO_STATIC_ROOT", str(_HERE / ".reflex-django" / "staticfiles"))
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "noreply@localhost"


def __getattr__(name: str) -> Any:
    """`urlpatterns`, built on first use: this module is also the `ROOT_URLCONF`, and
    the admin can only be imported once Django is set up."""
    if name != "urlpatterns":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from django.contrib import admin
    from django.urls import include, path

    patterns = [path("_reflex_django/", include("reflex_django.urls"))]
    prefix = REFLEX_DJANGO_ADMIN_PREFIX.strip("/")
    if prefix:
        patterns.append(path(prefix + "/", admin.site.urls))
    globals()["urlpatterns"] = patterns
    return patterns
