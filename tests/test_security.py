"""
Security headers and cookies (issue 7): what every response says to the browser, what
production adds (HTTPS only, __Host- cookies), and that `check --deploy` finds nothing.

Production is DEBUG off, which the settings read from the environment at start-up, so
those checks run in a fresh interpreter on a scratch SQLite database.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import SourceFactory, StatementFactory

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db

REQUIRED_CSP = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def csp(response):
    """The Content-Security-Policy as {directive: value}."""
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


def assert_secure_headers(response):
    policy = csp(response)
    for directive, value in REQUIRED_CSP.items():
        assert policy.get(directive) == value, (directive, policy)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]


def public_urls():
    statement = StatementFactory()
    return [
        "/",
        f"/statements/{statement.pk}/",
        f"/sources/{statement.source_id}/",
        "/sources/",
        "/meetings/",
        "/proposals/",
        "/actors/",
        f"/actors/{statement.actor.slug}/",
        "/api/v1/",
        "/api/v1/statements/",
        f"/api/v1/statements/{statement.pk}/",
        "/api/v1/statements/csv/",
        "/api/v1/comparison/",
        "/api/schema/",
        "/api/docs/",
        "/api/docs/?script",
        "/admin/login/",
        "/no-such-page/",
        "/api/v1/no-such-thing/",
    ]


def test_every_kind_of_response_carries_the_security_headers(client):
    for url in public_urls():
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_secure_headers(response)
    fragment = client.get("/", headers={"HX-Request": "true"})
    assert_secure_headers(fragment)


def test_a_refused_request_carries_them_too(client):
    for response in [
        client.post("/api/v1/statements/", {}, content_type="application/json"),  # 401
        client.get("/?q=a%00b"),  # 400 from the NUL guard
        client.get("/sources/new/"),  # redirect to the login
    ]:
        assert response.status_code in (302, 400, 401), response
        assert_secure_headers(response)


def test_public_pages_may_be_cached_but_admin_and_editor_pages_may_not(client, editor_client):
    source = SourceFactory()
    from django.test import Client

    anonymous = Client()
    assert "no-store" not in anonymous.get("/").get("Cache-Control", "")
    assert "no-store" not in anonymous.get("/api/v1/statements/").get("Cache-Control", "")
    assert anonymous.get("/admin/login/")["Cache-Control"] == "no-store"
    for url in ["/", "/sources/new/", f"/sources/{source.pk}/", "/review/", "/admin/"]:
        response = editor_client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url
        assert not response.has_header("Expires"), url


def test_the_api_answers_json_even_to_a_browser(client):
    """No browsable API (it needs inline styles the CSP forbids): a browser gets JSON."""
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get("/api/v1/statements/", headers={"Accept": accept})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


PRODUCTION_PROBE = """
import json, django
from django.conf import settings
# The pages' static URLs come from collectstatic's manifest in production; the headers
# under test do not depend on them.
settings.STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()  # responses keep their template context (the login's CSRF token)
from django.core.management import call_command
from django.contrib.auth.models import User
from django.test import Client

call_command("migrate", verbosity=0)
User.objects.create_superuser("admin", password="probe-password-1234")
https = Client(HTTP_X_FORWARDED_PROTO="https")
out = {}
page = https.get("/")
out["page"] = {"status": page.status_code, "headers": dict(page.headers)}
login = https.get("/admin/login/")
login = https.post(
    "/admin/login/?next=/admin/",
    {"username": "admin", "password": "probe-password-1234",
     "csrfmiddlewaretoken": login.context["csrf_token"]},
)
out["login"] = {"status": login.status_code, "headers": dict(login.headers)}
out["cookies"] = {
    name: {key: str(morsel[key]) for key in ("secure", "httponly", "samesite", "path", "domain")}
    for name, morsel in https.cookies.items()
}
plain = Client().get("/")
out["plain"] = {"status": plain.status_code, "location": plain.headers.get("Location")}
print(json.dumps(out))
"""


def production_environment():
    """This process's environment, less what the test run itself sets: the browser tests'
    DJANGO_ALLOW_ASYNC_UNSAFE (which the deployment checks rightly refuse) and Redis."""
    env = dict(os.environ)
    for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "REDIS_URL", "DATABASE_URL"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """Headers and cookies of an HTTPS request and an admin login, with DEBUG off."""
    scratch = tmp_path_factory.mktemp("production")
    env = {
        **production_environment(),
        "DEBUG": "0",
        "SECRET_KEY": "production-probe-" + "k" * 40,
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "arms_talks.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_sends_hsts_and_redirects_plain_http(production):
    headers = production["page"]["headers"]
    assert production["page"]["status"] == 200
    assert headers["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert production["plain"]["status"] == 301
    assert production["plain"]["location"].startswith("https://")


def test_production_cookies_are_host_only_secure_httponly_and_samesite(production):
    assert production["login"]["status"] == 302, production["login"]
    cookies = production["cookies"]
    assert set(cookies) == {"__Host-sessionid", "__Host-csrftoken"}
    for name, attributes in cookies.items():
        assert attributes["secure"] == "True", name
        assert attributes["httponly"] == "True", name
        assert attributes["samesite"] == "Lax", name
        assert attributes["path"] == "/", name
        assert attributes["domain"] == "", name  # __Host-: no Domain, this host only
    assert production["login"]["headers"]["Cache-Control"] == "no-store"


def test_production_settings_pass_the_deployment_checks(tmp_path):
    env = {
        **production_environment(),
        "DEBUG": "0",
        "SECRET_KEY": "deploy-check-" + "k" * 50,
        "ALLOWED_HOSTS": "tracker.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues (0 silenced)" in done.stdout
