from django.apps import AppConfig


class ReentrantConfig(AppConfig):
    """Calls configure_django() while Django is still being set up."""

    name = "rdj_testproject.reentrant"

    def ready(self) -> None:
        from reflex_django.conf import configure_django

        configure_django()
