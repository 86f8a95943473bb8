"""`python -m reflex_django …` runs the `reflex-django` binary from the same wheel."""

from __future__ import annotations

import os
import sys

from reflex_django._find_bin import find_reflex_django_bin


def _run() -> None:
    try:
        binary = find_reflex_django_bin()
    except FileNotFoundError as exc:
        sys.exit(f"reflex-django: error: {exc}")
    try:
        if sys.platform == "win32":  # pragma: no cover - exec is Unix-only
            import subprocess

            sys.exit(subprocess.call([binary, *sys.argv[1:]]))
        os.execv(binary, [binary, *sys.argv[1:]])
    except OSError as exc:  # e.g. REFLEX_DJANGO_BIN names a missing file
        sys.exit(f"reflex-django: error: cannot run {binary}: {exc.strerror or exc}")


if __name__ == "__main__":
    _run()
