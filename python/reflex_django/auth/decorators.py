"""`login_required`, under its 0.2.3 module name (it lives in `reflex_django.auth.guards`).

A page guard: it decides what the browser shows, it does not protect data. Check the
user in the event handlers with `reflex_django.authz.django_login_required` or
`require_login_user()`.
"""

from __future__ import annotations

from reflex_django.auth.guards import login_required

__all__ = ["login_required"]
