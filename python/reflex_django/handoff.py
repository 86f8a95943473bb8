"""Hand a session made over the WebSocket to the browser, as an HttpOnly cookie.

A Reflex event cannot set a cookie: it has no HTTP response, and writing the session
id from JavaScript would make it readable by every script on the page. So a
sign-in (or sign-out) over the WebSocket only *stages* the change and sends the browser
to a small Django view with a ticket; Django's own `login()` / `logout()` run there and
`SessionMiddleware` sets or deletes the cookie with the `SESSION_COOKIE_*` settings
(HttpOnly, Secure, SameSite, domain, path, age).

The ticket is minted in the Reflex process and redeemed in the Django process, so
nothing may live in process memory: the state sits in the session store both share
(the database by default).

- `aissue_ticket()` (Reflex process) creates a *staging* session that holds a random
  nonce, what to do (`login`: user id, backend, session auth hash; or `logout`) and a
  keyed hash of the session cookie the browser had on the WebSocket; it expires after
  `TICKET_MAX_AGE` seconds. The staging session is not a signed-in session: knowing its
  key gives nothing. The ticket is `django.core.signing.dumps({"s": staging key,
  "n": nonce, "op": ..., "next": path}, salt=SALT)`: base64 JSON, a timestamp and an
  HMAC-SHA256 signature made with `SECRET_KEY`.
- `redeem()` (Django process, `reflex_django.views.session_handoff`) checks the
  signature and age, loads the staging session and compares the nonce, deletes the
  checks that the browser presents the same session cookie as on the WebSocket (a
  ticket minted for a browser without a cookie also needs `Sec-Fetch-Site:
  same-origin`: only the app's own page navigates there with it, not a link an
  attacker sent), and only then deletes the staging session (an atomic `DELETE` for
  database-backed stores: only one redemption can win), so an attempt from the wrong
  browser cannot burn the ticket. Then it logs the user in (the user must still be
  active with the same password) or out on the real HTTP request.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme

from reflex_django.auth.conf import auth_setting

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase
    from django.http import HttpRequest

__all__ = [
    "SALT",
    "TicketRefused",
    "aissue_ticket",
    "handoff_url",
    "redeem",
    "safe_local_path",
]

logger = logging.getLogger(__name__)

SALT = "reflex_django.handoff"
TICKET_PARAM = "ticket"
# The key of the hand-off record inside the staging session's data.
DATA_KEY = "_reflex_django_handoff"

Op = Literal["login", "logout"]


class TicketRefused(Exception):
    """The ticket is forged, expired, used, or presented by another browser."""


@dataclass(frozen=True)
class Redeemed:
    op: Op
    next_url: str


def safe_local_path(url: Any) -> str | None:
    """`url` when it is a path on this site (`/notes?x=1`), else None.

    Refuses absolute and scheme-relative URLs (`https://evil.example`,
    `//evil.example`, `/\\evil.example`) and control characters.
    """
    if not isinstance(url, str) or not url.startswith("/") or url.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    if not url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return None
    return url


def handoff_url() -> str:
    """The path of the hand-off view: where the project's URLconf puts it, else
    `/_reflex_django/session/`, which `reflex_django.asgi.with_package_views` serves
    whatever the URLconf says."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("reflex_django:session")
    except NoReverseMatch:
        return reverse("reflex_django:session", urlconf="reflex_django.package_urls")


async def aissue_ticket(request: HttpRequest, op: Op, next_url: str, user: Any = None) -> str:
    """Stage `op` for the browser behind `request` (the Reflex event's request) and
    return the URL that completes it: the hand-off view with a fresh ticket.

    For `login`, `user` is the user `aauthenticate()` returned (it carries `backend`).
    `next_url` must be a local path; anything else becomes `/`.
    """
    max_age = int(auth_setting("TICKET_MAX_AGE"))
    nonce = secrets.token_urlsafe(24)
    record: dict[str, Any] = {
        "op": op,
        "nonce": nonce,
        "cookie": _cookie_digest(request.COOKIES.get(settings.SESSION_COOKIE_NAME)),
    }
    if op == "login":
        backend = getattr(user, "backend", None)
        if not backend:
            raise ValueError("aissue_ticket(op='login') needs the user aauthenticate() returned")
        record.update(
            user=user._meta.pk.value_to_string(user),
            backend=backend,
            hash=user.get_session_auth_hash(),
        )
    staging = _session_store()(None)
    staging[DATA_KEY] = record
    staging.set_expiry(max_age)
    await staging.asave()
    payload = {
        "s": staging.session_key,
        "n": nonce,
        "op": op,
        "next": safe_local_path(next_url) or "/",
    }
    ticket = signing.dumps(payload, salt=SALT)
    return f"{handoff_url()}?{urlencode({TICKET_PARAM: ticket})}"


