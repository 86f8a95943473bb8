"""Declarative Reflex states backed by Django: session sign-in and model CRUD."""

from reflex_django.mixins.crud import ModelCRUDConfig, _default_row_serializer, crud_mixin
from reflex_django.mixins.session_auth import (
    SessionAuthConfig,
    populate_session_auth_state,
    session_auth_mixin,
)

__all__ = [
    "ModelCRUDConfig",
    "SessionAuthConfig",
    "_default_row_serializer",
    "crud_mixin",
    "populate_session_auth_state",
    "session_auth_mixin",
]
