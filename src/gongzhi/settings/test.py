"""Test settings: fast hashing, in-memory mail, tasks run immediately unless a test says not."""

import os

from .base import *  # noqa: F403
from .base import DATABASES

DEBUG = False
SECRET_KEY = "gongzhi-test-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
AXES_ENABLED = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not os.environ.get(
    "DATABASE_URL"
):
    DATABASES["default"]["TEST"] = {"NAME": None}  # in-memory for speed
# No API rate limits across the suite (its requests all come from one address); the tests of
# the limits set them with override_settings.
API_RATE_TOKEN = ""
API_RATE_ADDRESS = ""
