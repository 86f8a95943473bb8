"""Django models in Reflex state: an abstract `Model` base and a Reflex serializer.

Importing this module sets Django up (`configure_django()`), so models can be
declared at the top of a module that imports it. Once imported, a Django model
instance can be held in a Reflex state var: Reflex sends it to the browser as the
dict `serialize_django_model` makes.
"""

from __future__ import annotations

from typing import Any

from reflex_base.utils.serializers import serializer

from reflex_django.conf import configure_django

configure_django()

from django.db import models  # noqa: E402 - needs the settings configured above

__all__ = ["Model", "serialize_django_model"]


class Model(models.Model):
    """An abstract base for your models; a plain `django.db.models.Model` otherwise.

    Subclasses are ordinary Django models: put them in an installed app's
    `models.py` and run `makemigrations` / `migrate`::

        from django.db import models as m
        from reflex_django.model import Model

        class Post(Model):
            title = m.CharField(max_length=200)
    """

    class Meta:
        abstract = True


@serializer(to=dict)
def serialize_django_model(value: models.Model) -> dict[str, Any]:
    """A model instance as `model_to_dict(value)` plus its primary key (under the
    pk's field name, e.g. `id`), which `model_to_dict` leaves out when it is not
    editable. Values Reflex cannot send as they are (dates, decimals) go through
    Reflex's own serializers."""
    from django.forms.models import model_to_dict

    data = model_to_dict(value)
    pk = value._meta.pk
    data.setdefault(pk.name if pk is not None else "id", value.pk)
    return data
