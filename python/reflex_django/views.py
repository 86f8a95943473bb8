"""Django views of reflex-django (see `reflex_django.urls`)."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import escape
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from reflex_django.auth.conf import auth_setting, message
from reflex_django.handoff import TICKET_PARAM, TicketRefused, redeem

__all__ = ["session_handoff"]

logger = logging.getLogger(__name__)

# Navigations a ticket may arrive with (`Sec-Fetch-Site`); a browser that does not
# send the header is let through, the ticket's other checks still apply.
_ALLOWED_FETCH_SITES = frozenset({"same-origin", "same-site", "none"})


@never_cache
@login_not_required
@require_GET
def session_handoff(request: HttpRequest) -> HttpResponse:
    """Redeem a session hand-off ticket (see `reflex_django.handoff`): sign the
    browser in or out with Django's own `login()` / `logout()`, so `SessionMiddleware`
    sets or deletes the HttpOnly session cookie, then redirect to the ticket's local
    `next` path."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    try:
        if fetch_site is not None and fetch_site not in _ALLOWED_FETCH_SITES:
            raise TicketRefused(f"cross-site navigation (Sec-Fetch-Site: {fetch_site})")
        done = redeem(request, request.GET.get(TICKET_PARAM, ""))
    except TicketRefused as refused:
        logger.warning("reflex-django: session hand-off refused: %s", refused)
        return _refused_page()
    response = HttpResponseRedirect(done.next_url)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _refused_page() -> HttpResponse:
    text = escape(message("ticket_invalid"))
    login = escape(auth_setting("LOGIN_URL"))
    title = escape(message("login_title"))
    body = (
        '<!doctype html><meta charset="utf-8"><title>' + title + "</title>"
        '<p id="ticket-invalid">' + text + '</p><p><a href="' + login + '">' + title + "</a></p>"
    )
    response = HttpResponse(body, status=400)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
