"""Settings come from the environment, and nonsense stops start-up with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env):
    """Import the settings in a fresh interpreter with only the given variables set."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DATABASE_URL",
            "DB_CONN_MAX_AGE",
            "LOG_LEVEL",
            "API_RATE_ANON",
            "API_RATE_USER",
        }
    }
    clean.update(env)
    code = (
        "from arms_talks import settings as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE'], "
        "s.DATABASES['default']['NAME'], s.API_RATES, sep='|')"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_by_default_it_runs_locally_on_a_sqlite_file_in_the_project():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    debug, hosts, engine, name, _ = result.stdout.strip().split("|")
    assert (debug, engine) == ("True", "django.db.backends.sqlite3")
    assert name == str(ROOT / "db.sqlite3")
    assert "127.0.0.1" in hosts


def test_database_url_selects_postgresql():
    result = load_settings(DATABASE_URL="postgres://tracker@db.example:5432/tracker")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|")[2:4] == ["django.db.backends.postgresql", "tracker"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        (
            {"DEBUG": "0", "ALLOWED_HOSTS": "example.org"},
            "SECRET_KEY must be set when DEBUG is off",
        ),
        ({"DEBUG": "0", "SECRET_KEY": "x" * 50}, "ALLOWED_HOSTS must be set when DEBUG is off"),
        (
            {"DEBUG": "0", "SECRET_KEY": "short", "ALLOWED_HOSTS": "a.org"},
            "SECRET_KEY is too short",
        ),
        ({"ALLOWED_HOSTS": " , "}, "ALLOWED_HOSTS is set but lists nothing"),
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "only sqlite:// and postgres://"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL='nonsense' cannot be used"),
        ({"DATABASE_URL": "postgres://"}, "names no database"),
        ({"DB_CONN_MAX_AGE": "forever"}, "DB_CONN_MAX_AGE='forever' is not a whole number"),
        ({"DB_CONN_MAX_AGE": "-1"}, "DB_CONN_MAX_AGE='-1' must be at least 0"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD' is not a logging level"),
        ({"API_RATE_ANON": "ten/min"}, "API_RATE_ANON='ten/min' is not a rate"),
        ({"API_RATE_ANON": "0/min"}, "API_RATE_ANON='0/min' is not a rate"),
        ({"API_RATE_USER": "100/week"}, "API_RATE_USER='100/week' is not a rate"),
        ({"API_RATE_USER": "100"}, "API_RATE_USER='100' is not a rate"),
    ],
)
def test_a_value_that_makes_no_sense_is_improperly_configured(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("env", "rates"),
    [
        ({}, "{'anon': '1200/min', 'user': '6000/min'}"),
        (
            {"API_RATE_ANON": "30/s", "API_RATE_USER": " 100000/day "},
            "{'anon': '30/s', 'user': '100000/day'}",
        ),
        ({"API_RATE_ANON": "off", "API_RATE_USER": "0"}, "{'anon': None, 'user': None}"),
    ],
)
def test_the_api_limits_come_from_the_environment(env, rates):
    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|")[4] == rates


def test_production_settings_load_with_a_key_and_hosts():
    result = load_settings(DEBUG="0", SECRET_KEY="k" * 50, ALLOWED_HOSTS="tracker.example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("|")[:2] == ["False", "['tracker.example.org']"]


def test_no_secret_key_is_committed():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert ".dev-secret-key" not in tracked
    settings_text = (ROOT / "arms_talks" / "settings.py").read_text()
    assert "django-insecure" not in settings_text
