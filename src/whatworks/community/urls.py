from django.urls import path

from whatworks.community import views

urlpatterns = [
    path("community/providers/", views.provider_list, name="community-provider-list"),
    path("community/providers/new/", views.provider_new, name="community-provider-new"),
    path(
        "community/providers/<int:provider_id>/",
        views.provider_detail,
        name="community-provider-detail",
    ),
    path(
        "community/providers/<int:provider_id>/edit/",
        views.provider_edit,
        name="community-provider-edit",
    ),
    path(
        "community/providers/<int:provider_id>/deactivate/",
        views.provider_deactivate,
        name="community-provider-deactivate",
    ),
    path("persons/<int:person_id>/community/", views.person_community, name="person-community"),
    path(
        "persons/<int:person_id>/community/referrals/new/",
        views.referral_new,
        name="community-referral-new",
    ),
    path(
        "persons/<int:person_id>/community/follow-ups/schedule/",
        views.followup_schedule,
        name="community-followup-schedule",
    ),
    path(
        "community/referrals/<int:referral_id>/status/",
        views.referral_transition,
        name="community-referral-transition",
    ),
    path(
        "community/follow-ups/<int:contact_id>/record/",
        views.followup_record,
        name="community-followup-record",
    ),
    path("community/follow-ups/", views.followups_overview, name="community-followups"),
]
