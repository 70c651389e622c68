from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskModelsConfig(AppConfig):
    name = "whatworks.riskmodels"
    verbose_name = _("Risk instruments on local outcomes")
