"""Earned remission under Brazil's LEP (art. 126-127): study hours, work days, the bonus for
a completed school level and revocation after a serious fault, each worked out by hand."""

from __future__ import annotations

import copy
import datetime
import json
import re
from fractions import Fraction

import pytest
import yaml

from whatworks.analytics.packaged import packaged_yaml_texts
from whatworks.analytics.treatment import (
    Fault,
    LevelCompletion,
    Reason,
    RemissionLine,
    RemissionRulesError,
    StudyRecord,
    WorkRecord,
    compute_remission,
    list_remission_rules,
    load_remission_rules,
    projected_release,
    remission_rules_from_mapping,
)
from whatworks.analytics.treatment.remission import REASON_CODES

D = datetime.date
LEP = load_remission_rules("br-lep")


def days_from(start: datetime.date, count: int) -> list[datetime.date]:
    return [start + datetime.timedelta(days=offset) for offset in range(count)]


def study(start, count, hours):
    return [StudyRecord(day, hours) for day in days_from(start, count)]


def work(start, count, hours):
    return [WorkRecord(day, hours) for day in days_from(start, count)]


def summary(result):
    return [(line.day, line.kind, line.days) for line in result.lines]


# --- The rules file ------------------------------------------------------------------------


def test_the_builtin_brazilian_rules():
    assert list_remission_rules() == ["br-lep"]
    assert (LEP.study_hours_per_day_remitted, LEP.study_min_days) == (12, 3)
    assert LEP.max_study_hours_per_day == 4
    assert (LEP.work_days_per_day_remitted, LEP.min_work_hours_per_day) == (3, 6)
    assert LEP.school_level_bonus_fraction == Fraction(1, 3)
    assert LEP.max_revocation_fraction == Fraction(1, 3)
    assert LEP.jurisdiction == "BR"
    assert "Lei nº 7.210" in LEP.citation and "Art. 127" in LEP.citation
    assert set(LEP.name) == {"en", "es", "pt-br"}


def lep_mapping() -> dict:
    """The parsed built-in file, to change in the tests below."""
    texts = dict(packaged_yaml_texts("whatworks.analytics.treatment", "builtin"))
    return yaml.safe_load(texts["br-lep.yaml"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m.pop("study_min_days"), "(top level): 'study_min_days' is a required"),
        (
            lambda m: m.update(max_revocation_fraction="one third"),
            "max_revocation_fraction: 'one third' does not match",
        ),
        (
            lambda m: m.update(school_level_bonus_fraction="4/3"),
            "school_level_bonus_fraction: 4/3 is above 1",
        ),
        (lambda m: m.update(study_min_days=0), "study_min_days: 0 is less than the minimum"),
        (lambda m: m["name"].pop("es"), "name: 'es' is a required property"),
        (lambda m: m.update(bonus=1), "(top level): Additional properties are not allowed"),
    ],
)
def test_rules_mistakes_are_reported_with_the_field_path(change, expected):
    mapping = copy.deepcopy(lep_mapping())
    change(mapping)
    with pytest.raises(RemissionRulesError) as caught:
        remission_rules_from_mapping(mapping, "mine.yaml")
    assert any(line.startswith(f"mine.yaml: {expected}") for line in caught.value.errors), (
        caught.value.errors
    )


def test_rules_from_a_file_and_unknown_names(tmp_path):
    mapping = lep_mapping() | {"slug": "cl-test", "jurisdiction": "CL"}
    path = tmp_path / "cl.yaml"
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True), "utf-8")
    assert load_remission_rules(path).slug == "cl-test"
    with pytest.raises(RemissionRulesError, match="unknown remission rules 'nope'"):
        load_remission_rules("nope")
    path.write_text("slug: [", "utf-8")
    with pytest.raises(RemissionRulesError, match=re.escape(f"{path}: (top level): not valid")):
        load_remission_rules(path)


# --- Study -----------------------------------------------------------------------------------


