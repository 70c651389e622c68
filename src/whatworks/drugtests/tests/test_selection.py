import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from conftest import admission_data, person_data
from whatworks.analytics.drugtests import Candidate, draw
from whatworks.audit.models import AuditEvent
from whatworks.drugtests import services
from whatworks.drugtests.models import SelectionList
from whatworks.records.services import person_admit


@pytest.fixture
def crowd(facility_a):
    """Thirty people held at facility A."""
    return [
        person_admit(
            actor=None,
            person_data=person_data(prison_number=f"CL-{index:07d}", first_names=f"P{index}"),
            facility=facility_a,
            admission_data=admission_data(),
        ).person
        for index in range(30)
    ]


def test_the_draw_is_stored_and_reproducible_from_its_seed(helena, facility_a, crowd):
    selection = services.selection_list_draw(
        actor=helena, facility=facility_a, month="2025-03", seed=7
    )
    assert len(selection.main) == 3 and len(selection.reserve) == 2
    candidates = [Candidate(**c) for c in selection.candidates]
    again = draw(candidates, facility=facility_a.code, month="2025-03", seed=7)
    assert list(again.main) == selection.main and list(again.reserve) == selection.reserve
    assert {p.research_id for p in crowd} >= set(selection.main)
    assert AuditEvent.objects.filter(action="drugtest.selection_draw").count() == 1


def test_an_existing_list_is_returned_never_redrawn(helena, facility_a, crowd):
    first = services.selection_list_draw(actor=helena, facility=facility_a, month="2025-03")
    second = services.selection_list_draw(
        actor=helena, facility=facility_a, month="2025-03", seed=99
    )
    assert first.pk == second.pk and second.main == first.main
    assert SelectionList.objects.count() == 1


def test_a_malformed_month_is_refused(helena, facility_a):
    with pytest.raises(ValidationError) as error:
        services.selection_list_draw(actor=helena, facility=facility_a, month="2025-13")
    assert "month" in error.value.message_dict


def test_reserves_replace_untestable_people_with_reasons(helena, facility_a, crowd):
    selection = services.selection_list_draw(actor=helena, facility=facility_a, month="2025-03")
    by_key = {p.research_id: p for p in crowd}
    gone = by_key[selection.main[1]]
    with pytest.raises(ValidationError) as error:
        services.selection_list_mark_untestable(
            actor=helena, selection=selection, person=gone, reason=" "
        )
    assert "reason" in error.value.message_dict
    selection = services.selection_list_mark_untestable(
        actor=helena, selection=selection, person=gone, reason="in_hospital"
    )
    assert selection.current_main[1] == selection.reserve[0]
    assert selection.untestable == {gone.research_id: "in_hospital"}
    assert selection.substitutions[0]["replaced_by"] == selection.reserve[0]
    assert AuditEvent.objects.filter(action="drugtest.selection_untestable").exists()


def test_the_reserve_running_out_is_an_error_not_a_shorter_list(helena, facility_a, crowd):
    selection = services.selection_list_draw(actor=helena, facility=facility_a, month="2025-03")
    by_key = {p.research_id: p for p in crowd}
    for key in selection.reserve:
        selection = services.selection_list_mark_untestable(
            actor=helena, selection=selection, person=by_key[key], reason="released"
        )
    with pytest.raises(ValidationError):
        services.selection_list_mark_untestable(
            actor=helena, selection=selection, person=by_key[selection.main[0]], reason="court"
        )


def test_the_command_prints_json_and_records_the_list(facility_a, crowd):
    out = io.StringIO()
    call_command(
        "drugtests",
        "draw",
        "--facility",
        "CL-A-01",
        "--month",
        "2025-03",
        "--seed",
        "7",
        "--format",
        "json",
        stdout=out,
    )
    printed = json.loads(out.getvalue())
    stored = SelectionList.objects.get()
    assert printed == {
        "facility": "CL-A-01",
        "month": "2025-03",
        "seed": 7,
        "main": stored.main,
        "reserve": stored.reserve,
    }
    assert stored.drawn_by_label == "command"


def test_the_command_names_an_unknown_facility_and_a_bad_month(facility_a):
    with pytest.raises(CommandError, match="no facility"):
        call_command("drugtests", "draw", "--facility", "XX-9", "--month", "2025-03")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("drugtests", "draw", "--facility", "CL-A-01", "--month", "March")
