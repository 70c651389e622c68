import pytest
from django.core.exceptions import ImproperlyConfigured

from whatworks.environment import env_bool, env_list


def test_booleans_parse_strictly(monkeypatch):
    monkeypatch.setenv("DEBUG", "yes")
    assert env_bool("DEBUG") is True
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG")
    monkeypatch.delenv("DEBUG")
    assert env_bool("DEBUG") is False


def test_lists_split_on_commas(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "prison.example, 10.0.0.5 ,")
    assert env_list("ALLOWED_HOSTS", []) == ["prison.example", "10.0.0.5"]


def test_debug_is_off_by_default(settings):
    assert settings.DEBUG is False
