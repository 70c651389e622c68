from django.urls import path

from whatworks.riskmodels import views

urlpatterns = [
    path("risk-instruments/", views.run_list, name="riskmodel-run-list"),
    path("risk-instruments/validate/", views.validate_new, name="riskmodel-validate-new"),
    path("risk-instruments/fit/", views.fit_new, name="riskmodel-fit-new"),
    path("risk-instruments/<int:run_id>/", views.run_detail, name="riskmodel-run-detail"),
    path(
        "risk-instruments/<int:run_id>/model-card.html",
        views.model_card,
        name="riskmodel-model-card",
    ),
    path(
        "risk-instruments/<int:run_id>/instrument.yaml",
        views.instrument_yaml,
        name="riskmodel-instrument-yaml",
    ),
    path(
        "risk-instruments/<int:run_id>/publish/",
        views.publication_request,
        name="riskmodel-publication-request",
    ),
    path(
        "risk-instruments/<int:run_id>/decide/",
        views.publication_decide,
        name="riskmodel-publication-decide",
    ),
]
