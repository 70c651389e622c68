from django.urls import path

from whatworks.assessments import views

urlpatterns = [
    path(
        "persons/<int:person_id>/assessments/",
        views.person_assessments,
        name="person-assessments",
    ),
    path("assessments/due/", views.reassessment_due, name="assessments-due"),
    path("assessments/override-rates/", views.override_rates, name="assessment-override-rates"),
    path("assessments/<int:assessment_id>/", views.assessment_detail, name="assessment-detail"),
    path("assessments/<int:assessment_id>/edit/", views.assessment_edit, name="assessment-edit"),
    path(
        "assessments/<int:assessment_id>/override/",
        views.assessment_override,
        name="assessment-override",
    ),
]
