"""Lazy re-exports: a package names things from its submodules without importing them
(and Reflex, Django) until they are first used."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str,
    exports: dict[str, str],
    namespace: dict[str, Any],
    renamed: Mapping[str, str | None] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`: `exports` maps a name to the module
    that defines it (a name mapped to itself is a submodule); `renamed` maps a name to
    the attribute it stands for in that module (None: the module itself)."""
    renamed = renamed or {}

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = import_module(module)
        attribute = renamed.get(name, None if module.rsplit(".", 1)[-1] == name else name)
        value = loaded if attribute is None else getattr(loaded, attribute)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
