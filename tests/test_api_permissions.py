"""
The API's permission matrix, built from the URL patterns themselves: every pattern in the
``api`` namespace (lists, details, extra actions, the comparison, the root and the JSON
404), with every method, for every role, answers what tests/api_permissions.json says.

A new endpoint has no entry there, so this fails until someone decides, in that file, who
may do what with it.

Writes send an empty JSON object and no If-Match: a role that is let through gets 400
(create), 428 (update) or 204 (delete of a fresh record), one that is not gets 401 or 403.
"""

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import URLResolver, get_resolver, reverse

from tests.accounts import sign_in
from tests.factories import (
    ActorFactory,
    MeetingFactory,
    PartyFactory,
    ProposalFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

TABLE_PATH = Path(__file__).with_name("api_permissions.json")
TABLE = json.loads(TABLE_PATH.read_text())
ROLES = TABLE["roles"]
METHODS = TABLE["methods"]
EXPECTED = TABLE["endpoints"]


def api_patterns():
    """Every URL pattern of the API, by name, as Django resolves them."""
    (api,) = [
        pattern
        for pattern in get_resolver().url_patterns
        if isinstance(pattern, URLResolver) and pattern.namespace == "api"
    ]
    return {pattern.name: pattern for pattern in api.url_patterns}


PATTERNS = api_patterns()

# A fresh record of each resource, cited by nothing, for the detail URLs.
FRESH = {
    "party": lambda: PartyFactory(code="ZZ"),
    "actor": ActorFactory,
    "topic": TopicFactory,
    "source": SourceFactory,
    "statement": StatementFactory,
    "proposal": ProposalFactory,
    "meeting": MeetingFactory,
}


def url_for(name):
    pattern = PATTERNS[name]
    kwargs = {}
    if "pk" in pattern.pattern.regex.groupindex:
        kwargs["pk"] = FRESH[name.split("-")[0]]().pk
    if "rest" in pattern.pattern.regex.groupindex:
        kwargs["rest"] = "no-such-thing/"
    return reverse(f"api:{name}", kwargs=kwargs)


@pytest.fixture
def as_role(client, django_user_model):
    """Logs the test client in as a role (users without passwords: hashing is slow)."""

    def log_in(role):
        if role == "anonymous":
            return client
        if role == "admin":
            user = django_user_model.objects.create_superuser("admin", "admin@example.org")
        else:
            user = django_user_model.objects.create_user(role, is_staff=True)
        if role == "editor":
            user.groups.add(Group.objects.get(name="Editors"))
        sign_in(client, user)
        return client

    return log_in


def status_of(client, method, url):
    body = {} if method in ("POST", "PUT", "PATCH") else None
    kwargs = {"content_type": "application/json"} if body is not None else {}
    return getattr(client, method.lower())(url, body, **kwargs).status_code


def test_every_api_url_pattern_has_an_entry_and_every_entry_a_pattern():
    assert sorted(PATTERNS) == sorted(EXPECTED), (
        "tests/api_permissions.json must have an entry for each URL pattern of the API "
        "(and none for a pattern that is gone)."
    )


def test_every_entry_covers_every_method_and_role():
    for name, methods in EXPECTED.items():
        assert sorted(methods) == sorted(METHODS), name
        for method, roles in methods.items():
            assert sorted(roles) == sorted(ROLES), (name, method)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_each_role_gets_what_the_table_says(as_role, name, method, role):
    if name not in EXPECTED:
        pytest.fail(f"api:{name} has no entry in tests/api_permissions.json")
    client = as_role(role)
    assert status_of(client, method, url_for(name)) == EXPECTED[name][method][role]


def test_reads_are_public_everywhere():
    for name, methods in EXPECTED.items():
        if name != "not-found":
            assert set(methods["GET"].values()) == {200}, name


def test_no_anonymous_or_reader_write_gets_through():
    for name, methods in EXPECTED.items():
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            assert methods[method]["anonymous"] in (401, 404, 405), (name, method)
            assert methods[method]["reader"] in (403, 404, 405), (name, method)
