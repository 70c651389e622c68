from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "whatworks.community"
    verbose_name = _("Community providers and follow-up")
