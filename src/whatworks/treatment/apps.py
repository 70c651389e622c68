from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatmentConfig(AppConfig):
    name = "whatworks.treatment"
    verbose_name = _("Treatment")

    def ready(self) -> None:
        # Enrolments end when the person is released or transferred (records.signals).
        from whatworks.treatment import receivers  # noqa: F401
