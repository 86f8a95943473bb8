"""`reflex django <command>`: Reflex's CLI hands the command to the `reflex-django` binary.

`reflex django migrate`, `reflex django createsuperuser`, `reflex django init mysite`,
`reflex django run` … behave exactly as `reflex-django <command>`: the Python process
is replaced by the binary (exec), so the terminal, stdin, signals and the exit code
are the binary's. The `django` command is put on Reflex's `cli` group by the start-up
hook (`_reflex_django_hook`, run from `reflex_django_hook.pth`) when the process is
the Reflex CLI.

The names of the original plugin's module are kept: `main` (the `reflex-django`
console script there, the binary here), `register_django_cli_group_if_needed`,
`DjangoCliGroup`, `django_cli_group` (alias `django_cli`) and `django_init`. Importing
this module is cheap: the click objects are made on first use, and click is needed
only for them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

if TYPE_CHECKING:
    import click

# Reflex's `cli` group callback marks the environment so that Reflex processes started
# from it log through the CLI's pipeline. `reflex django …` runs reflex-django instead,
# which must see the environment `reflex-django …` would have seen.
_REFLEX_CLI_ENV = ("REFLEX_MANAGED_LOGGING",)
_env_before_reflex: dict[str, str | None] | None = None

_HELP_PREFACE = (
    "`reflex django <command> [args...]` runs `reflex-django <command> [args...]`: "
    "reflex-django's\ncommands (run, build, init, routes, doctor, vite) and every "
    "manage.py command\n(migrate, createsuperuser, shell, ...). reflex-django's help "
    "follows.\n\n"
)


def forward(args: Sequence[str]) -> NoReturn:
    """Replace this process with `reflex-django <args…>` (never returns).

    Exits with status 1 and a message when the binary cannot be found or run.
    """
    from reflex_django._find_bin import find_reflex_django_bin

    args = [os.fsdecode(a) for a in args]
    try:
        binary = find_reflex_django_bin()
    except FileNotFoundError as exc:
        sys.exit(f"reflex-django: error: {exc}")
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()  # exec drops Python's buffers
        except (AttributeError, OSError, ValueError):
            pass
    if sys.platform == "win32":  # pragma: no cover - no exec that keeps the console
        import subprocess

        sys.exit(subprocess.call([binary, *args]))
    _restore_signals()
    try:
        os.execv(binary, [binary, *args])
    except OSError as exc:  # e.g. REFLEX_DJANGO_BIN names a missing file
        sys.exit(f"reflex-django: error: cannot run {binary}: {exc.strerror or exc}")


def _restore_signals() -> None:
    """Python ignores SIGPIPE and SIGXFSZ, and ignored signals survive exec: put them
    back to the default a program started from a shell has."""
    import signal

    for name in ("SIGPIPE", "SIGXFSZ"):
        number = getattr(signal, name, None)
        if number is not None:
            try:
                signal.signal(number, signal.SIG_DFL)
            except (OSError, ValueError):
                pass


def main() -> NoReturn:
    """`reflex-django …` from Python: run the binary with this process's arguments."""
    forward(sys.argv[1:])


def _forward_from_reflex(args: Sequence[str]) -> NoReturn:
    """`reflex django <args…>`: undo what Reflex's CLI did to the environment, show a
    line of context before the help, then forward."""
    if _env_before_reflex is not None:
        for key, value in _env_before_reflex.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    args = list(args)
    if args in ([], ["-h"], ["--help"]):
        # The binary prints --help on stdout and its no-argument usage on stderr.
        stream = sys.stdout if args else sys.stderr
        stream.write(_HELP_PREFACE)
    forward(args)


def register_django_cli_group_if_needed(reflex_cli: click.Group | None = None) -> None:
    """Add the `django` command to Reflex's CLI group; does nothing if it has one.

    Args:
        reflex_cli: Reflex's top-level group; `reflex.reflex.cli` when omitted.
    """
    global _env_before_reflex
    if reflex_cli is None:
        from reflex.reflex import cli

        reflex_cli = cli
    if "django" in reflex_cli.commands:
        return
    if _env_before_reflex is None:
        # Called while `reflex.reflex` is imported, before its group callback runs.
        _env_before_reflex = {key: os.environ.get(key) for key in _REFLEX_CLI_ENV}
    reflex_cli.add_command(_click_objects()["django_cli_group"], "django")


_CLICK_NAMES = ("DjangoCliGroup", "django_cli_group", "django_cli", "django_init")
_click_cache: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    if name in _CLICK_NAMES:
        return _click_objects()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_CLICK_NAMES})


def _click_objects() -> dict[str, Any]:
    """Make the click command objects once (click is imported here, not at import)."""
    if _click_cache:
        return _click_cache
    import click

    # Everything after `django` is the binary's, `--help` included.
    raw_args = {
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "allow_interspersed_args": False,
        "help_option_names": [],
    }

    def forwarding_command(name: str) -> click.Command:
        """`<name> <args…>` as a click command that runs `reflex-django <name> <args…>`."""

        @click.command(
            name,
            context_settings=raw_args,
            add_help_option=False,
            help=f"Run `reflex-django {name} [args...]`.",
        )
        @click.pass_context
        def command(ctx: click.Context) -> None:
            _forward_from_reflex([name, *ctx.args])

        return command

    class DjangoCliGroup(click.Group):
        """`reflex django <args…>`: every argument is passed to `reflex-django` as is.

        Click parses nothing after `django` (so `--project DIR migrate`, `init --help`
        and Django's own options reach the binary unchanged); `get_command` still
        answers for any command name, with a command that forwards it.
        """

        _forwarders: ClassVar[dict[str, click.Command]] = {}

        def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
            ctx.args = list(args)
            return ctx.args

        def invoke(self, ctx: click.Context) -> NoReturn:
            _forward_from_reflex(ctx.args)

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            command = super().get_command(ctx, cmd_name)
            if command is not None or not cmd_name or cmd_name.startswith("-"):
                return command
            forwarder = self._forwarders.get(cmd_name)
            if forwarder is None:
                forwarder = self._forwarders[cmd_name] = forwarding_command(cmd_name)
            return forwarder

    django_cli_group = DjangoCliGroup(
        "django",
        help=(
            "Run a reflex-django command: `reflex django <command> [args...]` is "
            "`reflex-django <command> [args...]` (migrate, createsuperuser, shell, init, "
            "run, ...)."
        ),
        short_help="Run reflex-django / manage.py commands (migrate, init, ...).",
        context_settings=raw_args,
        add_help_option=False,
        invoke_without_command=True,
        no_args_is_help=False,
    )
    django_init = forwarding_command("init")
    django_init.help = "Create a new Django + Reflex project: `reflex-django init [DIR] ...`."
    django_cli_group.add_command(django_init)

    _click_cache.update(
        DjangoCliGroup=DjangoCliGroup,
        django_cli_group=django_cli_group,
        django_cli=django_cli_group,
        django_init=django_init,
    )
    return _click_cache


if __name__ == "__main__":
    main()
