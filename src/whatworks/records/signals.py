"""Signals other apps listen to. Sent inside the service's transaction, so a receiver's
writes (and audit events) commit or roll back together with the custody change."""

from django.dispatch import Signal

# Sent after a transfer or a release with: actor, episode, person, kind ("transfer" or
# "release"), movement_date, from_facility. Treatment ends enrolments on it.
person_left_facility = Signal()
