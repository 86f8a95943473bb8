"""What the auth mixins share: building the state class, and the sign-up, reset-link and
login-redirect steps (also used by `DjangoAuthState`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import fields
from importlib import import_module
from typing import Any
from urllib.parse import urlencode

import reflex as rx
from asgiref.sync import sync_to_async

from reflex_django.auth import accounts
from reflex_django.auth.conf import auth_setting, message, override_messages
from reflex_django.auth.routes import match_password_reset_confirm
from reflex_django.context import current_request, current_user
from reflex_django.mixins._build import check_names
from reflex_django.mixins.session_auth import hand_off, next_path, refresh_user_snapshot

# A field of a generated state: name -> (type, default).
Fields = dict[str, tuple[Any, Any]]


def check_config_names(cfg: Any) -> None:
    """The `*_var` and `*_event` fields of a config dataclass must be distinct public
    identifiers."""
    check_names(
        type(cfg).__name__,
        {f.name: getattr(cfg, f.name) for f in fields(cfg) if f.name.endswith(("_var", "_event"))},
    )


def check_paths(cfg: Any, *names: str, optional: tuple[str, ...] = ()) -> None:
    """The fields `names` (and `optional`, unless None) of a config must be local paths."""
    for name in (*names, *optional):
        value = getattr(cfg, name)
        if value is None and name in optional:
            continue
        if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
            raise ValueError(
                f"{type(cfg).__name__}.{name}={value!r} must be a local path; "
                "hint: start it with a single `/`, e.g. `/login`"
            )


def build_state(
    name: str,
    base: type[rx.State],
    module: str,
    fill: Callable[[dict[str, Any], dict[str, Any]], None],
    doc: str,
    what: str,
) -> type[rx.State]:
    """Create the state `module.name`, a subclass of `base`, from the namespace `fill`
    puts together, and set it on `module` (Reflex finds pickled states by module and
    name). A state of that name already defined in that module is an error: Reflex
    could not tell the two apart."""
    if not (isinstance(base, type) and issubclass(base, rx.State)):
        raise TypeError(f"{what}(base=...) must be a subclass of rx.State, not {base!r}")
    if not name.isidentifier():
        raise ValueError(f"state class name {name!r} is not a valid Python identifier")
    target = sys.modules.get(module) or import_module(module)
    existing = getattr(target, name, None)
    if (
        isinstance(existing, type)
        and getattr(existing, "__module__", None) == module
        and getattr(existing, "__qualname__", None) == name
    ):
        raise ValueError(
            f"{module}.{name} already exists; give the generated state another name "
            "(state_class_name=...) or another state_module"
        )
    annotations: dict[str, Any] = {}
    ns: dict[str, Any] = {}
    fill(ns, annotations)
    ns.update(__module__=module, __qualname__=name, __doc__=doc, __annotations__=annotations)
    cls = type(name, (base,), ns)
    setattr(target, name, cls)
    return cls


async def redirect_if_signed_in(state: Any, target: str | None) -> Any:
    """For the sign-in and sign-up pages: a signed-in user goes to `?next=` or
    `target` (None: stays). Decided with the event's Django user, not the snapshot."""
    await refresh_user_snapshot(state)
    if not current_user().is_authenticated:
        return None
    go = next_path() or target
    return rx.redirect(go) if go else None


async def redirect_to_login(state: Any) -> Any:
    """For guarded pages: an anonymous user goes to `LOGIN_URL?next=<this page>`."""
    await refresh_user_snapshot(state)
    if current_user().is_authenticated:
        return None
    request = current_request()
    here = request.get_full_path() if request is not None else "/"
    return rx.redirect(f"{auth_setting('LOGIN_URL')}?{urlencode({'next': here})}")


async def register_and_sign_in(
    state: Any,
    form: Mapping[str, str],
    redirect: str,
    *,
    messages: Mapping[str, Any] | None = None,
    **rules: Any,
) -> tuple[bool, Any, list[str]]:
    """Create the user from `form` (`username`, `email`, `password1`, `password2`;
    `accounts.register_user` with `rules`), sign them in through the configured
    backends and hand the session to the browser, which then loads `redirect`.

    Returns `(created, event, errors)`. `messages` overrides texts (0.2.3 keys work).
    """
    from reflex_django.auth import throttle

    with override_messages(messages):
        request = current_request()
        if request is None or getattr(request, "session", None) is None:
            return False, None, [message("session_unavailable")]
        password = form.get("password1", "")
        address = client_address() or "unknown"
        limit = int(auth_setting("SIGNUP_ATTEMPTS_PER_CLIENT"))
        if not await sync_to_async(throttle.within_limit)(f"signup:client:{address}", limit, 3600):
            return False, None, [message("signup_throttled")]
        user, errors = await sync_to_async(accounts.register_user)(
            form.get("username", ""),
            form.get("email", ""),
            password,
            form.get("password2", ""),
            **rules,
        )
        if errors:
            return False, None, errors
        user = await throttle.authenticate_unthrottled(request, user.get_username(), password)
        if user is None:  # no configured backend accepts the new account as is
            return True, rx.redirect(auth_setting("LOGIN_URL")), []
        event = await hand_off(state, "login", redirect, user=user)
        if event is None:  # no session store both processes share; logged by hand_off
            return True, None, [message("session_unavailable")]
        return True, event, []


def reset_link(pattern: str | None = None) -> tuple[str, str] | None:
    """`(uid, key)` of the reset-confirm page this event comes from, or None."""
    request = current_request()
    if request is None:
        return None
    return match_password_reset_confirm(request.path, pattern)


def client_address() -> str | None:
    """The address of the client behind this event (as the event bridge resolved it)."""
    request = current_request()
    meta = getattr(request, "META", None) or {}
    return meta.get("REMOTE_ADDR") or None


def form_value(form_data: Mapping[str, Any] | None, *keys: str) -> str:
    """The first of `keys` present in `form_data`, as a string ("" when none is)."""
    for key in keys:
        value = (form_data or {}).get(key)
        if value is not None:
            return str(value)
    return ""
