"""`DjangoI18nState`: the event's Django language, for display (`lang`, `dir`)."""

from __future__ import annotations

import reflex as rx

from reflex_django.context import current_language

__all__ = ["DjangoI18nState"]


class DjangoI18nState(rx.State):
    """The language Django negotiated for the event (cookie, Accept-Language,
    `LANGUAGE_CODE`): `app.add_page(home, on_load=DjangoI18nState.sync_from_django)`.
    """

    django_language_code: str = ""
    django_language_bidi: bool = False

    @rx.event
    async def sync_from_django(self) -> None:
        """Copy the event's language into the state (use as `on_load`)."""
        await self.refresh_django_i18n_fields()

    async def refresh_django_i18n_fields(self) -> None:
        """Refresh, e.g. after the user changed language through a Django view."""
        from django.utils import translation

        code = current_language()
        self.django_language_code = code
        with translation.override(code):
            self.django_language_bidi = translation.get_language_bidi()
