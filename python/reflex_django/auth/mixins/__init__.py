"""Declarative states for registration, password reset and the login redirect (the
module names of reflex-django 0.2.3). `DjangoAuthState` is built from the same members.

- `registration`: `RegistrationConfig`, `registration_mixin`, `populate_registration_state`
- `password_reset`: `PasswordResetConfig`, `password_reset_mixin`,
  `populate_password_reset_state`
- `navigation`: `navigation_mixin`, `populate_navigation_state`

Each builder takes `base=` (any `rx.State` subclass) and `state_module=`; each
`populate_*` function fills the namespace of a class being built, to combine several.
"""

from reflex_django.auth.mixins.navigation import navigation_mixin, populate_navigation_state
from reflex_django.auth.mixins.password_reset import (
    PasswordResetConfig,
    password_reset_mixin,
    populate_password_reset_state,
)
from reflex_django.auth.mixins.registration import (
    RegistrationConfig,
    populate_registration_state,
    registration_mixin,
)

__all__ = [
    "PasswordResetConfig",
    "RegistrationConfig",
    "navigation_mixin",
    "password_reset_mixin",
    "populate_navigation_state",
    "populate_password_reset_state",
    "populate_registration_state",
    "registration_mixin",
]
