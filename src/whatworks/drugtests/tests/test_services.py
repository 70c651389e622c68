import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from whatworks.audit.models import AuditEvent
from whatworks.drugtests import services
from whatworks.drugtests.models import DrugTest
from whatworks.drugtests.tests.helpers import DAY, record


def test_it_records_a_test_with_its_outcome_and_audits(helena, person_in_a):
    test = record(helena, person_in_a, seal_number="S-1", results={"cannabis": "positive"})
    assert test.outcome == "positive"
    assert test.prompts_referral
    assert test.facility == person_in_a.current_facility
    assert test.panel_slug == "standard-panel"
    assert AuditEvent.objects.filter(action="drugtest.record", object_id=str(test.pk)).exists()


def test_it_refuses_a_future_date(helena, person_in_a):
    with pytest.raises(ValidationError) as error:
        record(helena, person_in_a, test_date=timezone.localdate() + datetime.timedelta(days=1))
    assert "test_date" in error.value.message_dict


def test_it_refuses_a_duplicate_seal_number(helena, person_in_a):
    record(helena, person_in_a, seal_number="S-1")
    with pytest.raises(ValidationError) as error:
        record(helena, person_in_a, seal_number="S-1")
    assert "seal_number" in error.value.message_dict


def test_it_refuses_a_substance_outside_the_panel(helena, person_in_a):
    with pytest.raises(ValidationError) as error:
        record(helena, person_in_a, results={"ketamine": "positive"})
    assert "ketamine" in " ".join(error.value.message_dict["results"])


def test_it_refuses_a_substance_not_tested_in_that_sample(helena, person_in_a):
    with pytest.raises(ValidationError) as error:
        record(helena, person_in_a, sample="breath", results={"cannabis": "negative"})
    assert "results.cannabis" in error.value.message_dict


def test_only_health_staff_record(alice, person_in_a):
    with pytest.raises(PermissionError):
        record(alice, person_in_a)


def test_a_correction_supersedes_and_keeps_the_first_record(helena, person_in_a):
    first = record(helena, person_in_a, seal_number="S-1", results={"cannabis": "positive"})
    with pytest.raises(ValidationError) as error:
        services.drug_test_correct(
            actor=helena,
            test=first,
            correction_reason=" ",
            test_date=DAY,
            reason="random",
            sample="urine",
            results={"cannabis": "negative"},
            seal_number="S-1",
        )
    assert "correction_reason" in error.value.message_dict
    correction = services.drug_test_correct(
        actor=helena,
        test=first,
        correction_reason="Wrong sample read",
        test_date=DAY,
        reason="random",
        sample="urine",
        results={"cannabis": "negative"},
        seal_number="S-1",
    )
    first.refresh_from_db()
    assert not first.is_current and correction.is_current
    assert correction.supersedes == first
    assert correction.outcome == "negative" and not correction.prompts_referral
    assert DrugTest.objects.count() == 2
    assert AuditEvent.objects.filter(action="drugtest.correct").exists()
    with pytest.raises(ValidationError):
        services.drug_test_correct(
            actor=helena,
            test=first,
            correction_reason="again",
            test_date=DAY,
            reason="random",
            sample="urine",
            results={"cannabis": "negative"},
        )
