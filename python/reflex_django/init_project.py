"""A new project from Python: the original plugin's names for `reflex-django init`.

The scaffolding itself is the binary's `init` (Django settings and urls, the Reflex
app, `.env`, a virtualenv with reflex-django, Reflex and Django, `migrate`); these
functions run it. `python -m reflex_django.init_project [DIR] …` is
`reflex-django init [DIR] …`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["main_argv_init", "reflex_django_init_entry", "run_reflex_django_init"]


def _init_command(args: Sequence[str | os.PathLike[str]]) -> list[str]:
    from reflex_django._find_bin import find_reflex_django_bin

    return [find_reflex_django_bin(), "init", *(os.fspath(a) for a in args)]


def run_reflex_django_init(
    project_name: str | os.PathLike[str],
    *,
    editable_reflex_django: str | os.PathLike[str] | None = None,
) -> Path:
    """Create a project in the directory `project_name` with `reflex-django init`.

    The binary's output goes to this process's stdout and stderr. Returns the
    project's root.

    Raises:
        ValueError: `editable_reflex_django` was given; `init` installs the released
            reflex-django (for a local build: `maturin build`, then run `init` with
            `PIP_FIND_LINKS` pointing at the wheel's directory).
        subprocess.CalledProcessError: `init` failed (it has said why on stderr).
    """
    if editable_reflex_django is not None:
        raise ValueError(
            "editable_reflex_django is not supported: reflex-django init installs the "
            "released package; build a wheel (maturin build) and set PIP_FIND_LINKS to "
            "its directory to use a local one"
        )
    import subprocess
    from pathlib import Path

    subprocess.run(_init_command([project_name]), check=True)
    return Path(project_name).resolve()


def main_argv_init(argv: Sequence[str]) -> None:
    """`reflex-django init <argv…>` as a child process; returns when it succeeds.

    Raises:
        SystemExit: with init's exit status when it fails.
    """
    import subprocess

    status = subprocess.call(_init_command(argv))
    if status != 0:  # killed by a signal: the shell's 128 + number
        raise SystemExit(status if status > 0 else 128 - status)


def reflex_django_init_entry() -> NoReturn:
    """Entry point: replace this process with `reflex-django init <sys.argv[1:]…>`."""
    from reflex_django.cli import forward

    forward(["init", *sys.argv[1:]])


if __name__ == "__main__":
    reflex_django_init_entry()