def test_36_hours_over_9_days_remit_3_days():
    # 9 days x 4 h: 12 h are reached on the 3rd, 6th and 9th day -> 1 day each, 3 in all.
    result = compute_remission(LEP, study=study(D(2026, 3, 1), 9, 4))
    assert result.study_hours_counted == 36
    assert result.study_hours_not_counted == 0
    assert (result.study_days, result.total_days, result.carried_study_hours) == (3, 3, 0)
    assert summary(result) == [
        (D(2026, 3, 3), "study", 1),
        (D(2026, 3, 6), "study", 1),
        (D(2026, 3, 9), "study", 1),
    ]
    assert result.lines[0].reason == Reason(
        "study_days_remitted", {"days": 1, "hours_used": 12, "carried_hours": 0}
    )


def test_only_4_hours_count_on_one_day():
    # 5 h on one day: 12 / 3 = 4 count, 1 is reported as not counted.
    result = compute_remission(LEP, study=[StudyRecord(D(2026, 3, 1), 5)])
    assert (result.study_hours_counted, result.study_hours_not_counted) == (4, 1)
    assert result.study_days == 0 and result.carried_study_hours == 4
    assert result.lines == (
        RemissionLine(
            D(2026, 3, 1),
            "study",
            0,
            Reason("study_hours_over_daily_limit", {"hours": 5, "counted": 4, "limit": 4}),
        ),
    )


def test_records_on_one_day_are_summed_before_the_limit():
    # 3 h + 3 h on the same day = 6 h: 4 count, 2 do not.
    day = D(2026, 3, 1)
    result = compute_remission(LEP, study=[StudyRecord(day, 3), StudyRecord(day, 3)])
    assert (result.study_hours_counted, result.study_hours_not_counted) == (4, 2)


def test_hours_add_up_exactly():
    # 10 days x 1.2 h = 12 h exactly -> 1 day (in floats the sum is 11.999999999999998).
    result = compute_remission(LEP, study=study(D(2026, 3, 1), 10, 1.2))
    assert result.study_days == 1 and result.carried_study_hours == 0


def test_the_remainder_carries_forward():
    # 4 + 4 + 3 = 11 h: nothing yet; +2 h = 13 h -> 1 day, 1 h carries.
    records = [*study(D(2026, 3, 1), 2, 4), StudyRecord(D(2026, 3, 3), 3)]
    records.append(StudyRecord(D(2026, 3, 4), 2))
    result = compute_remission(LEP, study=records)
    assert summary(result) == [(D(2026, 3, 4), "study", 1)]
    assert result.carried_study_hours == 1


# --- Work ------------------------------------------------------------------------------------


def test_10_full_days_and_2_short_days_of_work_remit_3_days():
    # 10 days of 8 h count; 2 days of 5 h are under the 6 h working day and do not.
    # 10 // 3 = 3 days remitted (on the 3rd, 6th and 9th day), 1 counted day carries.
    records = work(D(2026, 3, 1), 10, 8) + work(D(2026, 3, 11), 2, 5)
    result = compute_remission(LEP, work=records)
    assert (result.work_days_counted, result.work_remitted_days) == (10, 3)
    assert (result.carried_work_days, result.total_days) == (1, 3)
    assert summary(result) == [
        (D(2026, 3, 3), "work", 1),
        (D(2026, 3, 6), "work", 1),
        (D(2026, 3, 9), "work", 1),
        (D(2026, 3, 11), "work", 0),
        (D(2026, 3, 12), "work", 0),
    ]
    assert result.lines[-1].reason == Reason("work_day_too_short", {"hours": 5, "min_hours": 6})
    assert result.lines[0].reason == Reason(
        "work_days_remitted", {"days": 1, "work_days_used": 3, "carried_days": 0}
    )


@pytest.mark.parametrize(("hours", "counted"), [(6, 1), (5.5, 0), (5.99, 0), (8, 1)])
def test_the_working_day_threshold(hours, counted):
    assert compute_remission(LEP, work=[WorkRecord(D(2026, 3, 1), hours)]).work_days_counted == (
        counted
    )


