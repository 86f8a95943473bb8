"""What reflex-django asks the project's Python, in one call: versions, and Django facts.

Run as `python -c <this> [--django] [--path DIR]`; prints one JSON line on stdout.
Anything the project's own code prints goes to stderr so the JSON stays parseable.
"""

import importlib.metadata
import importlib.util
import json
import os
import sys

PACKAGES = (
    ("django", "django"),
    ("reflex", "reflex"),
    ("uvicorn", "uvicorn"),
    ("granian", "granian"),
    ("reflex_django", "reflex-django"),
    ("dj_database_url", "dj-database-url"),
)


def dist_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def package(module, dist):
    try:
        importable = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        importable = False
    return {"importable": importable, "version": dist_version(dist) if importable else None}


def django_facts():
    try:
        import django
        from django.apps import apps
        from django.conf import settings

        django.setup()
        databases = []
        for db in settings.DATABASES.values():
            name = str(db.get("NAME") or "")
            in_memory = name.startswith(":memory:") or "mode=memory" in name
            if "sqlite" in db.get("ENGINE", "") and name and not in_memory:
                databases.append(os.path.abspath(name))
        static_root = getattr(settings, "STATIC_ROOT", None)
        return {
            "settings_file": getattr(sys.modules.get(settings.SETTINGS_MODULE), "__file__", None),
            "static_url": settings.STATIC_URL,
            "static_root": os.path.abspath(str(static_root)) if static_root else None,
            "debug": bool(settings.DEBUG),
            "sqlite_files": databases,
            "database_engines": sorted({str(db.get("ENGINE", "")) for db in settings.DATABASES.values()}),
            "media_root": os.path.abspath(str(settings.MEDIA_ROOT)) if settings.MEDIA_ROOT else None,
            "apps": [{"label": a.label, "path": a.path} for a in apps.get_app_configs()],
            "security": security_facts(settings),
        }
    except BaseException as exc:  # the project's settings may raise anything, SystemExit too
        return {"error": f"{type(exc).__name__}: {exc}"}


def weak_secret_key(key):
    """Why SECRET_KEY is unfit for production (Django's own test, check W009), or None.

    The key itself never leaves this process.
    """
    key = str(key or "")
    if not key:
        return "it is empty"
    if key.startswith("django-insecure"):
        return "it is the insecure key Django's startproject makes"
    if len(key) < 50:
        return f"it has {len(key)} characters; use at least 50"
    if len(set(key)) < 5:
        return "it has fewer than 5 different characters"
    return None


_KEY_DIGEST = (
    "import hashlib, django; django.setup(); from django.conf import settings; "
    "print(hashlib.blake2b(str(settings.SECRET_KEY).encode(), digest_size=8).hexdigest())"
)


def secret_key_changes(key):
    """Whether another process gets another SECRET_KEY (one made at random when the
    settings load): asked in production only, where replicas and workers must share
    it. None when the other process fails (its error shows elsewhere)."""
    if os.environ.get("REFLEX_DJANGO_ENV") != "prod":
        return None
    import hashlib
    import subprocess

    mine = hashlib.blake2b(str(key).encode(), digest_size=8).hexdigest()
    try:
        other = subprocess.run([sys.executable, "-c", _KEY_DIGEST], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = other.stdout.split()
    if other.returncode != 0 or not lines:
        return None
    return lines[-1] != mine


def security_facts(settings):
    key = getattr(settings, "SECRET_KEY", "")
    return {
        "weak_secret_key": weak_secret_key(key),
        "secret_key_changes": secret_key_changes(key),
        "allowed_hosts": [str(h) for h in settings.ALLOWED_HOSTS],
        "csrf_trusted_origins": [str(o) for o in getattr(settings, "CSRF_TRUSTED_ORIGINS", [])],
        "session_cookie_secure": bool(settings.SESSION_COOKIE_SECURE),
        "session_cookie_httponly": bool(settings.SESSION_COOKIE_HTTPONLY),
        "csrf_cookie_secure": bool(settings.CSRF_COOKIE_SECURE),
    }


def main(argv):
    if "--path" in argv:
        sys.path.insert(0, argv[argv.index("--path") + 1])
    report = {
        "python": ".".join(map(str, sys.version_info[:3])),
        "executable": sys.executable,
        "packages": {module: package(module, dist) for module, dist in PACKAGES},
    }
    if "--django" in argv:
        real_stdout, sys.stdout = sys.stdout, sys.stderr
        try:
            report["django"] = django_facts()
        finally:
            sys.stdout = real_stdout
    print(json.dumps(report))


main(sys.argv)
