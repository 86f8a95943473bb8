"""`ReflexDjangoPlugin`: boots Django when `rxconfig.py` loads and wires it into Reflex."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reflex_base.plugins.base import Plugin
from reflex_base.utils.exceptions import ConfigError

from reflex_django.conf import configure_django, setting
from reflex_django.prefixes import INTERNAL_PREFIX, PrefixError, normalize_prefix, static_prefix
from reflex_django.vite_proxy import patch_vite_config

if TYPE_CHECKING:
    from typing import Unpack

    from reflex_base.plugins.base import PostCompileContext, PreCompileContext

__all__ = ["ReflexDjangoPlugin", "patch_vite_config"]

logger = logging.getLogger(__name__)

# The environment contract shared with the `reflex-django` CLI (its config keys
# `prefixes.*`); `reflex-django run` exports the resolved values, which win.
ENV_ADMIN = "REFLEX_DJANGO_PREFIXES_ADMIN"
ENV_BACKEND = "REFLEX_DJANGO_PREFIXES_BACKEND"
ENV_EXTRA = "REFLEX_DJANGO_PREFIXES_EXTRA"
ENV_STATIC = "REFLEX_DJANGO_PREFIXES_STATIC"
ENV_UNDER_RUN = "REFLEX_DJANGO_RUN"
# The names the original plugin exported for settings modules to read.
ENV_ORIGINAL_ADMIN = "REFLEX_DJANGO_ADMIN_PREFIX"
ENV_ORIGINAL_BACKEND = "REFLEX_DJANGO_API_PREFIX"
# The variables the plugin itself exported, with their values (JSON), so that it may
# change them again.
ENV_EXPORTED = "REFLEX_DJANGO_PLUGIN_EXPORTED"

_logged: set[str] = set()


class ReflexDjangoPlugin(Plugin):
    """Run Django inside the Reflex process; see `docs/python-api.md`.

    `reflex-django run` reads these arguments from `rxconfig.py` when they are
    literals, so the proxy and this plugin agree on the prefixes. Under plain
    `reflex run` the plugin serves Django's prefixes itself, inside Reflex's ASGI app
    (`reflex_django.asgi`); under `reflex-django run` the front door does.
    """

    def __init__(
        self,
        settings_module: str | None = None,
        backend_prefix: str = "",
        admin_prefix: str = "/admin",
        extra_prefixes: Iterable[str] | str = (),
        install_event_bridge: bool = True,
        install_auth_pages: bool = False,
    ) -> None:
        if isinstance(extra_prefixes, str):
            extra_prefixes = [extra_prefixes]
        self.settings_module = settings_module
        self.admin_prefix = _prefix(admin_prefix, "admin_prefix")
        self.backend_prefix = _prefix(backend_prefix, "backend_prefix") if backend_prefix else ""
        self.extra_prefixes = tuple(_prefix(p, "extra_prefixes") for p in extra_prefixes)
        self.install_event_bridge = install_event_bridge
        self.install_auth_pages = install_auth_pages
        # Prefixes first: Django settings may read them (under both our names and
        # the original plugin's).
        _export(ENV_ADMIN, self.admin_prefix)
        _export(ENV_ORIGINAL_ADMIN, self.admin_prefix)
        _export(ENV_BACKEND, self.backend_prefix)
        _export(ENV_ORIGINAL_BACKEND, self.backend_prefix)
        _export(ENV_EXTRA, ",".join(self.extra_prefixes))
        configure_django(settings_module)
        try:
            static = static_prefix(setting("STATIC_URL"))
        except PrefixError as exc:
            # `reflex-django run` refuses this; inside Reflex, Django simply does not
            # get the static prefix (as before), and says so.
            _log_once("static", "reflex-django: Django's STATIC_URL is not routed to Django: %s", exc)
            static = None
        _export(ENV_STATIC, static or "")

    @property
    def in_process(self) -> bool:
        """Whether this process serves Django itself: plain `reflex run` (or Reflex's
        hosting), not a child of `reflex-django run`, whose front door routes."""
        return not os.environ.get(ENV_UNDER_RUN)

    def django_prefixes(self) -> tuple[str, ...]:
        """The prefixes that go to Django: admin, static, backend, extra (the
        environment's values win, as `reflex-django run` exports them) and the
        package's own views."""
        return tuple(dict.fromkeys([*_django_prefixes(), INTERNAL_PREFIX]))

    def pre_compile(self, **context: Unpack[PreCompileContext]) -> None:
        # Reflex resolves this name against `.web`, and applies the task to the
        # text it generated before writing it: the patched file never flickers.
        if self.in_process:
            target = _reflex_backend_url()
            prefixes = self.django_prefixes()
            context["add_modify_task"](
                "vite.config.js", lambda text: patch_vite_config(text, target=target, prefixes=prefixes)
            )
        else:
            context["add_modify_task"]("vite.config.js", patch_vite_config)

    def post_compile(self, **context: Unpack[PostCompileContext]) -> None:
        app = context["app"]
        if self.in_process:
            self._serve_django(app)
        if self.install_event_bridge:
            from reflex_django.middleware import DjangoEventBridge

            if not any(isinstance(m, DjangoEventBridge) for m in getattr(app, "_middlewares", ())):
                app.add_middleware(DjangoEventBridge(), index=0)
        # With Reflex's Redis token manager, a tab whose worker was killed keeps its
        # token (and state) when it reconnects elsewhere.
        from reflex_django import token_reclaim

        token_reclaim.install(app)
        if self.install_auth_pages:
            # As in 0.2.3 this runs after Reflex compiled the pages, so the frontend of
            # this compile may lack them; `add_auth_pages(app)` in the app module does not.
            try:
                from reflex_django.auth.registry import autoload

                autoload()
            except Exception as exc:  # the app runs on without them
                _log_once(
                    "auth_pages",
                    "reflex-django: install_auth_pages=True could not add the auth pages (%s); "
                    "call add_auth_pages(app) in your app module instead",
                    exc,
                )

    def _serve_django(self, app: Any) -> None:
        """Put the prefix dispatcher in front of Reflex's ASGI app (once; a dispatcher
        of the user's own, for other prefixes, stays where it is)."""
        from reflex_django.asgi import build_django_asgi, keep_reflex_cors_off_django, make_dispatcher

        current = app.api_transformer
        transformers = [] if current is None else list(current) if isinstance(current, (list, tuple)) else [current]
        if any(getattr(t, "reflex_django_plugin", False) for t in transformers):
            return
        prefixes = self.django_prefixes()
        dispatcher = make_dispatcher(build_django_asgi(), backend_prefixes=prefixes)
        dispatcher.reflex_django_plugin = True  # type: ignore[attr-defined]
        transformers.append(dispatcher)
        app.api_transformer = transformers
        if not keep_reflex_cors_off_django(prefixes):
            _log_once(
                "cors",
                "reflex-django: this Reflex version's CORS headers also reach Django's paths "
                "(cors_allowed_origins in rxconfig.py decides who may read them)",
            )
        _log_once(
            "run",
            "reflex-django: Django serves %s inside Reflex; `reflex-django run` puts a front door before both",
            ", ".join(prefixes),
        )

    def __repr__(self) -> str:
        return (
            f"ReflexDjangoPlugin(settings_module={self.settings_module!r}, "
            f"backend_prefix={self.backend_prefix!r}, admin_prefix={self.admin_prefix!r}, "
            f"extra_prefixes={self.extra_prefixes!r}, "
            f"install_event_bridge={self.install_event_bridge!r}, "
            f"install_auth_pages={self.install_auth_pages!r})"
        )


def _export(name: str, value: str) -> None:
    """Set `name` for Django's settings and this process's children, unless someone
    else set it: `reflex-django run` and the user's own environment win. A value an
    earlier plugin set (in this process or the `reflex run` that started it) and that
    nobody changed since is replaced, so an edited `rxconfig.py` takes effect on
    Reflex's hot reload; an empty `value` removes it."""
    try:
        exported = json.loads(os.environ.get(ENV_EXPORTED, "{}"))
    except ValueError:
        exported = {}
    current = os.environ.get(name)
    if current is not None and exported.get(name) != current:
        return
    if value:
        os.environ[name] = exported[name] = value
    else:
        os.environ.pop(name, None)
        exported.pop(name, None)
    os.environ[ENV_EXPORTED] = json.dumps(exported, sort_keys=True)


def _prefix(raw: Any, argument: str) -> str:
    """Normalise a prefix by the shared rules (`/seg[/seg…]`), or raise `ConfigError`."""
    try:
        return normalize_prefix(raw)
    except PrefixError as exc:
        raise ConfigError(f"ReflexDjangoPlugin({argument}={raw!r}): {exc}") from None


def _reflex_backend_url() -> str:
    """Where Vite reaches Reflex's backend on this machine (loopback, Reflex's port)."""
    from reflex_base.config import get_config

    return f"http://127.0.0.1:{get_config().backend_port or 8000}"


def _django_prefixes() -> list[str]:
    names = (ENV_ADMIN, ENV_BACKEND, ENV_STATIC, ENV_EXTRA)
    values = (os.environ.get(name, "") for name in names)
    return [p for value in values for p in value.split(",") if p]


def _log_once(key: str, message: str, *args: Any) -> None:
    if key not in _logged:
        _logged.add(key)
        logger.warning(message, *args)
