"""The views of reflex-django, which belong under its reserved prefix `/_reflex_django/`.

They are reached whatever your ROOT_URLCONF says: Django as `reflex-django run` serves
it, and Django inside Reflex under plain `reflex run`, resolve paths under that prefix
with `reflex_django.package_urls` (see `reflex_django.asgi.with_package_views`). To
serve them from your own URLconf too (e.g. Django run by another server), include them
exactly here::

    path("_reflex_django/", include("reflex_django.urls")),

Used as the whole ROOT_URLCONF (as reflex-django 0.2.3's projects did), this module
serves the admin at the plugin's admin prefix and these views.
"""

import os

from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path

from reflex_django import views

#: This package's views, relative to `/_reflex_django/`.
package_patterns: list[URLPattern | URLResolver] = [
    path("session/", views.session_handoff, name="session"),
]

if getattr(settings, "ROOT_URLCONF", None) == __name__:
    from django.contrib import admin

    _setting: str = getattr(settings, "REFLEX_DJANGO_ADMIN_PREFIX", "/admin")
    _admin = (
        os.environ.get("REFLEX_DJANGO_PREFIXES_ADMIN") or os.environ.get("REFLEX_DJANGO_ADMIN_PREFIX") or _setting
    ).strip("/")
    urlpatterns: list[URLPattern | URLResolver] = [
        path(f"{_admin}/" if _admin else "", admin.site.urls),
        path("_reflex_django/", include((package_patterns, "reflex_django"))),
    ]
else:
    app_name = "reflex_django"
    urlpatterns = package_patterns
