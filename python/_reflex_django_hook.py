"""Adds `reflex django <command>` to Reflex's CLI; imported from reflex_django_hook.pth.

Reflex's CLI has no plugin entry point, so the wheel ships a `.pth` line that Python
runs while it sets up `site`. That line only compares strings and imports this module
for processes that might be the Reflex CLI; this module decides precisely, and then
waits: Reflex is not imported here. When something imports `reflex.reflex` (the
`reflex` script does so at once), the `django` command is added to its `cli` group
right after the module has run.

It lives outside the `reflex_django` package so that deciding costs no package import.
Nothing here may break Reflex: any failure to attach leaves Reflex's CLI as it was.
"""

import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

_CLI_MODULE = "reflex.reflex"


def is_reflex_cli(argv: list[str], orig_argv: list[str]) -> bool:
    """Whether the process is `reflex …` (its script) or `python … -m reflex …`."""
    if not argv:
        return False
    if argv[0] == "-m":
        # While site runs, sys.argv[0] is "-m"; the module is named in orig_argv.
        return _dash_m_module(orig_argv) == "reflex"
    name = os.path.basename(argv[0]).lower()
    for suffix in (".exe", "-script.pyw", "-script.py"):
        name = name.removesuffix(suffix)
    return name == "reflex"


def _dash_m_module(orig_argv: list[str]) -> str | None:
    """The module of `python [options] -m MODULE …` (`-Im x`, `-mx`, `-X dev -m x`)."""
    args = iter(orig_argv[1:])
    for arg in args:
        if arg.startswith("--"):
            if arg == "--check-hash-based-pycs":
                next(args, None)
            continue
        if not arg.startswith("-") or arg == "-":
            return None  # a script or stdin comes first
        for i, flag in enumerate(arg[1:], start=1):
            rest = arg[i + 1 :]
            if flag == "m":
                return rest or next(args, None)
            if flag == "c":
                return None
            if flag in "WX":  # these take a value, attached or the next argument
                if not rest:
                    next(args, None)
                break
    return None


def _attach(cli_module: ModuleType) -> None:
    try:
        from reflex_django.cli import register_django_cli_group_if_needed
    except ImportError:  # the package is gone or broken: Reflex runs as it is
        return
    try:
        register_django_cli_group_if_needed(cli_module.cli)
    except Exception as exc:  # never take Reflex's CLI down with us
        print(f"reflex-django: `reflex django` is unavailable: {exc!r}", file=sys.stderr)


class _WaitForReflexCli:
    """A meta path finder that finds nothing itself: it lets the other finders find
    `reflex.reflex`, then runs `_attach` after the module's code (once)."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != _CLI_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run_module = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            self.stop()
            try:
                del loader.exec_module  # back to the loader's own method
            except AttributeError:
                pass
            run_module(module)
            _attach(module)

        try:
            loader.exec_module = exec_module  # type: ignore[method-assign]
        except (AttributeError, TypeError):  # a loader that takes no attributes
            pass
        return spec

    def stop(self) -> None:
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass


def install() -> None:
    """Attach now if Reflex's CLI module is loaded, else when it is imported."""
    module = sys.modules.get(_CLI_MODULE)
    if module is not None:
        _attach(module)
    elif not any(isinstance(f, _WaitForReflexCli) for f in sys.meta_path):
        sys.meta_path.insert(0, _WaitForReflexCli())


if is_reflex_cli(sys.argv, getattr(sys, "orig_argv", sys.argv)):
    install()
