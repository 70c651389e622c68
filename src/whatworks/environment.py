"""Typed readers for configuration that comes from the environment.

Every setting the product reads is listed in the README's configuration table. Each reader
fails loudly, naming the variable, when a value cannot be parsed: a typo in a deployment
must stop the start-up, not silently fall back to a default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """A whole number of at least ``minimum``; anything else stops the start-up, naming it."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_numbers(name: str, default: dict[str, float]) -> dict[str, float]:
    """``key=number`` pairs separated by commas, e.g. ``low=0,moderate=100``. Keys that are
    not given keep their default; an unknown key or a value that is not a number stops the
    start-up, naming the variable."""
    raw = os.environ.get(name)
    values = dict(default)
    if raw is None or not raw.strip():
        return values
    for pair in raw.split(","):
        key, separator, value = pair.partition("=")
        key = key.strip()
        if not separator or key not in default:
            raise ImproperlyConfigured(
                f"{name}: {pair.strip()!r} is not one of {', '.join(default)} = number"
            )
        try:
            values[key] = float(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {key} must be a number, got {value!r}") from None
    return values


def data_dir() -> Path:
    """The folder for the default SQLite database, the demo's secret key and uploads."""
    return Path(os.environ.get("WHATWORKS_DATA_DIR", "var")).resolve()


DEMO_SECRET_KEY_FILE = "demo-secret-key"  # noqa: S105 - a file name, not a secret


def ensure_demo_secret_key(directory: Path) -> str:
    """Return the demo's secret key, creating it (readable by the owner only) on first use."""
    directory.mkdir(parents=True, exist_ok=True)
    key_file = directory / DEMO_SECRET_KEY_FILE
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    key_file.touch(mode=0o600)
    key_file.write_text(key)
    return key
