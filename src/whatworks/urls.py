from django.urls import include, path

from whatworks.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("", include("whatworks.accounts.urls")),
    path("", include("whatworks.records.urls")),
    path("", include("whatworks.evidence.urls")),
    path("", include("whatworks.assessments.urls")),
    path("", include("whatworks.treatment.urls")),
    path("", include("whatworks.health.urls")),
    path("", include("whatworks.drugtests.urls")),
    path("", include("whatworks.evaluation.urls")),
    path("", include("whatworks.reintegration.urls")),
    path("", include("whatworks.community.urls")),
    path("", include("whatworks.outcomes.urls")),
    path("", include("whatworks.riskmodels.urls")),
    path("", include("whatworks.audit.urls")),
    path("", include("whatworks.privacy.urls")),
    path("", include("whatworks.web.urls")),
]
