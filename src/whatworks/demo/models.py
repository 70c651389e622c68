from django.db import models
from django.utils.translation import gettext_lazy as _


class DemoRun(models.Model):
    """What `whatworks demo` loaded, so that running it again reuses the same demo."""

    persons = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    extract_date = models.DateField()
    rows_loaded = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("demo run")
        verbose_name_plural = _("demo runs")

    def __str__(self) -> str:
        return f"{self.persons} persons, seed {self.seed}"
