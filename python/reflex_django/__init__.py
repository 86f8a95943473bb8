"""reflex-django: Django (ORM, admin, sessions, auth) and Reflex, together.

The `reflex-django` command (a Rust binary shipped in the same wheel) runs both;
this package holds what must run inside the Reflex process.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("reflex-django")
except PackageNotFoundError:  # running from a source checkout
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
