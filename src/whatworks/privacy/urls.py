from django.urls import path

from whatworks.privacy import views

urlpatterns = [
    path(
        "persons/<int:person_id>/subject-access/",
        views.subject_access,
        name="person-subject-access",
    ),
]
