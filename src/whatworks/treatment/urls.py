from django.urls import path

from whatworks.treatment.views import catalogue, dashboard, delivery, plans

urlpatterns = [
    # A person's plan, referrals, hours and remission (views/plans.py)
    path("persons/<int:person_id>/treatment/", plans.person_treatment, name="person-treatment"),
    path("persons/<int:person_id>/plans/propose/", plans.plan_propose, name="plan-propose"),
    path("persons/<int:person_id>/refer/", plans.referral_new, name="referral-new"),
    path("persons/<int:person_id>/faults/new/", plans.fault_new, name="fault-new"),
    path("plans/due/", plans.plan_reviews_due, name="plan-reviews-due"),
    path("plans/<int:plan_id>/", plans.plan_detail, name="plan-detail"),
    path("plans/<int:plan_id>/approve/", plans.plan_approve, name="plan-approve"),
    path("plans/<int:plan_id>/revise/", plans.plan_revise, name="plan-revise"),
    path("plans/<int:plan_id>/review/", plans.plan_review, name="plan-review"),
    path("plans/<int:plan_id>/goals/new/", plans.goal_edit, name="goal-new"),
    path("plans/<int:plan_id>/goals/<int:goal_id>/", plans.goal_edit, name="goal-edit"),
    path("plans/<int:plan_id>/goals/<int:goal_id>/delete/", plans.goal_delete, name="goal-delete"),
    path("plans/<int:plan_id>/goals/<int:goal_id>/steps/new/", plans.step_edit, name="step-new"),
    path(
        "plans/<int:plan_id>/goals/<int:goal_id>/steps/<int:step_id>/",
        plans.step_edit,
        name="step-edit",
    ),
    path("referrals/<int:referral_id>/", plans.referral_detail, name="referral-detail"),
    # The programme catalogue and fidelity (views/catalogue.py)
    path("programmes/", catalogue.programme_list, name="programme-list"),
    path("programmes/new/", catalogue.programme_edit, name="programme-new"),
    path("programmes/<int:programme_id>/", catalogue.programme_detail, name="programme-detail"),
    path("programmes/<int:programme_id>/edit/", catalogue.programme_edit, name="programme-edit"),
    path(
        "programmes/<int:programme_id>/fidelity/new/",
        catalogue.fidelity_new,
        name="fidelity-new",
    ),
    # Waitlists, groups, sessions and attendance (views/delivery.py)
    path("waitlists/", delivery.waitlist_overview, name="waitlist-overview"),
    path(
        "waitlists/<int:programme_id>/<int:facility_id>/",
        delivery.waitlist_detail,
        name="waitlist-detail",
    ),
    path("groups/", delivery.group_list, name="group-list"),
    path("groups/new/", delivery.group_new, name="group-new"),
    path("groups/<int:group_id>/", delivery.group_detail, name="group-detail"),
    path("groups/<int:group_id>/sessions/new/", delivery.sessions_new, name="sessions-new"),
    path("sessions/<int:session_id>/register/", delivery.session_register, name="session-register"),
    path(
        "attendance/<int:attendance_id>/correct/",
        delivery.attendance_correct,
        name="attendance-correct",
    ),
    # Is the service following the risk and need principles? (views/dashboard.py)
    path("treatment/dashboard/", dashboard.treatment_dashboard, name="treatment-dashboard"),
]
