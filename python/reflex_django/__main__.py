"""`python -m reflex_django …` runs the `reflex-django` binary from the same wheel."""

from __future__ import annotations

import os
import sys

from reflex_django._find_bin import find_reflex_django_bin


def _run() -> None:
    binary = find_reflex_django_bin()
    if sys.platform == "win32":  # pragma: no cover - exec is Unix-only
        import subprocess

        sys.exit(subprocess.call([binary, *sys.argv[1:]]))
    os.execvp(binary, [binary, *sys.argv[1:]])


if __name__ == "__main__":
    _run()
