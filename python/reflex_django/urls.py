"""The views of reflex-django, under its reserved prefix. Include them in your
ROOT_URLCONF exactly here (the front door routes `/_reflex_django` to Django)::

    path("_reflex_django/", include("reflex_django.urls")),
"""

from django.urls import path

from reflex_django import views

app_name = "reflex_django"

urlpatterns = [
    path("session/", views.session_handoff, name="session"),
]
