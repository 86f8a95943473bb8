"""Django app config, so `reflex_django` can go in INSTALLED_APPS."""

from django.apps import AppConfig


class ReflexDjangoConfig(AppConfig):
    name = "reflex_django"
    label = "reflex_django"
    verbose_name = "Reflex + Django"
    default_auto_field = "django.db.models.BigAutoField"
