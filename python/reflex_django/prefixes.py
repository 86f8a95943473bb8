"""The prefix rules: which URL paths belong to Django.

The same rules as the `reflex-django` front door (`src/proxy/routes.rs`): their data
comes from `prefix_rules.json`, which the binary compiles in, and both test suites
check `tests/prefix_cases.json`, so the in-process dispatcher, the front door and the
Vite rules send a path to the same place.

- A prefix is normalised to `/seg[/seg…]` with no trailing slash; empty and `/` are
  refused, as are `.`/`..` segments and characters that cannot appear in a URL path.
- A path belongs to a prefix on a segment boundary: `/admin` and `/admin/x` are under
  `/admin`, `/administrator` is not. Paths are compared as sent (percent-encoded).
- Reflex's own paths (`/_event`, `/_upload`, …) never go to Django; a prefix at or under
  one of them is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib.resources import files

__all__ = [
    "INTERNAL_PREFIX",
    "RESERVED_REFLEX_PREFIXES",
    "PrefixError",
    "is_under",
    "normalize_prefix",
    "routes_to_django",
    "static_prefix",
]

_RULES = json.loads(files("reflex_django").joinpath("prefix_rules.json").read_text("utf-8"))

#: Paths Reflex serves itself (the event WebSocket, uploads, health checks).
RESERVED_REFLEX_PREFIXES: tuple[str, ...] = tuple(_RULES["reflex_reserved"])
#: The prefix of the Django views that ship with this package (the session hand-off).
INTERNAL_PREFIX: str = _RULES["internal"]
_PATH_CHARS = frozenset(_RULES["path_chars"])


class PrefixError(ValueError):
    """A configured prefix the rules refuse; `kind` is `root`, `bad_char`,
    `dot_segment` or `reserved`, and `hint` says how to fix it."""

    def __init__(self, kind: str, message: str, hint: str) -> None:
        super().__init__(f"{message}\nhint: {hint}")
        self.kind = kind
        self.hint = hint


def is_under(path: str, prefix: str) -> bool:
    """The segment-boundary rule: `path` is `prefix` or below it."""
    return path == prefix or path.startswith(prefix + "/")


def _reserved_for(path: str) -> str | None:
    return next((r for r in RESERVED_REFLEX_PREFIXES if is_under(path, r)), None)


def _is_path_char(c: str) -> bool:
    return (c.isascii() and c.isalnum()) or c in _PATH_CHARS


def normalize_prefix(raw: str) -> str:
    """`raw` as a prefix (`admin/` → `/admin`), or `PrefixError`."""
    segments = [s for s in str(raw).strip().split("/") if s]
    for segment in segments:
        if segment in (".", ".."):
            raise PrefixError(
                "dot_segment",
                f"{raw!r} is not a path prefix: `.` and `..` segments are not allowed",
                "write the prefix as a plain path, e.g. `/api` or `/billing/v2`",
            )
        bad = next((c for c in segment if not _is_path_char(c)), None)
        if bad is not None:
            raise PrefixError(
                "bad_char",
                f"{raw!r} is not a path prefix: {bad!r} is not allowed in a URL path",
                "write the prefix as a plain path, e.g. `/api` or `/billing/v2`",
            )
    if not segments:
        raise PrefixError(
            "root",
            "a prefix cannot be empty or `/` (that would send every path to Django)",
            "use a path such as `/admin` or `/api`; Reflex serves everything else",
        )
    prefix = "/" + "/".join(segments)
    reserved = _reserved_for(prefix)
    if reserved is not None:
        raise PrefixError(
            "reserved",
            f"{prefix!r} collides with Reflex's reserved path {reserved!r}",
            f"Reflex needs these paths for itself: {', '.join(RESERVED_REFLEX_PREFIXES)}; pick another prefix",
        )
    return prefix


def static_prefix(static_url: object) -> str | None:
    """The prefix of Django's `STATIC_URL`, or None when static files live on another
    origin (`https://cdn…/`, `//cdn…/`) or the setting is empty."""
    url = str(static_url or "").strip()
    if not url or url.startswith("//") or "://" in url:
        return None
    return normalize_prefix(url)


def routes_to_django(path: str, prefixes: Iterable[str]) -> bool:
    """Whether a request for `path` (as sent, percent-encoded) goes to Django."""
    return any(is_under(path, p) for p in prefixes)