def test_study_and_work_on_the_same_days_both_count():
    # 3 days with 4 h of study and 8 h of work: 1 day by study + 1 day by work.
    day = D(2026, 3, 1)
    result = compute_remission(LEP, study=study(day, 3, 4), work=work(day, 3, 8))
    assert (result.study_days, result.work_remitted_days, result.total_days) == (1, 1, 2)
    assert summary(result) == [(D(2026, 3, 3), "study", 1), (D(2026, 3, 3), "work", 1)]


# --- School level bonus ----------------------------------------------------------------------


def test_completing_a_level_adds_a_third_of_the_study_days():
    # 27 days x 4 h = 108 h = 9 study days; primary completed -> floor(9 / 3) = 3 more.
    # Then 6 days x 4 h = 2 study days; secondary completed -> floor(2 / 3) = 0.
    records = study(D(2026, 1, 1), 27, 4) + study(D(2026, 2, 1), 6, 4)
    completions = [
        LevelCompletion(D(2026, 1, 28), "primary"),
        LevelCompletion(D(2026, 2, 10), "secondary"),
    ]
    result = compute_remission(LEP, study=records, completions=completions)
    assert (result.study_days, result.bonus_days, result.total_days) == (11, 3, 14)
    bonus = [line for line in result.lines if line.kind == "bonus"]
    assert [(b.day, b.days) for b in bonus] == [(D(2026, 1, 28), 3), (D(2026, 2, 10), 0)]
    assert bonus[0].reason == Reason(
        "school_level_bonus", {"level": "primary", "study_days": 9, "fraction": "1/3", "days": 3}
    )
    assert bonus[1].reason.params["study_days"] == 2


def test_work_days_do_not_earn_the_school_bonus():
    result = compute_remission(
        LEP,
        work=work(D(2026, 1, 1), 27, 8),
        completions=[LevelCompletion(D(2026, 2, 1), "primary")],
    )
    assert (result.work_remitted_days, result.bonus_days) == (9, 0)


# --- Serious faults --------------------------------------------------------------------------


def test_a_fault_revokes_a_third_and_restarts_the_count():
    # Study: 27 days x 4 h = 9 days, plus 2 h on Jan 28 that carry.
    # Work: 11 days x 8 h = 3 days remitted, 2 counted days carry.  Net before the fault: 12.
    # Fault on Feb 15 with 1/3: floor(12 / 3) = 4 revoked; the 2 h and 2 work days are lost.
    # Afterwards 4 h of study and 1 work day start the new count: nothing remitted yet.
    records = [*study(D(2026, 1, 1), 27, 4), StudyRecord(D(2026, 1, 28), 2)]
    records.append(StudyRecord(D(2026, 2, 16), 4))
    jobs = [*work(D(2026, 2, 1), 11, 8), WorkRecord(D(2026, 2, 16), 8)]
    faults = [Fault(D(2026, 2, 15), Fraction(1, 3))]
    result = compute_remission(LEP, study=records, work=jobs, faults=faults)
    assert (result.study_days, result.work_remitted_days, result.revoked_days) == (9, 3, 4)
    assert result.total_days == 8
    assert (result.carried_study_hours, result.carried_work_days) == (4, 1)
    [revocation] = [line for line in result.lines if line.kind == "revocation"]
    assert (revocation.day, revocation.days) == (D(2026, 2, 15), -4)
    assert revocation.reason == Reason(
        "revocation",
        {
            "fraction": "1/3",
            "net_days_before": 12,
            "days": 4,
            "lost_study_hours": 2,
            "lost_work_days": 2,
        },
    )


def test_revocation_rounds_down_and_counts_earlier_revocations():
    # 30 work days -> 10 days. Fault 1/3: floor(10/3) = 3 -> net 7. Fault 1/4: floor(7/4) = 1.
    faults = [Fault(D(2026, 3, 1), Fraction(1, 3)), Fault(D(2026, 3, 2), Fraction(1, 4))]
    result = compute_remission(LEP, work=work(D(2026, 1, 1), 30, 8), faults=faults)
    assert [line.days for line in result.lines if line.kind == "revocation"] == [-3, -1]
    assert result.total_days == 6


