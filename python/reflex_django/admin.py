"""`register()` and `site`: the Django admin, for modules that declare models.

Importing this module sets Django up (`configure_django()`), so a module can
register its models at import time. Django's admin autodiscovery also imports it
(`reflex_django` is an installed app); it registers nothing by itself and never
imports Reflex.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from reflex_django.conf import configure_django

configure_django()

from django.contrib import admin as _admin  # noqa: E402 - needs the settings configured above

if TYPE_CHECKING:
    from django.db.models import Model

__all__ = ["register", "site"]

logger = logging.getLogger(__name__)

#: Django's default admin site (`django.contrib.admin.site`).
site = _admin.site


def register(
    model: type[Model],
    admin_class: type[_admin.ModelAdmin[Any]] | None = None,
    **options: Any,
) -> type[_admin.ModelAdmin[Any]]:
    """Register `model` on the default admin site and return its `ModelAdmin` class.

    Without `admin_class`, a `ModelAdmin` subclass named `<Model>Admin` is made with
    `options` as class attributes (`list_display=("title",)`, ...). With
    `admin_class`, that class is used as it is and `options` are ignored (a warning
    says so). Registering a model twice raises Django's `AlreadyRegistered`.
    """
    if admin_class is None:
        attrs = {"__module__": getattr(model, "__module__", __name__), **options}
        admin_class = type(f"{model.__name__}Admin", (_admin.ModelAdmin,), attrs)
    elif options:
        logger.warning(
            "reflex_django.admin.register(%s): options %s ignored, since admin_class is given",
            model.__name__,
            ", ".join(sorted(options)),
        )
    site.register(model, admin_class)
    return admin_class
