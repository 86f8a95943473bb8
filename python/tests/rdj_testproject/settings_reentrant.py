from rdj_testproject.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "rdj_testproject.reentrant"]  # noqa: F405
