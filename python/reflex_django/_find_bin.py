"""Locate the `reflex-django` binary that the wheel installed next to this package."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig

_NAME = "reflex-django" + (".exe" if sys.platform == "win32" else "")


def find_reflex_django_bin() -> str:
    """Return the path of the `reflex-django` binary.

    Looks where pip puts scripts for this interpreter (the environment's own scheme,
    then the user scheme), then next to the interpreter, then on PATH.
    `REFLEX_DJANGO_BIN` overrides everything (useful in development).
    """
    override = os.environ.get("REFLEX_DJANGO_BIN")
    if override:
        return override
    candidates = [sysconfig.get_path("scripts")]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        candidates.append(sysconfig.get_path("scripts", scheme=user_scheme))
    candidates.append(os.path.dirname(sys.executable))
    for directory in candidates:
        path = os.path.join(directory, _NAME)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    found = shutil.which(_NAME)
    if found:
        return found
    raise FileNotFoundError(
        "the reflex-django binary was not found; reinstall the package (pip install --force-reinstall reflex-django)"
    )
