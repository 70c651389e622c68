"""Reads for release preparation: a person's preparation, what is still unresolved, the
readiness list, and the release summary handed to probation and to the person.

Every function starts from an access helper; a person out of scope raises
``Person.DoesNotExist`` like a missing one.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from whatworks.records.access import persons_visible_to
from whatworks.records.choices import Pathway
from whatworks.records.models import CustodyEpisode, Facility, Person
from whatworks.reintegration import access
from whatworks.reintegration.catalogue import support_needs
from whatworks.reintegration.models import (
    RESOLVED_PATHWAY_STATUSES,
    SETTLED_ACCOMMODATION,
    Arrangement,
    ArrangementKind,
    ArrangementStatus,
    Handover,
    HandoverRecipient,
    PathwayAssessment,
    PathwayStatus,
    PathwayTask,
    ReleasePreparation,
    TaskStatus,
)
from whatworks.reintegration.services import preparation_window_opens


def _today() -> datetime.date:
    return timezone.localdate()


def episode_to_prepare(person: Person) -> CustodyEpisode | None:
    """The open episode, else the latest released one (the preparation carried into the
    handover and follow-up)."""
    return (
        person.custody_episodes.filter(release_date__isnull=True).order_by("-id").first()
        or person.custody_episodes.order_by("-release_date", "-id").first()
    )


# --- what is still unresolved ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Unresolved:
    code: str
    label: str


def _confirmed(arrangements, kind: str, *, settled_only: bool = False) -> bool:
    for arrangement in arrangements:
        if arrangement.kind != kind or arrangement.status != ArrangementStatus.CONFIRMED:
            continue
        if settled_only and arrangement.detail_type not in SETTLED_ACCOMMODATION:
            continue
        return True
    return False


def unresolved_needs(
    preparation: ReleasePreparation | None, *, on: datetime.date | None = None
) -> list[Unresolved]:
    """What still stands between the person and a prepared release.

    - No settled accommodation confirmed (a shelter does not count), unless the
      accommodation pathway is recorded as not required or declined.
    - No identity document confirmed, unless the finance, benefits and ID pathway is not
      required or declined.
    - Medication on release planned but not confirmed.
    - Each pathway not yet done, not required or declined.
    - Open tasks past their due date.
    Without a preparation, everything is unresolved.
    """
    on = on or _today()
    if preparation is None:
        return [Unresolved("not_started", _("Preparation not started"))]
    pathways = {p.pathway: p for p in preparation.pathways.all()}
    arrangements = list(preparation.arrangements.all())
    tasks = list(preparation.tasks.all())
    waived = {PathwayStatus.NOT_REQUIRED, PathwayStatus.DECLINED}
    found: list[Unresolved] = []

    def status_of(pathway: str) -> str:
        assessment = pathways.get(pathway)
        return assessment.status if assessment else PathwayStatus.NOT_STARTED

    if status_of(Pathway.ACCOMMODATION) not in waived and not _confirmed(
        arrangements, ArrangementKind.ACCOMMODATION, settled_only=True
    ):
        found.append(Unresolved("no_accommodation", _("No settled accommodation")))
    if status_of(Pathway.FINANCE_ID) not in waived and not _confirmed(
        arrangements, ArrangementKind.ID_DOCUMENT
    ):
        found.append(Unresolved("no_id", _("No identity document")))
    if any(
        a.kind == ArrangementKind.MEDICATION
        and a.status in (ArrangementStatus.PLANNED, ArrangementStatus.APPLIED)
        for a in arrangements
    ):
        found.append(Unresolved("medication", _("Medication on release not confirmed")))
    for pathway in Pathway:
        if status_of(pathway.value) not in RESOLVED_PATHWAY_STATUSES:
            found.append(Unresolved(f"pathway:{pathway.value}", str(pathway.label)))
    overdue = sum(1 for t in tasks if t.status == TaskStatus.OPEN and t.due_date < on)
    if overdue:
        label = ngettext("%(count)d overdue task", "%(count)d overdue tasks", overdue)
        found.append(Unresolved("overdue_tasks", label % {"count": overdue}))
    return found


# --- a person's preparation -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PathwayRow:
    pathway: str
    label: str
    status: str
    status_label: str
    needs: list[str]
    notes: str
    open_tasks: list[PathwayTask]
    can_edit: bool


@dataclasses.dataclass(frozen=True)
class PersonPreparation:
    episode: CustodyEpisode | None
    preparation: ReleasePreparation | None
    window_opens: datetime.date | None
    in_window: bool
    pathways: list[PathwayRow]
    tasks: list[PathwayTask]
    arrangements: list[Arrangement]
    handovers: list[Handover]
    unresolved: list[Unresolved]


def _with_children(preparations: QuerySet[ReleasePreparation]) -> QuerySet[ReleasePreparation]:
    return preparations.prefetch_related(
        "pathways",
        Prefetch("arrangements", queryset=Arrangement.objects.select_related("provider")),
        Prefetch("tasks", queryset=PathwayTask.objects.select_related("owner")),
    )


def person_preparation(
    *, viewer, person: Person, on: datetime.date | None = None
) -> PersonPreparation:
    if not access.can_view_preparation(viewer):
        raise Person.DoesNotExist
    if not persons_visible_to(viewer).filter(pk=person.pk).exists():
        raise Person.DoesNotExist
    on = on or _today()
    episode = episode_to_prepare(person)
    preparation = None
    if episode is not None:
        preparation = (
            _with_children(access.preparations_visible_to(viewer)).filter(episode=episode).first()
        )
    window_opens = preparation_window_opens(episode) if episode else None
    catalogue = support_needs()
    assessments = {p.pathway: p for p in preparation.pathways.all()} if preparation else {}
    tasks = list(preparation.tasks.all()) if preparation else []
    rows = []
    for pathway in Pathway:
        assessment = assessments.get(pathway.value)
        status = assessment.status if assessment else PathwayStatus.NOT_STARTED
        rows.append(
            PathwayRow(
                pathway=pathway.value,
                label=str(pathway.label),
                status=status,
                status_label=str(PathwayStatus(status).label),
                needs=[
                    catalogue.label(pathway.value, c)
                    for c in (assessment.needs if assessment else [])
                ],
                notes=assessment.notes if assessment else "",
                open_tasks=[
                    t for t in tasks if t.pathway == pathway.value and t.status == TaskStatus.OPEN
                ],
                can_edit=access.can_edit_pathway(viewer, pathway.value),
            )
        )
    arrangements = list(preparation.arrangements.all()) if preparation else []
    see_health = access.can_see_health_arrangements(viewer)
    for arrangement in arrangements:
        arrangement.can_edit = access.can_edit_arrangement(viewer, arrangement.kind)
        arrangement.withheld = arrangement.kind in access.HEALTH_ARRANGEMENTS and not see_health
        if arrangement.withheld:
            # Display copies only; nothing here is saved.
            arrangement.description = arrangement.provider_name = arrangement.notes = ""
            arrangement.provider = None
    for task in tasks:
        task.can_edit = access.can_edit_pathway(viewer, task.pathway)
    return PersonPreparation(
        episode=episode,
        preparation=preparation,
        window_opens=window_opens,
        in_window=bool(
            episode
            and episode.release_date is None
            and window_opens is not None
            and window_opens <= on
        ),
        pathways=rows,
        tasks=tasks,
        arrangements=arrangements,
        handovers=list(preparation.handovers.select_related("created_by")) if preparation else [],
        unresolved=unresolved_needs(preparation, on=on),
    )


# --- the readiness list -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReadinessRow:
    person: Person
    episode: CustodyEpisode
    days_left: int
    statuses: list[tuple[str, str, str, str]]  # pathway, its label, status, status label
    unresolved: list[Unresolved]

    @property
    def weeks_left(self) -> int:
        return max(self.days_left, 0) // 7


def _status_cell(pathway: Pathway, status: str) -> tuple[str, str, str, str]:
    return (pathway.value, str(pathway.label), status, str(PathwayStatus(status).label))


@dataclasses.dataclass(frozen=True)
class FacilityReadiness:
    facility: Facility
    releasing: int
    with_unresolved: int
    no_accommodation: int
    no_id: int
    rows: list[ReadinessRow]


def readiness(
    *, viewer, on: datetime.date | None = None, weeks: int | None = None
) -> list[FacilityReadiness]:
    """Persons in custody expected to be released within ``weeks`` (default: the preparation
    window), or already past their expected date, per facility; ``rows`` lists those with
    unresolved needs, soonest release first."""
    if not access.can_view_preparation(viewer):
        return []
    on = on or _today()
    weeks = weeks or settings.RELEASE_PREPARATION_WEEKS
    horizon = on + datetime.timedelta(weeks=weeks)
    episodes = (
        CustodyEpisode.objects.filter(
            person__in=persons_visible_to(viewer),
            release_date__isnull=True,
            expected_release_date__isnull=False,
            expected_release_date__lte=horizon,
        )
        .select_related("person", "facility")
        .prefetch_related(
            Prefetch("release_preparation__pathways", queryset=PathwayAssessment.objects.all()),
            "release_preparation__arrangements",
            "release_preparation__tasks",
        )
        .order_by("expected_release_date", "id")
    )
    by_facility: dict[int, list[ReadinessRow]] = defaultdict(list)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    facilities: dict[int, Facility] = {}
    for episode in episodes:
        # The reverse one-to-one raises an AttributeError subclass when there is none.
        preparation = getattr(episode, "release_preparation", None)
        unresolved = unresolved_needs(preparation, on=on)
        statuses_by_pathway = (
            {p.pathway: p.status for p in preparation.pathways.all()} if preparation else {}
        )
        facility = episode.facility
        facilities[facility.pk] = facility
        tally = counts[facility.pk]
        tally[0] += 1
        if unresolved:
            tally[1] += 1
            codes = {u.code for u in unresolved}
            tally[2] += "no_accommodation" in codes or "not_started" in codes
            tally[3] += "no_id" in codes or "not_started" in codes
            by_facility[facility.pk].append(
                ReadinessRow(
                    person=episode.person,
                    episode=episode,
                    days_left=(episode.expected_release_date - on).days,
                    statuses=[
                        _status_cell(p, statuses_by_pathway.get(p.value, PathwayStatus.NOT_STARTED))
                        for p in Pathway
                    ],
                    unresolved=unresolved,
                )
            )
    return [
        FacilityReadiness(
            facility=facilities[pk],
            releasing=counts[pk][0],
            with_unresolved=counts[pk][1],
            no_accommodation=counts[pk][2],
            no_id=counts[pk][3],
            rows=by_facility[pk],
        )
        for pk in sorted(facilities, key=lambda pk: facilities[pk].code)
    ]


# --- the release summary ----------------------------------------------------------------------


def person_language(person: Person) -> str:
    """The first of the person's languages the app speaks, else the service's default."""
    offered = {code.lower(): code for code, _name in settings.LANGUAGES}
    for language in person.languages or []:
        code = str(language).lower().replace("_", "-")
        if code in offered:
            return offered[code]
        if code.split("-")[0] == "pt" and "pt-br" in offered:
            return offered["pt-br"]
        if code.split("-")[0] in offered:
            return offered[code.split("-")[0]]
    return settings.LANGUAGE_CODE


def _date(value: datetime.date | None) -> str:
    return date_format(value, "DATE_FORMAT") if value else "—"


def _section(title: str, rows: list[list[str]], *, header: list[str] | None = None, empty=""):
    return {"title": title, "header": header or [], "rows": rows, "empty": empty}


def release_summary(
    *, viewer, person: Person, language: str, recipient: str = HandoverRecipient.PROBATION
) -> dict[str, Any]:
    """The release summary as plain data (title, facts, sections of rows), already in
    ``language``: the printable page, the PDF and the stored handover all render this.

    It covers plan progress, risks and needs, the relapse prevention plan, the pathways and
    the arrangements. Medication details are left out of the probation copy: probation
    learns that medication is arranged, the person learns what and where."""
    # Imported here: these apps sit beside reintegration, which only reads from them.
    from whatworks.assessments.selectors import needs_for_planning
    from whatworks.health.access import can_view_relapse_plans
    from whatworks.health.models import RelapsePlan, RelapsePlanStatus
    from whatworks.treatment.labels import band_label, need_label
    from whatworks.treatment.selectors import person_treatment

    prepared = person_preparation(viewer=viewer, person=person)
    episode = prepared.episode
    with translation.override(language):
        sections = []
        needs = needs_for_planning(person)
        if needs:
            sections.append(
                _section(
                    _("Risk and needs"),
                    [
                        [_("Risk band"), str(band_label(needs.get("effective_band")))],
                        [_("Assessed on"), _date(needs.get("assessed_on"))],
                        [
                            _("Criminogenic needs"),
                            ", ".join(need_label(n) for n in needs["need_domains"]) or "—",
                        ],
                    ],
                )
            )
        else:
            sections.append(_section(_("Risk and needs"), [], empty=_("No completed assessment.")))
        treatment = person_treatment(viewer=viewer, person=person)
        goals = []
        if treatment.approved_plan is not None:
            for goal in treatment.approved_plan.goals.all():
                goals.append(
                    [goal.description, str(goal.get_status_display()), _date(goal.target_date)]
                )
        sections.append(
            _section(
                _("Plan progress"),
                goals,
                header=[_("Goal"), _("Status"), _("Target date")],
                empty=_("No approved intervention plan."),
            )
        )
        programmes = [
            [
                row.referral.programme.name,
                str(row.referral.get_status_display()),
                _("%(hours)s h") % {"hours": row.hours},
            ]
            for row in treatment.referrals
        ]
        dosage = treatment.dosage
        if dosage.target_hours:
            programmes.append(
                [
                    _("Hours on criminogenic needs"),
                    _("%(done)s of %(target)s h")
                    % {"done": dosage.criminogenic_hours, "target": dosage.target_hours},
                    "",
                ]
            )
        sections.append(
            _section(
                _("Programmes"),
                programmes,
                header=[_("Programme"), _("Status"), _("Hours attended")],
                empty=_("No programme referrals."),
            )
        )
        plan_rows: list[list[str]] = []
        if can_view_relapse_plans(viewer):
            plan = (
                RelapsePlan.objects.filter(person=person, status=RelapsePlanStatus.ACTIVE)
                .order_by("-version")
                .first()
            )
            if plan is not None:
                plan_rows = [
                    [str(RelapsePlan._meta.get_field(field).verbose_name).capitalize(), value]
                    for field in (
                        "high_risk_situations",
                        "early_warning_signs",
                        "coping_strategies",
                        "release_contact",
                    )
                    if (value := getattr(plan, field))
                ]
                if plan.appointment_place or plan.appointment_date:
                    plan_rows.append(
                        [
                            _("Treatment appointment"),
                            f"{plan.appointment_place} {_date(plan.appointment_date)}".strip(),
                        ]
                    )
        sections.append(
            _section(
                _("Relapse prevention plan"),
                plan_rows,
                empty=_("No active relapse prevention plan."),
            )
        )
        sections.append(
            _section(
                _("Pathways"),
                [
                    [
                        str(Pathway(row.pathway).label),
                        str(PathwayStatus(row.status).label),
                        ", ".join(
                            support_needs().label(row.pathway, code)
                            for code in _needs_codes(prepared, row.pathway)
                        )
                        or "—",
                    ]
                    for row in prepared.pathways
                ],
                header=[_("Pathway"), _("Status"), _("Support needs")],
            )
        )
        arrangements = []
        for arrangement in prepared.arrangements:
            if arrangement.status == ArrangementStatus.CANCELLED:
                continue
            details = ", ".join(
                part
                for part in (
                    arrangement.detail_type_label,
                    arrangement.provider_label,
                    arrangement.description,
                )
                if part
            )
            if arrangement.withheld or (
                arrangement.kind == ArrangementKind.MEDICATION
                and recipient == HandoverRecipient.PROBATION
            ):
                details = _("Details given to the person and the health service only.")
            when = arrangement.starts_on or arrangement.confirmed_on or arrangement.expected_on
            arrangements.append(
                [
                    str(ArrangementKind(arrangement.kind).label),
                    str(ArrangementStatus(arrangement.status).label),
                    details or "—",
                    _date(when),
                ]
            )
        sections.append(
            _section(
                _("Arrangements"),
                arrangements,
                header=[_("Arrangement"), _("Status"), _("Details"), _("Date")],
                empty=_("No arrangements recorded."),
            )
        )
        sections.extend(_community_sections(viewer=viewer, person=person, episode=episode))
        open_tasks = [
            [
                str(Pathway(t.pathway).label),
                t.description,
                t.owner.get_full_name() or t.owner.username,
                _date(t.due_date),
            ]
            for t in prepared.tasks
            if t.status == TaskStatus.OPEN
        ]
        sections.append(
            _section(
                _("Open tasks"),
                open_tasks,
                header=[_("Pathway"), _("Task"), _("Owner"), _("Due")],
                empty=_("No open tasks."),
            )
        )
        facts = [
            [_("Name"), person.full_name],
            [_("Prison number"), person.prison_number],
            [_("Date of birth"), _date(person.date_of_birth)],
            [_("Facility"), episode.facility.name if episode else "—"],
            [
                _("Release"),
                _date(episode.release_date)
                if episode and episode.release_date
                else _("expected %(date)s")
                % {"date": _date(episode.expected_release_date if episode else None)},
            ],
            [_("Still unresolved"), ", ".join(u.label for u in prepared.unresolved) or "—"],
        ]
        return {
            "title": _("Release summary"),
            "recipient": str(HandoverRecipient(recipient).label),
            "language": language,
            "generated_on": _date(_today()),
            "facts": facts,
            "sections": sections,
        }


def _needs_codes(prepared: PersonPreparation, pathway: str) -> list[str]:
    if prepared.preparation is None:
        return []
    for assessment in prepared.preparation.pathways.all():
        if assessment.pathway == pathway:
            return list(assessment.needs)
    return []


def _community_sections(*, viewer, person: Person, episode) -> list[dict[str, Any]]:
    """Provider referrals and the follow-up schedule of this release, from the community
    app (called inside the summary's language)."""
    from whatworks.community.selectors import person_followups, person_referrals

    referrals = [
        [
            referral.provider.name,
            str(referral.get_pathway_display()),
            str(referral.get_status_display()),
            _date(referral.referred_on),
        ]
        for referral in person_referrals(viewer=viewer, person=person)
        if episode is None or referral.episode_id in (None, episode.pk)
    ]
    followups = [
        [
            ngettext(
                "%(months)d month after release",
                "%(months)d months after release",
                row.contact.month,
            )
            % {"months": row.contact.month},
            _date(row.contact.due_date),
            str(row.status_label),
        ]
        for row in person_followups(viewer=viewer, person=person)
        if episode is not None and row.contact.episode_id == episode.pk
    ]
    return [
        _section(
            _("Community referrals"),
            referrals,
            header=[_("Provider"), _("Pathway"), _("Status"), _("Referred on")],
            empty=_("No referrals to community providers."),
        ),
        _section(
            _("Follow-up after release"),
            followups,
            header=[_("Contact"), _("Due"), _("Status")],
            empty=_("The follow-up schedule is set when the release is recorded."),
        ),
    ]
