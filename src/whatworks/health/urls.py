from django.urls import path

from whatworks.health import views

urlpatterns = [
    path("persons/<int:person_id>/health/", views.person_health, name="person-health"),
    path(
        "persons/<int:person_id>/health/diagnoses/new/",
        views.diagnosis_new,
        name="diagnosis-new",
    ),
    path(
        "persons/<int:person_id>/health/referrals/new/",
        views.health_referral_new,
        name="health-referral-new",
    ),
    path(
        "persons/<int:person_id>/health/relapse-plan/",
        views.relapse_plan_edit,
        name="relapse-plan-edit",
    ),
    path(
        "diagnoses/<int:diagnosis_id>/correct/", views.diagnosis_correct, name="diagnosis-correct"
    ),
    path(
        "health-referrals/<int:referral_id>/update/",
        views.health_referral_update,
        name="health-referral-update",
    ),
    path("relapse-plans/due/", views.relapse_reviews_due, name="relapse-reviews-due"),
    path(
        "relapse-plans/<int:plan_id>/activate/",
        views.relapse_plan_activate,
        name="relapse-plan-activate",
    ),
    path(
        "relapse-plans/<int:plan_id>/review/", views.relapse_plan_review, name="relapse-plan-review"
    ),
    path("relapse-plans/<int:plan_id>/print/", views.relapse_plan_print, name="relapse-plan-print"),
]
