from django.urls import path, re_path

from whatworks.evaluation import views

urlpatterns = [
    path("evaluations/", views.run_list, name="evaluation-list"),
    path("evaluations/new/", views.run_new, name="evaluation-new"),
    path("evaluations/report.css", views.report_css, name="evaluation-report-css"),
    path("evaluations/<int:run_id>/", views.run_detail, name="evaluation-detail"),
    path("evaluations/<int:run_id>/repeat/", views.run_repeat, name="evaluation-repeat"),
    re_path(
        r"^evaluations/(?P<run_id>[0-9]+)/download/(?P<format>json|html|pdf)/$",
        views.run_download,
        name="evaluation-download",
    ),
]
