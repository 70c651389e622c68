from django.urls import path

from whatworks.reintegration import views

urlpatterns = [
    path(
        "persons/<int:person_id>/reintegration/",
        views.person_reintegration,
        name="person-reintegration",
    ),
    path(
        "persons/<int:person_id>/reintegration/start/",
        views.preparation_start,
        name="preparation-start",
    ),
    path(
        "persons/<int:person_id>/reintegration/pathways/<str:pathway>/",
        views.pathway_edit,
        name="pathway-edit",
    ),
    path(
        "persons/<int:person_id>/reintegration/tasks/new/",
        views.task_new,
        name="release-task-new",
    ),
    path("reintegration/tasks/<int:task_id>/", views.task_status, name="release-task-status"),
    path(
        "persons/<int:person_id>/reintegration/arrangements/new/<str:kind>/",
        views.arrangement_new,
        name="arrangement-new",
    ),
    path(
        "reintegration/arrangements/<int:arrangement_id>/",
        views.arrangement_edit,
        name="arrangement-edit",
    ),
    path(
        "persons/<int:person_id>/reintegration/summary/",
        views.release_summary,
        name="release-summary",
    ),
    path(
        "persons/<int:person_id>/reintegration/summary.pdf",
        views.release_summary_pdf,
        name="release-summary-pdf",
    ),
    path(
        "persons/<int:person_id>/reintegration/handover/",
        views.handover_new,
        name="handover-new",
    ),
    path(
        "reintegration/handovers/<int:handover_id>/", views.handover_detail, name="handover-detail"
    ),
    path("reintegration/handovers/<int:handover_id>.pdf", views.handover_pdf, name="handover-pdf"),
    path("reintegration/readiness/", views.readiness, name="release-readiness"),
]
