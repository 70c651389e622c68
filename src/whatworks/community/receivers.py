"""Community's answer to a release (``records.signals``), in the release's transaction."""

from django.dispatch import receiver

from whatworks.records.choices import MovementKind
from whatworks.records.signals import person_left_facility


@receiver(person_left_facility, dispatch_uid="community.schedule_followup")
def _schedule_followup(sender, *, actor, episode, kind, **kwargs):
    if kind != MovementKind.RELEASE:
        return
    from whatworks.community.services import episode_gets_followup, followup_schedule_create

    if episode_gets_followup(episode):
        followup_schedule_create(actor=actor, episode=episode)
