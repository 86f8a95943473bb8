"""The tests' project on a throwaway PostgreSQL (python/tests/throwaway_servers.py)."""

import os

from .settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": "postgres",
        "HOST": os.environ["RDJ_PG_HOST"],
        "PORT": os.environ["RDJ_PG_PORT"],
        "CONN_MAX_AGE": int(os.environ.get("RDJ_PG_CONN_MAX_AGE", "0")),
        "CONN_HEALTH_CHECKS": os.environ.get("RDJ_PG_HEALTH_CHECKS") == "1",
    }
}
