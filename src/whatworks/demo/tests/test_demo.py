"""`whatworks demo`: one command to a working, idempotent demo with an account per role."""

import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from whatworks.accounts.models import Role, User
from whatworks.records.models import CustodyEpisode, Person


@pytest.fixture
def demo_settings(settings, tmp_path):
    settings.DEMO_MODE = True
    settings.DATA_DIR = tmp_path
    return settings


def run_demo(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("demo", "--no-serve", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_creates_a_service_and_an_account_per_role(demo_settings, tmp_path):
    accounts_file = tmp_path / "accounts.json"
    output = run_demo("--persons", "120", "--seed", "11", "--accounts-json", str(accounts_file))
    accounts = json.loads(accounts_file.read_text())
    assert {account["role"] for account in accounts} == set(Role.values)
    assert set(accounts[0]) == {"username", "password", "role", "facilities"}
    case_managers = [a for a in accounts if a["role"] == Role.CASE_MANAGER]
    assert case_managers and all(len(a["facilities"]) == 1 for a in case_managers)
    assert len({a["facilities"][0] for a in case_managers}) == len(case_managers)
    for account in accounts:
        assert account["password"] in output  # printed for the person running the demo
    assert Person.objects.count() == 120
    assert CustodyEpisode.objects.filter(release_date__isnull=True).exists()
    assert User.objects.filter(is_demo_account=True).count() == len(accounts)
    # Assessments come with the simulated service, and a policy-like share is overridden.
    from whatworks.assessments.models import Assessment

    screens = Assessment.objects.filter(instrument_version__slug="rnr-screener")
    overridden = screens.exclude(override_band="")
    assert screens.count() > 120
    assert 0.03 < overridden.count() / screens.count() < 0.12
    assert all(a.override_reason and a.override_band != a.band for a in overridden)
    # Programmes, groups, live waitlists, attendance, and plans proposed by the rules.
    from whatworks.treatment.models import Attendance, InterventionPlan, Programme, Referral

    assert Programme.objects.count() >= 10
    assert Referral.objects.filter(status="waitlisted").exists()
    assert Attendance.objects.exists()
    assert InterventionPlan.objects.filter(status="approved").exists()


@pytest.mark.django_db
def test_running_the_demo_again_reuses_it(demo_settings):
    run_demo("--persons", "60", "--seed", "5")
    persons, users = Person.objects.count(), User.objects.count()
    output = run_demo("--persons", "60", "--seed", "5")
    assert "already exists" in output
    assert (Person.objects.count(), User.objects.count()) == (persons, users)


@pytest.mark.django_db
def test_demo_accounts_log_in_only_in_demo_mode(demo_settings, client):
    run_demo("--persons", "40", "--seed", "2")
    account = json.loads((Path(demo_settings.DATA_DIR) / "demo-accounts.json").read_text())[0]
    assert client.login(username=account["username"], password=account["password"])
    client.logout()
    demo_settings.DEMO_MODE = False
    assert not client.login(username=account["username"], password=account["password"])


@pytest.mark.django_db
def test_demo_refuses_outside_demo_mode_and_bad_options(demo_settings):
    with pytest.raises(CommandError, match="--persons"):
        run_demo("--persons", "0")
    demo_settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="whatworks demo"):
        run_demo()


# --- the real console command, as a new user runs it --------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cli_env(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(WHATWORKS_DATA_DIR=str(data_dir), **extra)
    return env


def _whatworks(*args, env, timeout=180):
    return subprocess.run(
        [sys.executable, "-m", "whatworks.manage", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_console_demo_end_to_end(tmp_path):
    env = _cli_env(tmp_path / "var")
    first = _whatworks("demo", "--no-serve", "--persons", "80", "--seed", "4", env=env)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "var" / "demo-secret-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "case." in first.stdout and "Demo ready" in first.stdout

    again = _whatworks("demo", "--no-serve", env=env)
    assert again.returncode == 0 and "already exists" in again.stdout

    reset = _whatworks("demo", "--no-serve", "--reset", "--persons", "50", env=env)
    assert reset.returncode == 0 and "Removed the previous demo" in reset.stdout

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "whatworks.manage", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/healthz", server) == b"ok"
        login_page = _wait_for(f"http://127.0.0.1:{port}/login/", server)
        assert b"<form" in login_page
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_app_refuses_to_start_without_a_secret_key(tmp_path):
    for command in ("check", "serve", "migrate"):
        result = _whatworks(command, env=_cli_env(tmp_path))
        assert result.returncode != 0
        assert "SECRET_KEY is not set" in result.stderr


def test_developer_commands_run_without_a_secret_key(tmp_path):
    result = _whatworks("makemigrations", "--check", "--dry-run", env=_cli_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_serve_answers_healthz_and_static_files(tmp_path):
    # A closed network without TLS says so; otherwise plain HTTP is redirected (below).
    env = _cli_env(tmp_path, SECRET_KEY="serve-test-" + "x" * 40, WHATWORKS_HTTPS="false")
    assert _whatworks("migrate", "-v0", env=env).returncode == 0
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "whatworks.manage", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/healthz", server) == b"ok"
        css = _wait_for(f"http://127.0.0.1:{port}/static/whatworks/app.css", server)
        assert len(css) > 100
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_production_settings_pass_the_deploy_check_and_redirect_to_https(tmp_path):
    env = _cli_env(
        tmp_path, SECRET_KEY="deploy-" + "k3y" * 20, DEBUG="false", ALLOWED_HOSTS="prison.example"
    )
    # The browser tests set this in the test process; a deployment never does.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = _whatworks("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    probe = (
        "from django.test import Client; c = Client(HTTP_HOST='prison.example');"
        "r = c.get('/login/'); print(r.status_code, r['Location']);"
        "h = c.get('/healthz'); print(h.status_code);"
        "s = c.get('/login/', secure=True); print(s['Strict-Transport-Security'])"
    )
    result = _whatworks("shell", "-c", probe, env=env)
    assert result.returncode == 0, result.stderr
    redirect, healthz, hsts = result.stdout.strip().splitlines()[-3:]
    assert redirect == "301 https://prison.example/login/"
    assert healthz in ("200", "503")  # reachable over HTTP; 503 as no database is migrated
    assert hsts.startswith("max-age=31536000")


def test_console_simulate_needs_no_database_or_secret_key(tmp_path):
    result = _whatworks(
        "simulate",
        "--persons",
        "30",
        "--seed",
        "9",
        "--out",
        str(tmp_path / "extract"),
        env=_cli_env(tmp_path / "var"),
    )
    assert result.returncode == 0, result.stderr
    written = sorted(path.name for path in (tmp_path / "extract").iterdir())
    assert "ground_truth.json" in written and "persons.parquet" in written
    assert not (tmp_path / "var").exists()  # no database was created


def test_console_instrument_scores_without_a_database(tmp_path):
    env = _cli_env(tmp_path / "var")
    scored = _whatworks("instrument", "score", "k6", "--answers", "[2,2,2,2,2,3]", env=env)
    assert scored.returncode == 0, scored.stderr
    result = json.loads(scored.stdout)
    assert (result["total"], result["band"]) == (13, "serious_distress")
    bad = _whatworks("instrument", "score", "audit", "--answers", "[0,0,0,0,0,0,0,0,1,9]", env=env)
    assert bad.returncode == 2 and "audit_10" in bad.stderr and "Traceback" not in bad.stderr
