from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "whatworks.community"
    verbose_name = _("Community providers and follow-up")

    def ready(self) -> None:
        from whatworks.community import conf, receivers  # noqa: F401

        # A follow-up setting that cannot be used stops the start-up, naming the variable.
        conf.followup_months()
        conf.grace_days()
