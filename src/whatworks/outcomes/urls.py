from django.urls import path

from whatworks.outcomes import views

urlpatterns = [
    path("outcomes/review/", views.review_queue, name="outcome-review-queue"),
    path("outcomes/review/<int:review_id>/", views.review_detail, name="outcome-review-detail"),
    path(
        "outcomes/review/<int:review_id>/accept/",
        views.review_accept,
        name="outcome-review-accept",
    ),
    path(
        "outcomes/review/<int:review_id>/reject/",
        views.review_reject,
        name="outcome-review-reject",
    ),
    path("outcomes/imports/", views.import_list, name="outcome-import-list"),
]
