"""Django app config, so `reflex_django` can go in INSTALLED_APPS."""

from django.apps import AppConfig


class ReflexDjangoConfig(AppConfig):
    name = "reflex_django"
    label = "reflex_django"
    verbose_name = "Reflex + Django"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from reflex_django import auth_changes, live
        from reflex_django.checks import check_app_order, check_auth_settings, check_event_bridge_settings

        checks.register(check_auth_settings)
        checks.register(check_event_bridge_settings)
        checks.register(check_app_order)
        # Every process with these settings tells Reflex workers what changed.
        auth_changes.connect()
        # ...and which rows changed, for live updates.
        live.connect()
