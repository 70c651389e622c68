import datetime

from whatworks.drugtests import services

DAY = datetime.date(2025, 3, 10)


def record(actor, person, **overrides):
    data = {
        "test_date": DAY,
        "reason": "random",
        "sample": "urine",
        "results": {"cannabis": "negative", "cocaine": "negative"},
    }
    data.update(overrides)
    return services.drug_test_record(actor=actor, person=person, **data)
