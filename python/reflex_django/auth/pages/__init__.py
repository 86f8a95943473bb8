"""The canned auth pages, and the pieces they are made of.

`add_auth_pages(app)` (`reflex_django.auth.registry`) registers the enabled pages at the
routes of `REFLEX_DJANGO_AUTH`. To customise, build your own page from the forms here
(or from scratch, wired to `DjangoAuthState`) and add it at the same route *before*
calling `add_auth_pages`: routes the app already has are left alone.

Modules (the layout of reflex-django 0.2.3, plus `forms`):

- `login`: `login_page`; `register`: `register_page`;
  `password_reset`: `password_reset_page`, `password_reset_confirm_page`
- `forms`: `login_form`, `register_form`, `password_reset_form`,
  `password_reset_confirm_form`, `auth_card(title, *children)`; element ids in its doc
- `components`: layout pieces for pages of your own (`auth_card(*children)`,
  `auth_page_shell`, `input_100w`, `error_callout`, `success_callout`)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reflex_django._lazy import lazy_exports
from reflex_django.auth.pages.forms import (
    auth_card,
    login_form,
    password_reset_confirm_form,
    password_reset_form,
    register_form,
)
from reflex_django.auth.pages.login import login_page
from reflex_django.auth.pages.password_reset import (
    password_reset_confirm_page,
    password_reset_page,
)
from reflex_django.auth.pages.register import register_page

if TYPE_CHECKING:
    from reflex_django.auth.registry import add_auth_pages

__all__ = [
    "add_auth_pages",
    "auth_card",
    "login_form",
    "login_page",
    "password_reset_confirm_form",
    "password_reset_confirm_page",
    "password_reset_form",
    "password_reset_page",
    "register_form",
    "register_page",
]

# Lazy: `reflex_django.auth.registry` imports the page modules of this package.
__getattr__, __dir__ = lazy_exports(__name__, {"add_auth_pages": "reflex_django.auth.registry"}, globals())
