"""ReflexDjangoPlugin: rxconfig-time boot and env contract, compile hooks, vite patch."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import override_settings
from reflex_base import constants
from reflex_base.utils.exceptions import ConfigError

from reflex_django import plugin as plugin_module
from reflex_django._find_bin import find_reflex_django_bin
from reflex_django.middleware import DjangoEventBridge
from reflex_django.plugin import ReflexDjangoPlugin, patch_vite_config
from reflex_harness import fresh_app

HERE = Path(__file__).resolve().parent
ENV = (
    "REFLEX_DJANGO_PREFIXES_ADMIN",
    "REFLEX_DJANGO_PREFIXES_BACKEND",
    "REFLEX_DJANGO_PREFIXES_EXTRA",
    "REFLEX_DJANGO_PREFIXES_STATIC",
    "REFLEX_DJANGO_RUN",
)
# The original plugin's names, and which variables the plugin set itself.
MORE_ENV = ("REFLEX_DJANGO_ADMIN_PREFIX", "REFLEX_DJANGO_API_PREFIX", "REFLEX_DJANGO_PLUGIN_EXPORTED")


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*ENV, *MORE_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(plugin_module, "_logged", set())


def _vite_config_js() -> str:
    """The text Reflex itself generates for `.web/vite.config.js`."""
    from reflex.utils import frontend_skeleton
    from reflex_base.config import get_config

    return frontend_skeleton._compile_vite_config(get_config())


def test_prefixes_are_exported_for_django_and_the_cli() -> None:
    ReflexDjangoPlugin(
        settings_module="rdj_testproject.settings",
        backend_prefix="api/",
        admin_prefix="/staff//admin/",
        extra_prefixes=("/hooks", "media"),
    )
    assert {name: os.environ.get(name) for name in ENV} == {
        "REFLEX_DJANGO_PREFIXES_ADMIN": "/staff/admin",
        "REFLEX_DJANGO_PREFIXES_BACKEND": "/api",
        "REFLEX_DJANGO_PREFIXES_EXTRA": "/hooks,/media",
        "REFLEX_DJANGO_PREFIXES_STATIC": "/static",  # from STATIC_URL
        "REFLEX_DJANGO_RUN": None,
    }


def test_values_in_the_environment_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFLEX_DJANGO_PREFIXES_ADMIN", "/from-cli")
    monkeypatch.setenv("REFLEX_DJANGO_PREFIXES_STATIC", "/assets")
    plugin = ReflexDjangoPlugin(admin_prefix="/admin", extra_prefixes="/one")
    assert os.environ["REFLEX_DJANGO_PREFIXES_ADMIN"] == "/from-cli"
    assert os.environ["REFLEX_DJANGO_PREFIXES_STATIC"] == "/assets"
    assert os.environ["REFLEX_DJANGO_PREFIXES_EXTRA"] == "/one"
    assert "REFLEX_DJANGO_PREFIXES_BACKEND" not in os.environ
    assert plugin.extra_prefixes == ("/one",)


def test_an_edited_rxconfig_takes_effect_on_reload(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reflex's hot reload runs rxconfig.py again in a process that inherited the
    first plugin's variables: those are replaced (and dropped when no longer given),
    while a value the user or `reflex-django run` set still wins."""
    ReflexDjangoPlugin(admin_prefix="/admin", backend_prefix="/api", extra_prefixes=("/a",))
    assert os.environ["REFLEX_DJANGO_API_PREFIX"] == "/api"
    monkeypatch.setenv("REFLEX_DJANGO_PREFIXES_EXTRA", "/mine")  # set by the user meanwhile
    ReflexDjangoPlugin(admin_prefix="/staff")
    assert os.environ["REFLEX_DJANGO_PREFIXES_ADMIN"] == "/staff"
    assert os.environ["REFLEX_DJANGO_ADMIN_PREFIX"] == "/staff"  # the original plugin's name
    assert "REFLEX_DJANGO_PREFIXES_BACKEND" not in os.environ
    assert "REFLEX_DJANGO_API_PREFIX" not in os.environ
    assert os.environ["REFLEX_DJANGO_PREFIXES_EXTRA"] == "/mine"


