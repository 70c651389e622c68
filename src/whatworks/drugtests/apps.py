from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrugTestsConfig(AppConfig):
    name = "whatworks.drugtests"
    verbose_name = _("Drug tests")
