import datetime

import polars as pl
import pytest

from whatworks.drugtests.imports import DrugTestImportError, drugtests_load
from whatworks.drugtests.models import DrugTest


def _table(person, **overrides):
    row = {
        "test_key": "DT-0000001",
        "prison_number": person.prison_number,
        "episode_key": None,
        "facility": person.current_facility.code,
        "test_date": datetime.date(2025, 3, 1),
        "reason": "random",
        "sample": "saliva",
        "cannabis": "positive",
        "cocaine": "negative",
        "opiates": "negative",
        "amphetamines": "negative",
        "benzodiazepines": None,
        "alcohol": None,
    }
    row.update(overrides)
    return pl.DataFrame([row])


def test_the_import_is_idempotent(person_in_a):
    assert drugtests_load(table=_table(person_in_a), actor_label="test") == 1
    assert drugtests_load(table=_table(person_in_a), actor_label="test") == 0
    test = DrugTest.objects.get()
    assert test.outcome == "positive" and test.import_key == "DT-0000001"
    assert "benzodiazepines" not in test.results


def test_a_bad_row_names_table_row_and_field_and_loads_nothing(person_in_a):
    good = _table(person_in_a)
    bad = _table(person_in_a, test_key="DT-2", prison_number="NOPE")
    with pytest.raises(DrugTestImportError, match=r"drug_tests: row 3: prison_number"):
        drugtests_load(table=pl.concat([good, bad]), actor_label="test")
    assert DrugTest.objects.count() == 0
