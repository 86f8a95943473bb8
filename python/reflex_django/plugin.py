"""`ReflexDjangoPlugin`: boots Django when `rxconfig.py` loads and wires it into Reflex."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reflex_base.plugins.base import Plugin
from reflex_base.utils.exceptions import ConfigError

from reflex_django.conf import configure_django, setting

if TYPE_CHECKING:
    from typing import Unpack

    from reflex_base.plugins.base import PostCompileContext, PreCompileContext

__all__ = ["ReflexDjangoPlugin"]

logger = logging.getLogger(__name__)

# The environment contract shared with the `reflex-django` CLI (its config keys
# `prefixes.*`); `reflex-django run` exports the resolved values, which win.
ENV_ADMIN = "REFLEX_DJANGO_PREFIXES_ADMIN"
ENV_BACKEND = "REFLEX_DJANGO_PREFIXES_BACKEND"
ENV_EXTRA = "REFLEX_DJANGO_PREFIXES_EXTRA"
ENV_STATIC = "REFLEX_DJANGO_PREFIXES_STATIC"
ENV_UNDER_RUN = "REFLEX_DJANGO_RUN"

# Paths Reflex serves itself; the CLI refuses prefixes at or under them.
_REFLEX_PATHS = ("/_event", "/_upload", "/_health", "/ping", "/_all_routes", "/auth-codespace")
_logged: set[str] = set()


class ReflexDjangoPlugin(Plugin):
    """Run Django inside the Reflex process; see `docs/python-api.md`.

    `reflex-django run` reads these arguments from `rxconfig.py` when they are
    literals, so the proxy and this plugin agree on the prefixes.
    """

    def __init__(
        self,
        settings_module: str | None = None,
        backend_prefix: str = "",
        admin_prefix: str = "/admin",
        extra_prefixes: Iterable[str] | str = (),
        install_event_bridge: bool = True,
    ) -> None:
        if isinstance(extra_prefixes, str):
            extra_prefixes = [extra_prefixes]
        self.settings_module = settings_module
        self.admin_prefix = _prefix(admin_prefix, "admin_prefix")
        self.backend_prefix = _prefix(backend_prefix, "backend_prefix") if backend_prefix else ""
        self.extra_prefixes = tuple(_prefix(p, "extra_prefixes") for p in extra_prefixes)
        self.install_event_bridge = install_event_bridge
        # Prefixes first: Django settings may read them.
        os.environ.setdefault(ENV_ADMIN, self.admin_prefix)
        if self.backend_prefix:
            os.environ.setdefault(ENV_BACKEND, self.backend_prefix)
        if self.extra_prefixes:
            os.environ.setdefault(ENV_EXTRA, ",".join(self.extra_prefixes))
        configure_django(settings_module)
        static = _static_prefix(setting("STATIC_URL"))
        if static:
            os.environ.setdefault(ENV_STATIC, static)

    def pre_compile(self, **context: Unpack[PreCompileContext]) -> None:
        # Reflex resolves this name against `.web`, and applies the task to the
        # text it generated before writing it: the patched file never flickers.
        context["add_modify_task"]("vite.config.js", patch_vite_config)

    def post_compile(self, **context: Unpack[PostCompileContext]) -> None:
        app = context["app"]
        if not os.environ.get(ENV_UNDER_RUN):
            _log_once(
                "run",
                "reflex-django: Django's paths (%s) are served by `reflex-django run`; "
                "under plain `reflex run` they reach Reflex instead",
                ", ".join(_django_prefixes()),
            )
        if not self.install_event_bridge:
            return
        from reflex_django.middleware import DjangoEventBridge

        if not any(isinstance(m, DjangoEventBridge) for m in getattr(app, "_middlewares", ())):
            app.add_middleware(DjangoEventBridge(), index=0)

    def __repr__(self) -> str:
        return (
            f"ReflexDjangoPlugin(settings_module={self.settings_module!r}, "
            f"backend_prefix={self.backend_prefix!r}, admin_prefix={self.admin_prefix!r}, "
            f"extra_prefixes={self.extra_prefixes!r}, "
            f"install_event_bridge={self.install_event_bridge!r})"
        )


def patch_vite_config(text: str) -> str:
    """Pipe Reflex's generated `vite.config.js` through `reflex-django vite patch`.

    When the binary is missing or fails, warn once and return `text` unchanged.
    """
    from reflex_django._find_bin import find_reflex_django_bin

    try:
        binary = find_reflex_django_bin()
        done = subprocess.run(
            [binary, "vite", "patch"],
            input=text,
            capture_output=True,
            encoding="utf-8",
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        reason = str(exc)
    else:
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout
        reason = done.stderr.strip() or f"`{binary} vite patch` exited with {done.returncode}"
    _log_once(
        "vite",
        "reflex-django: vite.config.js left unpatched, so the Vite dev server will not "
        "send Django's paths to Django: %s",
        reason,
    )
    return text


def _prefix(raw: Any, argument: str) -> str:
    """Normalise a prefix like the CLI does (`/seg[/seg…]`), or raise `ConfigError`."""
    segments = [s for s in str(raw).strip().split("/") if s]
    prefix = "/" + "/".join(segments)
    problem = None
    if not segments:
        problem = "a prefix cannot be empty or `/`"
    elif any(s in (".", "..") for s in segments):
        problem = "`.` and `..` segments are not allowed"
    elif any(prefix == r or prefix.startswith(r + "/") for r in _REFLEX_PATHS):
        problem = f"Reflex needs {', '.join(_REFLEX_PATHS)} for itself"
    if problem:
        raise ConfigError(f"ReflexDjangoPlugin({argument}={raw!r}): {problem}")
    return prefix


def _static_prefix(static_url: Any) -> str | None:
    """The path prefix of `STATIC_URL`, or None for another origin or `/`."""
    url = str(static_url or "").strip()
    if not url or url.startswith("//") or "://" in url:
        return None
    segments = [s for s in url.split("/") if s]
    return "/" + "/".join(segments) if segments else None


def _django_prefixes() -> list[str]:
    names = (ENV_ADMIN, ENV_BACKEND, ENV_STATIC, ENV_EXTRA)
    values = (os.environ.get(name, "") for name in names)
    return [p for value in values for p in value.split(",") if p]


def _log_once(key: str, message: str, *args: Any) -> None:
    if key not in _logged:
        _logged.add(key)
        logger.warning(message, *args)
