"""Settings for the test suite: the real settings, with a throwaway secret key and data folder.

The product itself refuses to start without SECRET_KEY; tests get a random one per run.
"""

import os
import secrets
import tempfile

os.environ.setdefault("SECRET_KEY", "test-" + secrets.token_urlsafe(32))
os.environ.setdefault("WHATWORKS_DATA_DIR", tempfile.mkdtemp(prefix="whatworks-test-"))

from whatworks.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The test client and the live server speak plain HTTP; the redirect itself is tested with
# the production settings in src/whatworks/demo/tests/test_demo.py.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0

# Persistent connections from the live server's thread would keep the PostgreSQL test
# database busy at teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# Evaluations run synchronously in tests, inside the request or service that enqueues them.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Two-factor sign-in is tested where it is switched on (src/whatworks/accounts/tests); the
# rest of the suite signs personas in with force_login, which no TOTP code accompanies.
TWO_FACTOR_REQUIRED_ROLES = []
