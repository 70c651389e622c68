"""Who may see and do what in the community app. Built on ``whatworks.records.access``.

- The provider directory (no person data) is read by every role that sees persons
  (``records.access.can_view_persons``) and by administrators; administrators and facility
  managers create, edit and deactivate providers.
- Provider referrals and follow-up contacts are person data: every person-viewing role reads
  them for persons in its scope; case managers, facility managers and administrators write
  them (``records.access.can_edit_records``), again within their scope.
- Analysts never see an identifiable person here: the follow-up page shows them counts per
  facility only, with counts from 1 to 9 suppressed, and the outcomes summary is aggregate.

A person outside the viewer's scope raises ``DoesNotExist``, exactly as a missing one does.
"""

from __future__ import annotations

from whatworks.accounts.models import Role
from whatworks.community.models import FollowUpContact, ProviderReferral
from whatworks.records.access import (
    can_edit_records,
    can_view_outcomes,
    can_view_persons,
    is_active_staff,
    persons_visible_to,
)

PROVIDER_MANAGER_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER})


def can_view_providers(user) -> bool:
    return can_view_persons(user) or (is_active_staff(user) and user.role == Role.ADMINISTRATOR)


def can_manage_providers(user) -> bool:
    return is_active_staff(user) and user.role in PROVIDER_MANAGER_ROLES


def can_view_community_records(user) -> bool:
    """Referrals and follow-up contacts of persons in scope."""
    return can_view_persons(user)


def can_write_community_records(user) -> bool:
    """Refer to providers, move referrals, record follow-up contacts (persons in scope)."""
    return can_edit_records(user)


def can_see_health_outcomes(user) -> bool:
    """Substance use and treatment continuity found at a follow-up are health information
    (ADR 0010): the roles that see the health flags."""
    from whatworks.health.access import can_view_flags

    return can_view_flags(user)


def can_see_justice_outcomes(user) -> bool:
    """Contact with justice found at a follow-up: the roles that see police and court
    records."""
    return can_view_outcomes(user)


def can_view_followup_counts(user) -> bool:
    """The follow-up page's counts per facility (analysts: counts only)."""
    return is_active_staff(user) and (can_view_persons(user) or user.role == Role.ANALYST)


def access_referral_for_edit(user, referral_id: int) -> ProviderReferral:
    if not can_write_community_records(user):
        raise ProviderReferral.DoesNotExist
    return ProviderReferral.objects.select_related("person", "provider").get(
        pk=referral_id, person__in=persons_visible_to(user)
    )


def access_contact_for_edit(user, contact_id: int) -> FollowUpContact:
    if not can_write_community_records(user):
        raise FollowUpContact.DoesNotExist
    return FollowUpContact.objects.select_related("person", "episode").get(
        pk=contact_id, person__in=persons_visible_to(user)
    )
