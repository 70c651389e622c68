from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReintegrationConfig(AppConfig):
    name = "whatworks.reintegration"
    verbose_name = _("Reintegration")
