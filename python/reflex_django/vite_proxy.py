"""Vite's dev-server proxy rules for Django's paths, written by the `reflex-django` binary.

reflex-django keeps one implementation of these rules, in the binary
(`reflex-django vite patch`): the text of a `vite.config.js` goes in on stdin and comes
out with a marked block of rules, one per prefix, each matching the prefix, its
sub-paths and query strings (not `/administrator` for `/admin`), plus the package's own
`/_reflex_django`. Running it again replaces the block; `--remove` takes it out.

`patch_vite_config` is what the plugin runs on every compile; `inject_vite_dev_proxy`
is kept for code written for reflex-django 0.2.3.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterable

__all__ = ["inject_vite_dev_proxy", "patch_vite_config", "vite_patch_command"]

logger = logging.getLogger(__name__)

# The opening of the block the binary writes.
_MARK = "reflex-django:begin"
_warned: set[str] = set()


def vite_patch_command(
    binary: str, *, target: str | None = None, prefixes: Iterable[str] = (), remove: bool = False
) -> list[str]:
    """The command line: the project's rules for its front door by default; or the
    rules for `prefixes` sent to `target`; or, with `remove`, no rules."""
    if remove:
        return [binary, "vite", "patch", "--remove"]
    command = [binary, "vite", "patch"]
    if target is not None:
        command += ["--target", target]
    for prefix in prefixes:
        command += ["--prefix", prefix]
    return command


def patch_vite_config(
    text: str, *, target: str | None = None, prefixes: Iterable[str] = (), remove: bool = False
) -> str:
    """`text` through `reflex-django vite patch` (see `vite_patch_command`).

    When the binary is missing or refuses, one warning per reason is logged and `text`
    comes back unchanged: the Vite dev server then does not forward Django's paths.
    """
    from reflex_django._find_bin import find_reflex_django_bin

    try:
        binary = find_reflex_django_bin()
        done = subprocess.run(
            vite_patch_command(binary, target=target, prefixes=prefixes, remove=remove),
            input=text,
            capture_output=True,
            encoding="utf-8",
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        reason = str(exc)
    else:
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout
        reason = done.stderr.strip() or f"`{binary} vite patch` exited with {done.returncode}"
    if reason not in _warned:
        _warned.add(reason)
        logger.warning(
            "reflex-django: vite.config.js left unchanged, so the Vite dev server will not "
            "send Django's paths to Django: %s",
            reason,
        )
    return text


def inject_vite_dev_proxy(content: str, *, target: str, prefixes: Iterable[str]) -> str:
    """`content` (a vite.config.js) with dev-server proxy rules that send the paths
    under `prefixes` (e.g. `("/admin", "/api")`) to `target` (an origin,
    `http(s)://host[:port]`). Blank prefixes are skipped; with none left, rules written
    earlier are removed."""
    wanted = [str(p).strip() for p in prefixes if str(p).strip()]
    if not wanted:
        return patch_vite_config(content, remove=True) if _MARK in content else content
    return patch_vite_config(content, target=str(target).strip().rstrip("/"), prefixes=wanted)
