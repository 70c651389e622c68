"""JSON endpoints for the core records. Scoped exactly like the web: through records.access."""

import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from whatworks.records import selectors, services
from whatworks.records.access import (
    access_person_by_id,
    access_person_for_edit,
    can_view_outcomes,
    can_view_persons,
)
from whatworks.records.choices import (
    AdmissionType,
    EducationLevel,
    FacilityType,
    Gender,
    LegalStatus,
    Literacy,
    MovementKind,
    OffenceCategory,
    OutcomeEventType,
    OutcomeSource,
    PopulationSex,
    ReleaseType,
    SecurityLevel,
    Sex,
)
from whatworks.records.models import CustodyEpisode, Facility, Person

router = Router(tags=["records"])


# --- schemas ------------------------------------------------------------------------------


class FacilityOut(Schema):
    id: int
    code: str
    name: str
    region: str
    facility_type: FacilityType
    security_level: SecurityLevel
    capacity: int
    population_sex: PopulationSex


class PersonListItem(Schema):
    id: int
    prison_number: str
    first_name: str = Field(..., alias="first_names", description="All given names.")
    last_name: str = Field(..., alias="last_names", description="All surnames.")
    date_of_birth: datetime.date
    sex: Sex
    facility: str | None = Field(
        None,
        alias="current_facility.code",
        description="Code of the responsible facility: where held, or last held.",
    )


class MovementOut(Schema):
    kind: MovementKind
    movement_date: datetime.date
    from_facility: str | None = Field(None, alias="from_facility.code")
    to_facility: str | None = Field(None, alias="to_facility.code")
    reason: str


class CustodyEpisodeOut(Schema):
    id: int
    admission_facility: str = Field(..., alias="admission_facility.code")
    facility: str = Field(..., alias="facility.code")
    admission_date: datetime.date
    admission_type: AdmissionType
    legal_status: LegalStatus
    main_offence_category: OffenceCategory
    sentence_date: datetime.date | None
    sentence_length_days: int | None
    expected_release_date: datetime.date | None
    release_date: datetime.date | None
    release_type: ReleaseType | None = None
    movements: list[MovementOut]

    @staticmethod
    def resolve_release_type(episode: CustodyEpisode) -> str | None:
        return episode.release_type or None

    @staticmethod
    def resolve_movements(episode: CustodyEpisode) -> list:
        return list(episode.movements.all())


class PersonDetail(PersonListItem):
    national_id: str
    gender: Gender
    nationality: str
    languages: list[str]
    literacy: Literacy
    education_level: EducationLevel
    support_needs: list[str]
    research_id: str


class OutcomeEventOut(Schema):
    id: int
    event_type: OutcomeEventType
    event_date: datetime.date
    offence_date: datetime.date | None
    source: OutcomeSource
    reference: str


class PersonFields(Schema):
    national_id: str = Field("", max_length=32)
    first_name: str = Field(..., min_length=1, max_length=150)
    last_name: str = Field(..., min_length=1, max_length=150)
    date_of_birth: datetime.date
    sex: Sex
    gender: Gender = Gender.NOT_RECORDED
    nationality: str = Field(..., min_length=2, max_length=2, examples=["CL"])
    languages: list[str] = Field(default_factory=list, examples=[["es"]])
    literacy: Literacy = Literacy.NOT_RECORDED
    education_level: EducationLevel = EducationLevel.NOT_RECORDED
    support_needs: list[str] = Field(default_factory=list)

    def as_service_data(self) -> dict:
        data = self.model_dump(exclude_unset=False)
        data["first_names"] = data.pop("first_name")
        data["last_names"] = data.pop("last_name")
        return data


