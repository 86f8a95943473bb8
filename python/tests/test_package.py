"""The package surface: cheap import, lazy re-exports, configure_django, `python -m`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REFLEX_DJANGO_BIN")}
    base["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), str(HERE)])
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_is_cheap() -> None:
    done = _python("""
        import sys, reflex_django, reflex_django.apps
        assert "reflex" not in sys.modules, "reflex imported"
        print(reflex_django.__version__)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_the_django_process_never_imports_reflex() -> None:
    """The hand-off view, its URLs and the system checks run in the Django process."""
    done = _python(
        """
        import sys
        from reflex_django.conf import configure_django
        configure_django()
        import reflex_django.urls, reflex_django.views, reflex_django.checks
        from reflex_django.auth import accounts, conf, routes
        from django.core.management import call_command
        call_command("check")
        assert "reflex" not in sys.modules, "reflex imported"
        """,
        DJANGO_SETTINGS_MODULE="rdj_testproject.settings",
    )
    assert done.returncode == 0, done.stderr


def test_lazy_reexports() -> None:
    import reflex_django
    from reflex_django import auth_state, context, i18n_state, middleware, plugin, reflex_context

    assert reflex_django.ReflexDjangoPlugin is plugin.ReflexDjangoPlugin
    assert reflex_django.current_user is context.current_user
    assert reflex_django.current_language is context.current_language
    assert reflex_django.DjangoEventBridge is middleware.DjangoEventBridge
    assert reflex_django.DjangoUserState is auth_state.DjangoUserState
    assert reflex_django.DjangoI18nState is i18n_state.DjangoI18nState
    assert reflex_django.DjangoContextState is reflex_context.DjangoContextState
    assert set(reflex_django.__all__) == {"__version__", *reflex_django._EXPORTS}
    assert set(reflex_django.__all__) <= set(dir(reflex_django))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        reflex_django.nope  # noqa: B018


def test_configure_django_is_idempotent() -> None:
    from django.apps import apps

    from reflex_django.conf import configure_django

    configure_django()
    configure_django("some.other.settings")  # the environment's value wins; no-op now
    assert apps.ready
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "rdj_testproject.settings"


def test_configure_django_reentrant_and_threaded() -> None:
    done = _python("""
        import threading
        from reflex_django.conf import configure_django
        from django.apps import apps

        results = []
        def boot():
            configure_django("rdj_testproject.settings_reentrant")
            results.append(apps.ready)
        threads = [threading.Thread(target=boot) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        assert results == [True] * 8, results
        assert apps.is_installed("rdj_testproject.reentrant")
    """)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("module", "message"),
    [
        # Without any settings module, reflex_django.default_settings is used (see
        # test_original_api_core.py).
        (
            "nosuchproject.settings",
            "cannot import the Django settings module 'nosuchproject.settings'",
        ),
    ],
)
def test_configure_django_settings_errors(module: str, message: str) -> None:
    done = _python(
        """
        from django.core.exceptions import ImproperlyConfigured
        from reflex_django.conf import configure_django
        try:
            configure_django()
        except ImproperlyConfigured as exc:
            print(exc)
        """,
        **({"DJANGO_SETTINGS_MODULE": module} if module else {}),
    )
    assert done.returncode == 0, done.stderr
    assert message in done.stdout


def _module_main(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "REFLEX_DJANGO_BIN"}
    return subprocess.run(
        [sys.executable, "-m", "reflex_django", *args],
        env={**base, "PYTHONPATH": str(HERE.parent), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_python_m_runs_the_binary() -> None:
    """Found the way an installed wheel finds it: next to the interpreter."""
    done = _module_main("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("reflex-django ")


@pytest.mark.parametrize("how", ["override", "not-installed"])
def test_python_m_without_binary_is_one_clean_line(tmp_path: Path, how: str) -> None:
    python = sys.executable
    env = {"PATH": str(tmp_path)}
    if how == "override":
        env["REFLEX_DJANGO_BIN"] = str(tmp_path / "missing")
    else:
        # A fresh venv of this Python: no binary next to its interpreter.
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
        python = str(tmp_path / "venv" / "bin" / "python")
    base = {k: v for k, v in os.environ.items() if k != "REFLEX_DJANGO_BIN"}
    done = subprocess.run(
        [python, "-m", "reflex_django", "--version"],
        env={**base, "PYTHONPATH": str(HERE.parent), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("reflex-django: error: ")
