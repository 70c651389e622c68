from django.urls import path

from whatworks.records import merge_views, views

urlpatterns = [
    path("persons/", views.person_list, name="person-list"),
    path("persons/new/", views.person_admit, name="person-admit"),
    path("persons/merge/", merge_views.person_merge_view, name="person-merge"),
    path("persons/<int:person_id>/", views.person_detail, name="person-detail"),
    path("persons/<int:person_id>/edit/", views.person_edit, name="person-edit"),
    path("persons/<int:person_id>/episodes/new/", views.episode_new, name="episode-new"),
    path(
        "persons/<int:person_id>/episodes/<int:episode_id>/transfer/",
        views.episode_transfer,
        name="episode-transfer",
    ),
    path(
        "persons/<int:person_id>/episodes/<int:episode_id>/release/",
        views.episode_release,
        name="episode-release",
    ),
    path(
        "persons/<int:person_id>/outcome-events/new/",
        views.outcome_event_new,
        name="outcome-event-new",
    ),
]
