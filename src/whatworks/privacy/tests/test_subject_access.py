"""Subject access: everything held about one person, as JSON and PDF, for administrators
only, audited in the same transaction as it is produced."""

from __future__ import annotations

import json
import stat

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from whatworks.audit.models import AuditEvent
from whatworks.privacy import export, services
from whatworks.privacy.sections import SECTIONS
from whatworks.privacy.tests.helpers import NOTE, rich_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(person_in_a, facility_a, facility_b, dora):
    return rich_person(person_in_a, facility_a, facility_b, staff=dora)


def _exports():
    return AuditEvent.objects.filter(action="privacy.subject_access")


def test_export_covers_every_section_of_a_richly_recorded_person(rich, person_in_b, dora):
    result = services.subject_access_export(actor=dora, person=rich)
    data = json.loads(result.json_bytes)
    assert set(data) == {"generated_at", "person", "sections"}
    empty = [section.name for section in SECTIONS if not data["sections"][section.name]]
    # Merged duplicates are covered in test_retention (no merge in this history).
    assert empty == ["merged_records"]
    assert data["person"]["prison_number"] == "CL-0000001"
    assert data["person"]["date_of_birth"] == "1990-04-12"
    assert "research_id" not in data["person"]
    # Staff by name and role only; no hashes of the audit chain, no import keys.
    review = data["sections"]["plan_reviews"][0]
    assert review["reviewed_by"] == {"name": "dora", "role": "administrator"}
    assert "row_hash" not in data["sections"]["audit_events"][0]
    assert "source_key" not in data["sections"]["custody_episodes"][0]
    text = result.json_bytes.decode()
    for secret in ("password", "digest", "pbkdf2", "md5$"):
        assert secret not in text
    # The other person's records are not in it (the link review's candidate list is not
    # exported: it may name other persons).
    assert person_in_b.prison_number not in text
    assert "candidates" not in data["sections"]["outcome_link_reviews"][0]
    # Audit events: who did what, including the custody release.
    actions = {event["action"] for event in data["sections"]["audit_events"]}
    assert {"custody.release", "plan.review", "custody.transfer"} <= actions
    assert NOTE in text and "Mapudungun" in text
    assert result.pdf_bytes.startswith(b"%PDF")
    assert len(result.pdf_bytes) > 5000


def test_export_is_audited_with_counts_and_no_identifiers(person_in_a, dora):
    services.subject_access_export(actor=dora, person=person_in_a, language="es")
    event = _exports().get()
    assert event.person_id == person_in_a.pk
    assert event.actor_id == dora.pk
    assert event.after["language"] == "es"
    assert event.after["rows"]["custody_episodes"] == 1
    assert person_in_a.last_names not in json.dumps(event.after)


def test_a_failed_export_leaves_no_audit_event(person_in_a, dora, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(export, "as_pdf", broken)
    with pytest.raises(RuntimeError):
        services.subject_access_export(actor=dora, person=person_in_a)
    assert not _exports().exists()


def test_only_administrators_may_export(person_in_a, alice, fabio):
    for user in (alice, fabio):
        with pytest.raises(PermissionError):
            services.subject_access_export(actor=user, person=person_in_a)
    assert not _exports().exists()


def test_page_and_downloads_for_an_administrator(client, person_in_a, dora, fabio):
    url = reverse("person-subject-access", args=[person_in_a.pk])
    # The person's page leads an administrator there, and nobody else.
    client.force_login(fabio)
    assert url not in client.get(reverse("person-detail", args=[person_in_a.pk])).content.decode()
    client.force_login(dora)
    assert url in client.get(reverse("person-detail", args=[person_in_a.pk])).content.decode()
    page = client.get(url)
    assert page.status_code == 200
    assert b"Download the export" in page.content
    assert not _exports().exists()  # showing the form is not an export

    response = client.post(url, {"format": "json", "language": "en"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert f"subject-access-{person_in_a.pk}-" in response["Content-Disposition"]
    assert json.loads(response.content)["person"]["last_names"] == "Muñoz Rojas"

    response = client.post(url, {"format": "zip", "language": "pt-br"})
    assert response["Content-Type"] == "application/zip"
    assert response.content.startswith(b"PK")
    assert _exports().count() == 2

    bad = client.post(url, {"format": "xml", "language": "en"})
    assert bad.status_code == 400
    assert _exports().count() == 2


def test_non_administrators_and_missing_persons_are_refused(
    client, person_in_a, alice, fabio, dora
):
    url = reverse("person-subject-access", args=[person_in_a.pk])
    for user in (alice, fabio):
        client.force_login(user)
        assert client.get(url).status_code == 403
        response = client.post(url, {"format": "json", "language": "en"})
        assert response.status_code == 403
        assert person_in_a.prison_number.encode() not in response.content
    client.force_login(dora)
    missing = reverse("person-subject-access", args=[person_in_a.pk + 999])
    assert client.get(missing).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    assert not _exports().exists()


def test_command_writes_owner_only_files(tmp_path, person_in_a, dora):
    out = tmp_path / "sar"
    call_command("privacy", "subject-access", "CL-0000001", "--out", str(out), "--actor", "dora")
    files = sorted(path.name for path in out.iterdir())
    stem = files[0].rsplit(".", 1)[0]
    assert files == [f"{stem}.json", f"{stem}.pdf"]
    data = json.loads((out / f"{stem}.json").read_text())
    assert data["person"]["first_names"] == "José Ignacio"
    assert stat.S_IMODE((out / f"{stem}.pdf").stat().st_mode) == 0o600
    event = _exports().get()
    assert event.actor_id == dora.pk

    call_command("privacy", "subject-access", str(person_in_a.pk), "--out", str(out))
    assert _exports().latest("id").actor_label == "command"


def test_command_names_the_bad_argument(tmp_path, person_in_a, alice):
    with pytest.raises(CommandError, match="person"):
        call_command("privacy", "subject-access", "CL-9999999", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="--actor"):
        call_command(
            "privacy", "subject-access", "CL-0000001", "--out", str(tmp_path), "--actor", "alice"
        )
    assert not _exports().exists()


def test_pdf_speaks_the_requested_language(person_in_a, monkeypatch):
    from reportlab import rl_config

    monkeypatch.setattr(rl_config, "pageCompression", 0)  # readable page streams
    data = export.collect(person_in_a)
    spanish = export.as_pdf(data, language="es")
    english = export.as_pdf(data, language="en")
    assert b"Fecha de ingreso" in spanish and b"Fecha de ingreso" not in english
    assert b"Admission date" in english
