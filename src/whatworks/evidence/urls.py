from django.urls import path, re_path

from whatworks.evidence import views

urlpatterns = [
    path("evidence/", views.evidence, name="evidence"),
    re_path(
        r"^evidence/export/(?P<format>csv|xlsx|pdf)/$",
        views.evidence_export,
        name="evidence-export",
    ),
]
