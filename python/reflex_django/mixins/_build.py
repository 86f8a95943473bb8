"""Shared plumbing of the declarative state factories."""

from __future__ import annotations

import json
import keyword
import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from types import FrameType
from typing import Any

import reflex as rx


def caller_module(frame: FrameType | None) -> str:
    """The module name of the code that called the factory (`frame` is its frame)."""
    name = frame.f_globals.get("__name__") if frame is not None else None
    if not name:
        raise ValueError("cannot tell the calling module; pass state_module='your.module'")
    return str(name)


def check_names(what: str, names: Mapping[str, object]) -> None:
    """Each value must be a public Python identifier, and all must differ."""
    for field, name in names.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"{what}.{field}={name!r} is not a valid Python identifier")
        if name.startswith("_") and field != "refresh_method":
            raise ValueError(
                f"{what}.{field}={name!r}: names starting with '_' are not sent to the "
                "browser by Reflex; choose a public name"
            )
    seen: dict[object, str] = {}
    for field, name in names.items():
        if name in seen:
            raise ValueError(f"{what}: {seen[name]} and {field} are both {name!r}")
        seen[name] = field


def make_state(name: str, bases: tuple[type, ...], module: str, doc: str) -> type[rx.State]:
    """Create the state class `module.name` and register it there, so Reflex (which
    pickles states by module and name) can find it again."""
    if not name.isidentifier():
        raise ValueError(f"state class name {name!r} is not a valid Python identifier")
    target = sys.modules.get(module) or import_module(module)
    if getattr(target, name, None) is not None:
        raise ValueError(
            f"{module}.{name} already exists; give the generated state another name "
            "(state_class_name=...) or another state_module"
        )
    cls = type(name, bases, {"__module__": module, "__qualname__": name, "__doc__": doc})
    setattr(target, name, cls)
    return cls


def make_mixin(name: str, fields: dict[str, tuple[Any, Any]], members: dict[str, Any]) -> type:
    """A Reflex mixin state: its fields and event handlers are copied onto each state
    that inherits it, so they run on that state's instance."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__, "__qualname__": name, "__annotations__": annotations}
    populate(namespace, annotations, name, fields, members)
    return type(name, (rx.State,), namespace, mixin=True)


def full_page_navigation(url: str) -> Any:
    """An event that loads `url` in this tab with a real HTTP request (not Reflex's
    client-side router), replacing the current history entry."""
    return rx.call_script(f"window.location.replace({json.dumps(url)})")


def populate(
    ns: dict[str, Any],
    annotations: dict[str, Any],
    cls_name: str,
    state_fields: dict[str, tuple[Any, Any]],
    members: Mapping[str, Callable[..., Any]],
) -> None:
    """Put `state_fields` (annotation and default) and `members` into a class
    namespace being built."""
    for name, (kind, default) in state_fields.items():
        annotations[name] = kind
        ns[name] = default
    for name, fn in members.items():
        fn.__name__ = name
        fn.__qualname__ = f"{cls_name}.{name}"
        ns[name] = fn
