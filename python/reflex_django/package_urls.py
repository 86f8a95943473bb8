"""The URLconf of requests under `/_reflex_django/`: only this package's views, so they
work without any line in the project's own URLconf (see
`reflex_django.asgi.with_package_views`)."""

from django.urls import include, path

from reflex_django.urls import package_patterns

urlpatterns = [
    path("_reflex_django/", include((package_patterns, "reflex_django"))),
]
