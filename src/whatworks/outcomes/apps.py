from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutcomesConfig(AppConfig):
    name = "whatworks.outcomes"
    verbose_name = _("Outcome imports and record linkage")
