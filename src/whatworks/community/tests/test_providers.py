"""The provider directory: who writes, who reads, filters, audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from whatworks.audit.models import AuditEvent
from whatworks.community import selectors, services
from whatworks.community.models import CommunityProvider
from whatworks.community.tests.helpers import PROVIDER, provider

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["dora", "fabio"])
def test_administrators_and_facility_managers_create_update_deactivate(persona, request):
    actor = request.getfixturevalue(persona)
    created = provider(actor)
    assert created.pathways == ["accommodation", "education_work"]
    assert created.coverage_regions == ["Metropolitana", "Valparaíso"]
    services.provider_update(actor=actor, provider=created, data={"phone": "+56 9 1111 2222"})
    services.provider_deactivate(actor=actor, provider=created)
    created.refresh_from_db()
    assert created.phone == "+56 9 1111 2222" and not created.active
    actions = list(
        AuditEvent.objects.filter(object_id=str(created.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "community.provider_create",
        "community.provider_update",
        "community.provider_deactivate",
    ]
    update = AuditEvent.objects.get(action="community.provider_update")
    assert update.before == {"phone": "+56 2 2345 6789"}


@pytest.mark.parametrize("persona", ["alice", "pablo", "helena", "carla"])
def test_other_roles_cannot_write(persona, request):
    with pytest.raises(PermissionError):
        provider(request.getfixturevalue(persona))
    assert not CommunityProvider.objects.exists()


def test_bad_input_names_every_field_at_once(dora):
    with pytest.raises(ValidationError) as error:
        provider(dora, name=" ", kind="bank", pathways=["health", "astrology"], email="nope")
    assert set(error.value.message_dict) == {"name", "kind", "pathways", "email"}


def test_filters_by_kind_pathway_region_text_and_active(dora, alice, facility_b):
    ngo = provider(dora)
    employer = provider(
        dora,
        name="Constructora Andes",
        kind="employer",
        pathways=["education_work"],
        coverage_regions=["Biobío"],
        contact_person="",
    )
    closed = provider(dora, name="Hogar Cerrado", kind="housing", pathways=["accommodation"])
    services.provider_deactivate(actor=dora, provider=closed)

    def names(**filters):
        return [p.name for p in selectors.provider_list(viewer=alice, **filters)]

    assert names() == [employer.name, ngo.name]
    assert names(kind="employer") == [employer.name]
    assert names(pathway="accommodation") == [ngo.name]
    # A facility's region matches, ignoring case and accents.
    assert names(region=facility_b.region.upper()) == [ngo.name]
    assert names(region="biobio") == [employer.name]
    assert names(q="rosa") == [ngo.name]
    assert names(active=False) == [closed.name]
    assert len(names(active=None)) == 3


def test_directory_pages_by_role(client, dora, alice, carla, fabio):
    created = provider(dora)
    for user, status in ((alice, 200), (fabio, 200), (dora, 200), (carla, 403)):
        client.force_login(user)
        response = client.get(reverse("community-provider-list"))
        assert response.status_code == status
        assert (created.name in response.text) is (status == 200)
    client.force_login(alice)
    assert client.get(reverse("community-provider-detail", args=[created.pk])).status_code == 200
    assert client.get(reverse("community-provider-new")).status_code == 403
    edit = reverse("community-provider-edit", args=[created.pk])
    assert client.post(edit, {**PROVIDER, "name": "Hijacked"}).status_code == 403
    created.refresh_from_db()
    assert created.name == PROVIDER["name"]


def test_facility_manager_creates_and_edits_through_the_forms(client, fabio):
    client.force_login(fabio)
    data = {**PROVIDER, "pathways": ["health"], "active": "on"}
    response = client.post(reverse("community-provider-new"), data)
    created = CommunityProvider.objects.get()
    assert response.status_code == 302 and created.pathways == ["health"]
    response = client.post(
        reverse("community-provider-edit", args=[created.pk]), {**data, "email": "bad"}
    )
    assert response.status_code == 400 and "email" in response.context["form"].errors
    response = client.post(
        reverse("community-provider-deactivate", args=[created.pk]),
    )
    created.refresh_from_db()
    assert response.status_code == 302 and not created.active