def test_on_the_day_of_a_fault_the_new_count_includes_that_days_study():
    # 2 days x 4 h carry 8 h; the fault on day 3 wipes them; day 3's 4 h start the new count.
    day3 = D(2026, 3, 3)
    faults = [Fault(day3, Fraction(0))]
    result = compute_remission(LEP, study=study(D(2026, 3, 1), 3, 4), faults=faults)
    assert result.study_days == 0 and result.carried_study_hours == 4
    assert result.lines[0].reason.params["lost_study_hours"] == 8


def test_a_fraction_above_the_maximum_is_refused():
    faults = [Fault(D(2026, 2, 15), Fraction(1, 2))]
    message = "fault on 2026-02-15: revoked fraction 1/2 is outside 0 to 1/3 (br-lep)"
    with pytest.raises(ValueError, match=re.escape(message)):
        compute_remission(LEP, faults=faults)


# --- Dates, totals, errors -------------------------------------------------------------------


def test_records_after_as_of_are_ignored():
    # as_of is inclusive: Mar 1-6 count (2 days), Mar 7-9 do not.
    result = compute_remission(LEP, study=study(D(2026, 3, 1), 9, 4), as_of=D(2026, 3, 6))
    assert (result.study_days, result.study_hours_counted) == (2, 24)


def test_records_in_any_order_give_the_same_result():
    records = study(D(2026, 3, 1), 9, 4)
    assert compute_remission(LEP, study=records[::-1]) == compute_remission(LEP, study=records)


def test_projected_release_and_totals():
    result = compute_remission(
        LEP, study=study(D(2026, 1, 1), 9, 4), work=work(D(2026, 1, 1), 6, 8)
    )
    assert result.total_days == 5 == sum(line.days for line in result.lines)
    assert projected_release(D(2030, 1, 3), result) == D(2029, 12, 29)
    assert projected_release(None, result) is None
    data = json.loads(json.dumps(result.to_dict()))
    assert data["total_days"] == 5
    assert data["lines"][0]["reason"]["code"] in REASON_CODES


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"study": [StudyRecord(D(2026, 3, 1), -1)]}, "study on 2026-03-01: hours cannot be"),
        (
            {"work": [WorkRecord(D(2026, 3, 1), 20), WorkRecord(D(2026, 3, 1), 5)]},
            "work on 2026-03-01: 25 hours in one day",
        ),
        ({"faults": [Fault(D(2026, 3, 1), Fraction(-1, 3))]}, "outside 0 to 1/3"),
    ],
)
def test_impossible_records_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        compute_remission(LEP, **kwargs)


def test_other_rules_are_just_data():
    # 8 h over at least 2 days (4 h a day), 1 day per 2 work days of 4 h or more,
    # a bonus of 1/2, revocation up to 1/2.
    mapping = lep_mapping() | {
        "slug": "toy",
        "study_hours_per_day_remitted": 8,
        "study_min_days": 2,
        "work_days_per_day_remitted": 2,
        "min_work_hours_per_day": 4,
        "school_level_bonus_fraction": "1/2",
        "max_revocation_fraction": "1/2",
    }
    rules = remission_rules_from_mapping(mapping, "toy.yaml")
    # study 4 days x 5 h: 4 count each = 16 h = 2 days; work 4 days x 4 h = 2 days;
    # completion: floor(2 / 2) = 1; fault 1/2 of 5 = floor(2.5) = 2 -> 3 in all.
    result = compute_remission(
        rules,
        study=study(D(2026, 3, 1), 4, 5),
        work=work(D(2026, 3, 1), 4, 4),
        completions=[LevelCompletion(D(2026, 3, 5), "primary")],
        faults=[Fault(D(2026, 3, 6), Fraction(1, 2))],
    )
    assert (result.study_days, result.work_remitted_days, result.bonus_days) == (2, 2, 1)
    assert (result.revoked_days, result.total_days, result.study_hours_not_counted) == (2, 3, 4)
