import io

import pytest
from django.core.management import CommandError, call_command

from whatworks.accounts.models import User
from whatworks.audit.models import AuditEvent

STRONG = "a long and unusual passphrase 42"


def create(*args, password=STRONG, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    out = io.StringIO()
    call_command("staff", "create", *args, "--password-stdin", stdout=out)
    return out.getvalue()


def test_staff_create_sets_role_and_facilities_and_audits(facility_a, monkeypatch):
    create("marta", "--role", "case_manager", "--facility", "CL-A-01", monkeypatch=monkeypatch)
    user = User.objects.get(username="marta")
    assert user.role == "case_manager"
    assert [f.code for f in user.facilities.all()] == ["CL-A-01"]
    assert user.check_password(STRONG)
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--role", "case_manager", "--facility", "XX-NONE"], STRONG, "Unknown facility"),
        (["--role", "case_manager"], STRONG, "needs at least one facility"),
        (["--role", "analyst", "--facility", "CL-A-01"], STRONG, "give no facility"),
        (["--role", "case_manager", "--facility", "CL-A-01"], "short", "password"),
    ],
)
def test_staff_create_refuses_bad_input_with_a_message(
    facility_a, monkeypatch, args, password, message
):
    with pytest.raises(CommandError, match=message):
        create("nadia", *args, password=password, monkeypatch=monkeypatch)
    assert not User.objects.filter(username="nadia").exists()


def test_staff_list_shows_scope(alice, carla):
    out = io.StringIO()
    call_command("staff", "list", stdout=out)
    assert "alice  case_manager  CL-A-01" in out.getvalue()
    assert "carla  analyst  all facilities" in out.getvalue()


def test_token_command_prints_a_working_token_last(client, alice, person_in_a):
    out = io.StringIO()
    call_command("token", "create", "alice", stdout=out, stderr=io.StringIO())
    token = out.getvalue().strip().splitlines()[-1]
    response = client.get("/api/v1/persons", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response.json()["count"] == 1
