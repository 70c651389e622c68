from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    """Password login, refusing demo accounts outside demo mode and locked accounts.

    Demo passwords are printed on the console and in the README, so they must never open
    a production database, even one that was seeded by the demo.
    """

    def user_can_authenticate(self, user) -> bool:
        if getattr(user, "is_demo_account", False) and not settings.DEMO_MODE:
            return False
        # A locked account cannot log in, even with the right password, until unlocked.
        if getattr(user, "locked_at", None) is not None:
            return False
        return super().user_can_authenticate(user)
