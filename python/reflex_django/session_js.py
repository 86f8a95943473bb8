"""JavaScript that writes or expires the Django session cookie from the browser.

Kept for code written for reflex-django 0.2.3, whose sign-in states ran these
snippets with `rx.call_script`. reflex-django no longer does: a cookie written by
JavaScript cannot be HttpOnly, so any script on the page (an XSS, a compromised
dependency) could read the session id. The session mixins now hand the session to
the browser through a Django view that sets the cookie itself, HttpOnly (see
`reflex_django.handoff`).

If you still use these snippets, note that a browser ignores a `document.cookie`
write for a name it already holds as an HttpOnly cookie (Django's default,
`SESSION_COOKIE_HTTPONLY = True`), so they only work with that setting off.
"""

from __future__ import annotations

import json
import re

__all__ = [
    "session_cookie_clear_js",
    "session_cookie_name_and_suffix",
    "session_cookie_set_js",
]

# RFC 6265 cookie-octet: what may appear in a cookie value without quoting.
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")


def session_cookie_name_and_suffix() -> tuple[str, str]:
    """`(SESSION_COOKIE_NAME, attributes)`: the attributes that follow `name=value; `
    in a `document.cookie` write, from the `SESSION_COOKIE_*` settings, e.g.
    `("sessionid", "path=/; max-age=1209600; samesite=Lax")`.

    Path (`SESSION_COOKIE_PATH`), domain (`SESSION_COOKIE_DOMAIN`, when set),
    max-age (`SESSION_COOKIE_AGE`), samesite (`SESSION_COOKIE_SAMESITE`, left out
    when False) and `secure` (`SESSION_COOKIE_SECURE`).
    """
    from django.conf import settings

    attributes = [f"path={getattr(settings, 'SESSION_COOKIE_PATH', '/') or '/'}"]
    domain = getattr(settings, "SESSION_COOKIE_DOMAIN", None)
    if domain:
        attributes.append(f"domain={domain}")
    attributes.append(f"max-age={int(getattr(settings, 'SESSION_COOKIE_AGE', 1209600))}")
    samesite = getattr(settings, "SESSION_COOKIE_SAMESITE", "Lax")
    if samesite:
        attributes.append(f"samesite={samesite}")
    if getattr(settings, "SESSION_COOKIE_SECURE", False):
        attributes.append("secure")
    return str(getattr(settings, "SESSION_COOKIE_NAME", "sessionid")), "; ".join(attributes)


def session_cookie_set_js(session_key: str) -> str:
    """A JavaScript statement that sets the session cookie to `session_key`.

    Raises ValueError for a key with characters a cookie value cannot hold (`;`,
    spaces, quotes...), which could otherwise add cookie attributes.
    """
    if not _COOKIE_VALUE.fullmatch(session_key):
        raise ValueError("session_cookie_set_js: the session key is not a valid cookie value")
    name, attributes = session_cookie_name_and_suffix()
    return f"document.cookie = {json.dumps(f'{name}={session_key}; {attributes}')};"


def session_cookie_clear_js() -> str:
    """A JavaScript statement that expires the session cookie (same path and domain
    as `session_cookie_set_js` writes)."""
    name, attributes = session_cookie_name_and_suffix()
    scope = [a for a in attributes.split("; ") if a.startswith(("path=", "domain="))]
    cookie = "; ".join([f"{name}=", *scope, "max-age=0", "expires=Thu, 01 Jan 1970 00:00:00 GMT"])
    return f"document.cookie = {json.dumps(cookie)};"
