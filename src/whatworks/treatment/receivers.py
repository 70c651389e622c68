"""Treatment's answers to custody changes (``records.signals``), in the same transaction."""

from django.dispatch import receiver

from whatworks.records.signals import person_left_facility
from whatworks.treatment.services import end_referrals_on_custody_change


@receiver(person_left_facility, dispatch_uid="treatment.end_referrals")
def _end_referrals(sender, *, actor, person, kind, movement_date, from_facility, **kwargs):
    end_referrals_on_custody_change(
        actor=actor,
        person=person,
        kind=kind,
        movement_date=movement_date,
        from_facility=from_facility,
    )
