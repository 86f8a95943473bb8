"""The oldest Django the package declares (`django>=6.0`): its app loads, its checks run,
and the admin it overrides (`admin/base.html`) renders. The suite's venv has the newest
Django, so this test makes a venv of its own with Django 6.0 from PyPI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from e2e_support import REPO

SITE = """
import django
from django.conf import settings

settings.configure(
    SECRET_KEY="a-key-for-this-test-only-" + "x" * 30,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "reflex_django",  # before the admin, as `init` writes it
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    TEMPLATES=[{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": [
            "django.template.context_processors.request",
            "django.contrib.auth.context_processors.auth",
            "django.contrib.messages.context_processors.messages",
        ]},
    }],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    STATIC_URL="/static/",
    REFLEX_DJANGO_AUTH={"PASSWORD_RESET_ENABLED": False},
)
django.setup()

from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
call_command("migrate", verbosity=0)
call_command("check", fail_level="WARNING")
page = Client().get("/admin/login/")
print(django.get_version(), page.status_code, "django-admin-theme" in page.content.decode())
"""


def run(args: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False, **kwargs)


def test_the_oldest_declared_django_loads_the_app_and_renders_the_admin(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    made = run([sys.executable, "-m", "venv", venv])
    assert made.returncode == 0, made.stderr
    got = run([venv / "bin" / "pip", "install", "-q", "django>=6.0,<6.1"])
    assert got.returncode == 0, got.stdout + got.stderr
    site = run([venv / "bin" / "python", "-c", SITE], env={"PYTHONPATH": str(REPO / "python")}, cwd=tmp_path)
    assert site.returncode == 0, site.stdout + site.stderr
    assert "System check identified no issues" in site.stdout, site.stdout
    version, status, themed = site.stdout.splitlines()[-1].split()
    assert version.startswith("6.0."), site.stdout
    assert (status, themed) == ("200", "True"), site.stdout