@pytest.mark.parametrize("static_url", ["https://cdn.example.com/static/", "//cdn.example.com/s/", "/"])
def test_static_prefix_only_for_a_local_path(static_url: str) -> None:
    with override_settings(STATIC_URL=static_url):
        ReflexDjangoPlugin()
    assert "REFLEX_DJANGO_PREFIXES_STATIC" not in os.environ


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"admin_prefix": "/"}, r"admin_prefix='/'\): a prefix cannot be empty"),
        (
            {"backend_prefix": "/_event/x"},
            r"backend_prefix='/_event/x'\): '/_event/x' collides with Reflex's reserved path '/_event'\nhint: ",
        ),
        ({"extra_prefixes": ["/ok", "/a/../b"]}, r"extra_prefixes='/a/../b'\): .*`.` and `..` segments"),
        ({"extra_prefixes": "/a b"}, r"extra_prefixes='/a b'\): .*' ' is not allowed"),
    ],
)
def test_bad_prefixes_are_config_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ReflexDjangoPlugin(**kwargs)


def test_rxconfig_load_boots_django(tmp_path: Path) -> None:
    """In a fresh interpreter, Reflex's own config loader runs rxconfig.py: afterwards
    DJANGO_SETTINGS_MODULE is set, Django is ready and models import."""
    (tmp_path / "rxconfig.py").write_text(
        textwrap.dedent("""
        import reflex as rx
        from reflex_django import ReflexDjangoPlugin

        config = rx.Config(
            app_name="probe",
            plugins=[ReflexDjangoPlugin(settings_module="rdj_testproject.settings",
                                        backend_prefix="/api")],
        )
    """)
    )
    probe = textwrap.dedent("""
        import json, os
        from reflex_base.config import get_config
        get_config()
        from django.apps import apps
        from django.contrib.auth.models import User
        print(json.dumps({
            "settings": os.environ.get("DJANGO_SETTINGS_MODULE"),
            "ready": apps.ready,
            "backend": os.environ.get("REFLEX_DJANGO_PREFIXES_BACKEND"),
            "static": os.environ.get("REFLEX_DJANGO_PREFIXES_STATIC"),
        }))
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", *ENV)}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), str(HERE)])
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "settings": "rdj_testproject.settings",
        "ready": True,
        "backend": "/api",
        "static": "/static",
    }


def test_bridge_and_dispatcher_are_installed_once(caplog: pytest.LogCaptureFixture) -> None:
    app = fresh_app()
    plugin = ReflexDjangoPlugin()
    with caplog.at_level(logging.WARNING, logger="reflex_django"):
        plugin.post_compile(app=app)
        plugin.post_compile(app=app)  # a second compile (hot reload)
    bridges = [m for m in app._middlewares if isinstance(m, DjangoEventBridge)]
    assert len(bridges) == 1 and app._middlewares[0] is bridges[0]
    # Not under `reflex-django run`: Django is served inside Reflex, by one dispatcher.
    [dispatcher] = app.api_transformer
    assert dispatcher.backend_prefixes == ("/admin", "/static", "/_reflex_django")
    [record] = caplog.records  # said once
    assert "inside Reflex" in record.getMessage()
    assert "/admin" in record.getMessage() and "/static" in record.getMessage()


def test_under_reflex_django_run_the_front_door_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFLEX_DJANGO_RUN", "1")
    app = fresh_app()
    ReflexDjangoPlugin().post_compile(app=app)
    assert app.api_transformer is None  # no double dispatch
    assert [type(m) for m in app._middlewares] == [DjangoEventBridge]


def test_a_users_own_api_transformer_is_kept() -> None:
    app = fresh_app()

    def mine(asgi):
        return asgi

    app.api_transformer = mine
    ReflexDjangoPlugin(extra_prefixes=("/billing",)).post_compile(app=app)
    first, dispatcher = app.api_transformer
    assert first is mine
    assert "/billing" in dispatcher.backend_prefixes


def test_bridge_can_be_left_out(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setenv("REFLEX_DJANGO_RUN", "1")
    app = fresh_app()
    with caplog.at_level(logging.INFO, logger="reflex_django"):
        ReflexDjangoPlugin(install_event_bridge=False).post_compile(app=app)
    assert not app._middlewares
    assert not caplog.records


def test_a_users_own_dispatcher_does_not_stop_the_plugins() -> None:
    """A 0.2.3 app that composed `make_dispatcher` by hand for its API still gets the
    admin, static files and the package's views from the plugin."""
    from reflex_django.asgi import build_django_asgi, make_dispatcher

    app = fresh_app()
    mine = make_dispatcher(build_django_asgi(), backend_prefixes=("/api",))
    app.api_transformer = mine
    ReflexDjangoPlugin().post_compile(app=app)
    first, ours = app.api_transformer
    assert first is mine and "/admin" in ours.backend_prefixes


def _modify_tasks(plugin: ReflexDjangoPlugin | None = None) -> list[tuple[str, Callable[[str], str]]]:
    tasks: list[tuple[str, Callable[[str], str]]] = []
    (plugin or ReflexDjangoPlugin()).pre_compile(
        add_modify_task=lambda path, fn: tasks.append((path, fn)),
        add_save_task=lambda *a, **k: None,
        radix_themes_plugin=None,
        unevaluated_pages=[],
    )
    return tasks


def test_pre_compile_registers_the_vite_task(monkeypatch: pytest.MonkeyPatch) -> None:
    from reflex.compiler.utils import resolve_path_of_web_dir

    monkeypatch.setenv("REFLEX_DJANGO_RUN", "1")  # the rules target the front door
    [(path, fn)] = _modify_tasks()
    assert fn is patch_vite_config
    # Reflex matches modify tasks to its outputs by resolved path.
    assert resolve_path_of_web_dir(path) == resolve_path_of_web_dir(constants.ReactRouter.VITE_CONFIG_FILE)


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "reflex-django"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_missing_binary_warns_once(monkeypatch, tmp_path: Path, caplog) -> None:
    monkeypatch.setenv("REFLEX_DJANGO_BIN", str(tmp_path / "nope"))
    text = _vite_config_js()
    with caplog.at_level(logging.WARNING, logger="reflex_django"):
        assert patch_vite_config(text) == text
        assert patch_vite_config(text) == text
    [record] = caplog.records
    assert "vite.config.js left unchanged" in record.getMessage()
    assert "No such file" in record.getMessage()


def test_failing_binary_warns_with_its_message(monkeypatch, tmp_path: Path, caplog) -> None:
    monkeypatch.setenv("REFLEX_DJANGO_BIN", _script(tmp_path, "echo 'error: no server block' >&2; exit 2"))
    with caplog.at_level(logging.WARNING, logger="reflex_django"):
        assert patch_vite_config("text") == "text"
    assert "error: no server block" in caplog.records[0].getMessage()


def test_empty_output_is_not_written(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REFLEX_DJANGO_BIN", _script(tmp_path, "cat >/dev/null"))
    assert patch_vite_config("text") == "text"


def test_text_goes_through_vite_patch(monkeypatch, tmp_path: Path) -> None:
    """Our half of the contract: `<bin> vite patch`, text on stdin, result on stdout."""
    stand_in = _script(tmp_path, '[ "$1 $2" = "vite patch" ] || exit 9\nsed "s/defineConfig/PATCHED/"')
    monkeypatch.setenv("REFLEX_DJANGO_BIN", stand_in)
    text = _vite_config_js()
    assert patch_vite_config(text) == text.replace("defineConfig", "PATCHED")


def test_in_process_vite_rules_target_reflex_backend(monkeypatch, tmp_path: Path) -> None:
    """Under plain `reflex run` the Vite rules send Django's prefixes to Reflex's backend
    (where the dispatcher is), with the plugin's prefixes."""
    stand_in = _script(tmp_path, 'echo "$@"')
    monkeypatch.setenv("REFLEX_DJANGO_BIN", stand_in)
    [(_, task)] = _modify_tasks(ReflexDjangoPlugin(extra_prefixes=("/billing",)))
    assert task("text").split() == [
        "vite",
        "patch",
        "--target",
        "http://127.0.0.1:8000",
        "--prefix",
        "/admin",
        "--prefix",
        "/static",
        "--prefix",
        "/billing",
        "--prefix",
        "/_reflex_django",
    ]


def test_real_binary_patches_reflex_vite_config(monkeypatch, tmp_path: Path) -> None:
    """Through the real `reflex-django vite patch` (needs the Rust side of it)."""
    try:
        binary = find_reflex_django_bin()
    except FileNotFoundError:
        pytest.skip("no reflex-django binary; set REFLEX_DJANGO_BIN to run this test")
    monkeypatch.setenv("REFLEX_DJANGO_BIN", binary)
    (tmp_path / "rxconfig.py").write_text(
        "import reflex as rx\nfrom reflex_django import ReflexDjangoPlugin\n"
        "config = rx.Config(app_name='probe', plugins=[ReflexDjangoPlugin("
        "settings_module='rdj_testproject.settings', backend_prefix='/api')])\n"
    )
    monkeypatch.chdir(tmp_path)
    plugin = ReflexDjangoPlugin(settings_module="rdj_testproject.settings", backend_prefix="/api")
    text = _vite_config_js()
    [(_, task)] = _modify_tasks(plugin)
    patched = task(text)
    assert patched != text, f"`{binary} vite patch` did not patch (see the warning above)"
    assert "/admin" in patched and "/api" in patched
    assert "defineConfig" in patched
    assert 'target: "http://127.0.0.1:8000"' in patched  # Reflex's backend, Django inside
