"""Django context processors for Reflex: `collect_reflex_context` and `DjangoContextState`.

Settings:
- `REFLEX_DJANGO_CONTEXT_PROCESSORS`: dotted paths to `(request) -> dict` callables,
  sync or async. When set (non-empty), only these run.
- `REFLEX_DJANGO_USE_TEMPLATE_CONTEXT_PROCESSORS` (default False): otherwise run the
  `context_processors` of the project's Django template engines.

Everything merged is sanitised, because Reflex state goes to the browser: `user`
becomes a `user_snapshot`, `request`, `perms` and `messages` are dropped, and any
value that does not survive `json.dumps` is skipped with a warning.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import reflex as rx
from asgiref.sync import sync_to_async

from reflex_django.auth_state import include_groups_by_default, user_group_names, user_snapshot
from reflex_django.conf import setting
from reflex_django.context import current_language, current_request, current_user

if TYPE_CHECKING:
    from django.http import HttpRequest

__all__ = [
    "DjangoContextState",
    "builtin_i18n_context",
    "builtin_user_context",
    "collect_reflex_context",
    "reflex_context_processor_paths",
    "reflex_context_processors_use_template_sanitization",
    "template_context_processor_paths",
]

logger = logging.getLogger(__name__)

_DROPPED = frozenset({"request", "perms", "messages"})
_DJANGO_TEMPLATES = "django.template.backends.django.DjangoTemplates"
_warned: set[tuple[str, str]] = set()


def template_context_processor_paths() -> tuple[str, ...]:
    """The `context_processors` of every Django template engine, in order, once each."""
    paths: dict[str, None] = {}
    for engine in setting("TEMPLATES", []):
        if engine.get("BACKEND") == _DJANGO_TEMPLATES:
            paths.update(dict.fromkeys(engine.get("OPTIONS", {}).get("context_processors", ())))
    return tuple(paths)


def reflex_context_processor_paths() -> tuple[str, ...]:
    """The processors `collect_reflex_context` runs, following the settings above."""
    explicit = setting("REFLEX_DJANGO_CONTEXT_PROCESSORS", ()) or ()
    explicit = (explicit,) if isinstance(explicit, str) else tuple(explicit)
    if explicit:
        return explicit
    if setting("REFLEX_DJANGO_USE_TEMPLATE_CONTEXT_PROCESSORS", False):
        return template_context_processor_paths()
    return ()


def reflex_context_processors_use_template_sanitization() -> bool:
    """Whether `collect_reflex_context` runs the template engines' processors (no
    `REFLEX_DJANGO_CONTEXT_PROCESSORS`, and `REFLEX_DJANGO_USE_TEMPLATE_CONTEXT_PROCESSORS`
    true). Their output is sanitised; here the explicit list's output is sanitised
    the same way too."""
    explicit = setting("REFLEX_DJANGO_CONTEXT_PROCESSORS", ()) or ()
    return not explicit and bool(setting("REFLEX_DJANGO_USE_TEMPLATE_CONTEXT_PROCESSORS", False))


def builtin_user_context(request: HttpRequest) -> dict[str, Any]:
    """`{"user": <user_snapshot of request.user>}` (else of `current_user()`), with
    group names when `REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS` is true (a query:
    `collect_reflex_context` runs sync processors in Django's sync thread)."""
    return {"user": _snapshot(getattr(request, "user", None) or current_user())}


def _snapshot(user: Any) -> dict[str, Any]:
    groups = user_group_names(user) if include_groups_by_default() else None
    return user_snapshot(user, group_names=groups)


def builtin_i18n_context(request: HttpRequest) -> dict[str, Any]:
    """`LANGUAGE_CODE`, `LANGUAGE_BIDI` and `LANGUAGES` (code and translated name)."""
    from django.utils import translation

    code = getattr(request, "LANGUAGE_CODE", None) or current_language()
    with translation.override(code):
        return {
            "LANGUAGE_CODE": code,
            "LANGUAGE_BIDI": translation.get_language_bidi(),
            "LANGUAGES": [[lang, str(name)] for lang, name in setting("LANGUAGES", [])],
        }


async def collect_reflex_context(request: HttpRequest | None) -> dict[str, Any]:
    """Run the configured processors on `request` and merge their sanitised output.

    Sync processors run in Django's sync thread (they may query the database). A
    processor that raises is logged and skipped. No request, no context: `{}`.
    """
    if request is None:
        return {}
    merged: dict[str, Any] = {}
    for path in reflex_context_processor_paths():
        processor = _import(path)
        try:
            if inspect.iscoroutinefunction(processor):
                values = await processor(request)
                clean = await sync_to_async(_sanitise)(path, values)
            else:
                clean = await sync_to_async(_run_sync)(path, processor, request)
        except Exception:
            logger.exception("reflex-django: context processor %s failed; skipped", path)
            continue
        merged.update(clean)
    return merged


def _run_sync(path: str, processor: Callable[[Any], Any], request: Any) -> dict[str, Any]:
    return _sanitise(path, processor(request))


def _sanitise(path: str, values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        _warn_once(path, "", f"returned {type(values).__name__}, not a dict; ignored")
        return {}
    clean: dict[str, Any] = {}
    for key, given in values.items():
        if key in _DROPPED:
            continue
        # A "user" that is a model, not a snapshot, is sent as its snapshot.
        value = _snapshot(given) if key == "user" and not isinstance(given, dict) else given
        try:
            clean[key] = json.loads(json.dumps(value))
        except (TypeError, ValueError):
            _warn_once(path, key, f"value of type {type(value).__name__} is not JSON")
    return clean


def _warn_once(path: str, key: str, problem: str) -> None:
    if (path, key) not in _warned:
        _warned.add((path, key))
        where = f"key {key!r} of {path}" if key else path
        logger.warning("reflex-django: context processor %s: %s; skipped", where, problem)


def _import(path: str) -> Callable[[Any], Any]:
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.module_loading import import_string

    try:
        processor: Callable[[Any], Any] = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"reflex-django: cannot import context processor {path!r}: {exc}") from None
    return processor


class DjangoContextState(rx.State):
    """The merged processor output for the event's request:
    `app.add_page(about, on_load=DjangoContextState.load_django_context)`.
    """

    django_context: dict[str, Any] = {}
    # The same as indented JSON ("" until loaded).
    django_context_json: str = ""

    @rx.event
    async def load_django_context(self) -> None:
        """Run the processors for the event's request and store the result."""
        context = await collect_reflex_context(current_request())
        self.django_context = context
        self.django_context_json = json.dumps(context, indent=2, sort_keys=True)
