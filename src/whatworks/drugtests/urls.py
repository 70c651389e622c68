from django.urls import path

from whatworks.drugtests import views

urlpatterns = [
    path("persons/<int:person_id>/drug-tests/", views.person_tests, name="drugtest-person"),
    path("persons/<int:person_id>/drug-tests/new/", views.test_new, name="drugtest-new"),
    path("drug-tests/<int:test_id>/correct/", views.test_correct, name="drugtest-correct"),
    path("drug-tests/selection/", views.selection_index, name="drugtest-selection-index"),
    path(
        "drug-tests/selection/<int:facility_id>/<str:month>/",
        views.selection_detail,
        name="drugtest-selection",
    ),
    path(
        "drug-tests/selection/<int:facility_id>/<str:month>/draw/",
        views.selection_draw,
        name="drugtest-selection-draw",
    ),
    path(
        "drug-tests/selection/<int:facility_id>/<str:month>/untestable/",
        views.selection_untestable,
        name="drugtest-selection-untestable",
    ),
    path("drug-tests/dashboard/", views.dashboard, name="drugtest-dashboard"),
]
