"""Declarative Reflex states backed by Django: session sign-in and model CRUD."""

from reflex_django.mixins.crud import ModelCRUDConfig, crud_mixin
from reflex_django.mixins.session_auth import SessionAuthConfig, session_auth_mixin

__all__ = ["ModelCRUDConfig", "SessionAuthConfig", "crud_mixin", "session_auth_mixin"]
