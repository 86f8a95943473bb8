"""Same-origin production builds, for `reflex-django build`.

Reflex bakes the backend's address into the built frontend (`.web/env.json`, from
`REFLEX_API_URL`). For `localhost` it swaps in the page's host name at run time but
keeps the port, so a build for one port breaks behind a proxy on another. Behind the
front door the backend is always on the page's own origin, so `reflex-django build`
adds `SameOriginBuild` (through `REFLEX_EXTRA_PLUGINS`) and the built frontend talks
to whatever origin served it: one build works behind any host name, port or TLS edge.

The patch of Reflex's `utils/state.js` is applied in memory while Reflex compiles; it
takes effect only in a production bundle whose `env.json` carries the flag, so the
dev server and builds made without this plugin behave as before.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from reflex_base.plugins.base import Plugin

if TYPE_CHECKING:
    from typing import Unpack

    from reflex_base.plugins.base import CommonContext, PreCompileContext

__all__ = ["BUNDLE_MARK", "SAME_ORIGIN_FLAG", "SameOriginBuild", "patch_state_js"]

logger = logging.getLogger(__name__)

#: The `env.json` entry that turns the patched `getBackendURL` on.
SAME_ORIGIN_FLAG = "REFLEX_DJANGO_SAME_ORIGIN"
#: A name only the patch puts in the bundle: `reflex-django build` looks for it to
#: know that the patch took effect (comments do not survive minification; this does).
BUNDLE_MARK = "__reflexDjangoSameOrigin"

_ANCHOR = "const endpoint = new URL(url_str);"
# The patch sits between these two lines, so a newer patch replaces an older one.
_BEGIN = "  // reflex-django: same-origin backend {"
_END = "  // } reflex-django"
_PATCH = f"""
{_BEGIN}
  if (typeof window !== "undefined" && import.meta.env.PROD && env.{SAME_ORIGIN_FLAG}) {{
    const secure = window.location.protocol === "https:";
    endpoint.protocol = endpoint.protocol.startsWith("ws")
      ? (secure ? "wss:" : "ws:")
      : window.location.protocol;
    endpoint.host = window.location.host;
    window.{BUNDLE_MARK} = true;
    return endpoint;
  }}
{_END}"""


def patch_state_js(text: str) -> str:
    """Make `getBackendURL` answer with the page's own origin in same-origin builds.

    Idempotent (an earlier patch is replaced); leaves `text` alone, and says so, when
    Reflex's code has changed shape.
    """
    begin = text.find("\n" + _BEGIN)
    if begin >= 0:
        end = text.find(_END, begin)
        if end >= 0:
            text = text[:begin] + text[end + len(_END) :]
    start = text.find("export const getBackendURL")
    anchor = text.find(_ANCHOR, start) if start >= 0 else -1
    if anchor < 0:
        logger.warning(
            "reflex-django: this Reflex's utils/state.js has no getBackendURL as expected; "
            "the build keeps the backend address it was given (REFLEX_API_URL)"
        )
        return text
    cut = anchor + len(_ANCHOR)
    return text[:cut] + _PATCH + text[cut:]


class SameOriginBuild(Plugin):
    """Added by `reflex-django build`; not meant for `rxconfig.py`."""

    def pre_compile(self, **context: Unpack[PreCompileContext]) -> None:
        context["add_modify_task"]("utils/state.js", patch_state_js)

    def update_env_json(self, **context: Unpack[CommonContext]) -> dict[str, Any] | None:
        return {SAME_ORIGIN_FLAG: True}
