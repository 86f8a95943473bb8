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
            if "sqlite" in db.get("ENGINE", "") and name and not name.startswith(":memory:") and "mode=memory" not in name:
                databases.append(os.path.abspath(name))
        return {
            "settings_file": getattr(sys.modules.get(settings.SETTINGS_MODULE), "__file__", None),
            "static_url": settings.STATIC_URL,
            "debug": bool(settings.DEBUG),
            "sqlite_files": databases,
            "media_root": os.path.abspath(str(settings.MEDIA_ROOT)) if settings.MEDIA_ROOT else None,
            "apps": [{"label": a.label, "path": a.path} for a in apps.get_app_configs()],
        }
    except BaseException as exc:  # the project's settings may raise anything, SystemExit too
        return {"error": f"{type(exc).__name__}: {exc}"}


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