def redeem(request: HttpRequest, ticket: str) -> Redeemed:
    """Check `ticket` and carry out what it staged on `request` (a real HTTP request
    that went through `SessionMiddleware`). Raises `TicketRefused` with the reason."""
    from django.contrib.auth import login, logout

    if not hasattr(request, "session"):
        raise ImproperlyConfigured(
            "reflex-django: the session hand-off view needs "
            "'django.contrib.sessions.middleware.SessionMiddleware' in MIDDLEWARE"
        )
    try:
        payload = signing.loads(ticket, salt=SALT, max_age=int(auth_setting("TICKET_MAX_AGE")))
    except signing.SignatureExpired:
        raise TicketRefused("expired") from None
    except signing.BadSignature:
        raise TicketRefused("bad signature") from None
    if not isinstance(payload, dict) or payload.get("op") not in ("login", "logout"):
        raise TicketRefused("malformed")
    staging = _session_store()(str(payload.get("s") or "") or None)
    record = staging.get(DATA_KEY) if staging.session_key else None
    if (
        not isinstance(record, dict)
        or record.get("op") != payload["op"]
        or not constant_time_compare(str(record.get("nonce", "")), str(payload.get("n", "")))
    ):
        raise TicketRefused("no staged hand-off for this ticket (used, expired or replaced)")
    # Every check that depends on who presents the ticket comes before the claim: a
    # leaked link tried from another browser must not cancel the real sign-in.
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not constant_time_compare(_cookie_digest(cookie), str(record.get("cookie", ""))):
        raise TicketRefused("presented by a browser with another session")
    if not cookie and not _from_this_sites_page(request):
        # Bound to "no cookie", which any fresh browser has: only the app's own page
        # may navigate here with it, never a link from elsewhere (login CSRF).
        raise TicketRefused(
            "a ticket of a browser without a session must come from this site's own page "
            f"(Sec-Fetch-Site: {request.headers.get('Sec-Fetch-Site') or 'absent'})"
        )
    if not _claim(staging):
        raise TicketRefused("already used")
    if payload["op"] == "login":
        user = _staged_user(record)
        login(request, user, backend=record["backend"])
    else:
        logout(request)
    return Redeemed(op=payload["op"], next_url=safe_local_path(payload.get("next")) or "/")


def _from_this_sites_page(request: HttpRequest) -> bool:
    """Whether the browser says this navigation came from a page of this site:
    `Sec-Fetch-Site: same-origin`, or — where browsers send no `Sec-Fetch-*` (plain
    HTTP to a LAN address, older browsers) — a `Referer` on this host. A page cannot
    forge either in a victim's browser."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    referer = request.headers.get("Referer") or ""
    try:
        return bool(referer) and urlsplit(referer).netloc == request.get_host()
    except Exception:  # a malformed Referer or Host: not this site
        return False


def _staged_user(record: dict[str, Any]) -> Any:
    """The user a login record names, if they may still sign in as staged."""
    from django.contrib.auth import get_user_model, load_backend

    backend_path = str(record.get("backend", ""))
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        raise TicketRefused("unknown authentication backend")
    try:
        user_id = get_user_model()._meta.pk.to_python(record.get("user"))
    except Exception:
        raise TicketRefused("malformed user id") from None
    user = load_backend(backend_path).get_user(user_id)  # None for inactive users
    if user is None:
        raise TicketRefused("the user no longer exists or may not sign in")
    if not constant_time_compare(str(record.get("hash", "")), user.get_session_auth_hash()):
        raise TicketRefused("the password changed since the ticket was issued")
    return user


def _claim(staging: SessionBase) -> bool:
    """Delete the staging session; True for the one caller that deleted it."""
    model = getattr(staging, "model", None)  # database-backed stores
    key = staging.session_key
    if model is not None:
        deleted: int
        deleted, _ = model._default_manager.filter(session_key=key).delete()
        staging.delete()  # also drops a cached copy (cached_db)
        return deleted > 0
    staging.delete()
    return True


def _cookie_digest(cookie: str | None) -> str:
    return salted_hmac(SALT + ".cookie", cookie or "", algorithm="sha256").hexdigest()


def _session_store() -> Any:
    engine = settings.SESSION_ENGINE
    if engine == "django.contrib.sessions.backends.signed_cookies":
        raise ImproperlyConfigured(
            "reflex-django: signing in from Reflex needs a server-side session store "
            "(SESSION_ENGINE 'db', 'cached_db', or 'cache' with a cache both the Django "
            "and the Reflex process share), not 'signed_cookies'"
        )
    return import_module(engine).SessionStore