class PersonPatch(Schema):
    national_id: str | None = Field(None, max_length=32)
    first_name: str | None = Field(None, min_length=1, max_length=150)
    last_name: str | None = Field(None, min_length=1, max_length=150)
    date_of_birth: datetime.date | None = None
    sex: Sex | None = None
    gender: Gender | None = None
    nationality: str | None = Field(None, min_length=2, max_length=2)
    languages: list[str] | None = None
    literacy: Literacy | None = None
    education_level: EducationLevel | None = None
    support_needs: list[str] | None = None


class AdmissionIn(Schema):
    facility: str = Field(..., description="Facility code.", examples=["CL-RM-CP01"])
    admission_date: datetime.date
    admission_type: AdmissionType
    legal_status: LegalStatus
    main_offence_category: OffenceCategory
    sentence_date: datetime.date | None = None
    sentence_length_days: int | None = Field(None, ge=1, le=365 * 100)
    expected_release_date: datetime.date | None = None

    def as_service_data(self) -> dict:
        return self.model_dump(exclude={"facility"})


class PersonAdmitIn(PersonFields):
    prison_number: str = Field(..., min_length=1, max_length=32)
    admission: AdmissionIn


class TransferIn(Schema):
    to_facility: str = Field(..., description="Facility code.")
    movement_date: datetime.date
    reason: str = Field("", max_length=200)


class ReleaseIn(Schema):
    release_date: datetime.date
    release_type: ReleaseType


class OutcomeEventIn(Schema):
    event_type: OutcomeEventType
    event_date: datetime.date
    offence_date: datetime.date | None = None
    source: OutcomeSource
    reference: str = Field("", max_length=100)


class PersonFilters(FilterSchema):
    q: str = Field("", max_length=100, description="Name, prison number or national ID.")
    facility: str = Field("", max_length=32, description="Facility code.")
    in_custody: bool | None = None


class BoundedPageNumberPagination(PageNumberPagination):
    """Page numbers bounded so that page times page size stays an OFFSET the database accepts (an
    unbounded page overflowed into a 500)."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int | None = Field(None, ge=1)


# --- helpers ------------------------------------------------------------------------------


def _person_or_404(user, person_id: int, *, for_edit: bool = False) -> Person:
    try:
        if for_edit:
            return access_person_for_edit(user, person_id)
        return access_person_by_id(user, person_id)
    except Person.DoesNotExist:
        raise Http404 from None


def _facility_by_code(code: str, field: str) -> Facility:
    facility = Facility.objects.filter(code=code).first()
    if facility is None:
        raise ValidationError({field: [_("Unknown facility code: %(code)s") % {"code": code}]})
    return facility


def _episode_of(person: Person, episode_id: int) -> CustodyEpisode:
    return get_object_or_404(person.custody_episodes, pk=episode_id)


def _prefix_errors(error: ValidationError, prefix: str, fields: set[str]) -> ValidationError:
    return ValidationError(
        {
            (f"{prefix}.{field}" if field in fields else field): messages
            for field, messages in error.message_dict.items()
        }
    )


# --- endpoints ----------------------------------------------------------------------------


@router.get("/facilities", response=list[FacilityOut], summary="List facilities")
def list_facilities(request):
    return selectors.facility_list(viewer=request.auth)


@router.get("/persons", response=list[PersonListItem], summary="Search persons")
@paginate(BoundedPageNumberPagination, page_size=50)
def list_persons(request, filters: Query[PersonFilters]):
    if not can_view_persons(request.auth):
        raise PermissionError
    return selectors.person_list(
        viewer=request.auth,
        query=filters.q,
        facility_code=filters.facility,
        in_custody=filters.in_custody,
    )


@router.post("/persons", response={201: PersonDetail}, summary="Register and admit a person")
def admit_person(request, payload: PersonAdmitIn):
    facility = _facility_by_code(payload.admission.facility, "admission.facility")
    person_data = payload.as_service_data()
    person_data["prison_number"] = payload.prison_number
    try:
        episode = services.person_admit(
            actor=request.auth,
            person_data=person_data,
            facility=facility,
            admission_data=payload.admission.as_service_data(),
        )
    except ValidationError as error:
        raise _prefix_errors(
            error, "admission", set(services.ADMISSION_FIELDS) | {"facility"}
        ) from None
    return Status(201, _person_or_404(request.auth, episode.person_id))


@router.get("/persons/{person_id}", response=PersonDetail, summary="One person")
def get_person(request, person_id: int):
    return _person_or_404(request.auth, person_id)


@router.patch("/persons/{person_id}", response=PersonDetail, summary="Correct identity fields")
def update_person(request, person_id: int, payload: PersonPatch):
    person = _person_or_404(request.auth, person_id, for_edit=True)
    data = payload.model_dump(exclude_unset=True)
    if "first_name" in data:
        data["first_names"] = data.pop("first_name")
    if "last_name" in data:
        data["last_names"] = data.pop("last_name")
    for key, value in list(data.items()):
        if value is None:
            raise ValidationError({key: [_("This field cannot be null.")]})
    services.person_update(actor=request.auth, person=person, data=data)
    return _person_or_404(request.auth, person_id)


@router.get(
    "/persons/{person_id}/custody-episodes",
    response=list[CustodyEpisodeOut],
    summary="Custody history",
)
def list_custody_episodes(request, person_id: int):
    person = _person_or_404(request.auth, person_id)
    return selectors.custody_episodes_for(person=person)


@router.post(
    "/persons/{person_id}/custody-episodes",
    response={201: CustodyEpisodeOut},
    summary="Readmit a person",
)
def readmit_person(request, person_id: int, payload: AdmissionIn):
    person = _person_or_404(request.auth, person_id, for_edit=True)
    facility = _facility_by_code(payload.facility, "facility")
    episode = services.custody_admit(
        actor=request.auth,
        person=person,
        facility=facility,
        admission_data=payload.as_service_data(),
    )
    return Status(201, selectors.custody_episodes_for(person=person).get(pk=episode.pk))


@router.post(
    "/persons/{person_id}/custody-episodes/{episode_id}/transfers",
    response={201: CustodyEpisodeOut},
    summary="Transfer to another facility",
)
def transfer(request, person_id: int, episode_id: int, payload: TransferIn):
    person = _person_or_404(request.auth, person_id, for_edit=True)
    episode = _episode_of(person, episode_id)
    services.custody_transfer(
        actor=request.auth,
        episode=episode,
        to_facility=_facility_by_code(payload.to_facility, "to_facility"),
        movement_date=payload.movement_date,
        reason=payload.reason,
    )
    return Status(201, selectors.custody_episodes_for(person=person).get(pk=episode.pk))


@router.post(
    "/persons/{person_id}/custody-episodes/{episode_id}/release",
    response=CustodyEpisodeOut,
    summary="Record a release",
)
def release(request, person_id: int, episode_id: int, payload: ReleaseIn):
    person = _person_or_404(request.auth, person_id, for_edit=True)
    episode = _episode_of(person, episode_id)
    services.custody_release(
        actor=request.auth,
        episode=episode,
        release_date=payload.release_date,
        release_type=payload.release_type,
    )
    return selectors.custody_episodes_for(person=person).get(pk=episode.pk)


@router.get(
    "/persons/{person_id}/outcome-events",
    response=list[OutcomeEventOut],
    summary="Contacts with justice after release",
)
def list_outcome_events(request, person_id: int):
    person = _person_or_404(request.auth, person_id)
    if not can_view_outcomes(request.auth):
        raise PermissionError
    return selectors.outcome_events_for(viewer=request.auth, person=person)


@router.post(
    "/persons/{person_id}/outcome-events",
    response={201: OutcomeEventOut},
    summary="Record an outcome event",
)
def record_outcome_event(request, person_id: int, payload: OutcomeEventIn):
    person = _person_or_404(request.auth, person_id, for_edit=True)
    event = services.outcome_event_record(
        actor=request.auth, person=person, data=payload.model_dump()
    )
    return Status(201, event)
