"""
The site's permission matrix, built from the URL patterns themselves: every pattern Django
resolves (the pages, the editors' pages, the second factor's pages, the admin with its
history, deleted and restore pages, the API with its schema and docs), with each method,
for each role, answers what tests/permissions.json says.

A new URL pattern has no entry there, so this fails until someone decides, in that file,
who may do what with it. To see what every cell answers now, regenerate the table and
review the difference by hand before committing it:

    UPDATE_PERMISSION_MATRIX=1 .venv/bin/python -m pytest -q -p no:cacheprovider \\
        tests/test_permissions.py
    git diff tests/permissions.json

The checks on the table at the end of this module refuse a server error, a read that
writes, an anonymous visitor or a reader let into the admin or an editor's page, and an
editor let near accounts, tokens or second factors; anything else a regenerated table
says is taken as it is, so read the diff. A cell that answers wrongly does not go into
the table as it is: put what it should answer there, and list it in KNOWN_BUGS (which
regenerating leaves alone).

Each cell is one request, inside a savepoint rolled back afterwards, so a write (a delete,
a restore, a logout) never reaches the next cell. Path parameters name fresh records, cited
by nothing. Writes send an empty body ({} to the API) and no If-Match: a role that is let
through gets its form back (200), 400 or 428, a redirect, or 204 for an API delete; one
that is not is sent to log in, or gets 401, 403 or 405.

A cell is the status code, with "login" after it for a redirect to the login page, and
"wrote" after that when the request wrote to the database (the session table aside).
"""

import copy
import json
import os
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, resolve, reverse

from positions.models import Actor, Source, Statement, Topic
from tests.accounts import sign_in
from tests.factories import (
    ActorFactory,
    MeetingFactory,
    PartyFactory,
    ProposalFactory,
    ProposalParameterFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

TABLE_PATH = Path(__file__).with_name("permissions.json")
TABLE = json.loads(TABLE_PATH.read_text())
# "password only": an editor who gave the password and not yet the second factor.
ROLES = ["anonymous", "reader", "password only", "editor", "admin"]
# The API implements every method. The pages and the admin use GET and POST; DELETE stands
# for any other method, which they must not take for a confirmed write (trying HEAD, PUT
# and PATCH too would double the time that rendering the admin's pages takes).
METHODS = {
    "under /api/": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    "elsewhere": ["GET", "POST", "DELETE"],
}
EXPECTED = TABLE["patterns"]
UPDATING = os.environ.get("UPDATE_PERMISSION_MATRIX") == "1"

# Cells that answer wrongly now, as {(route, method, role): why}. The table holds what they
# should answer; each is a strict xfail: its route's test is expected to fail for them, and
# fails when one answers what the table says, so that it is removed from here.
KNOWN_BUGS = {}


def log_in(client, role):
    """
    Sign the client in as a role, the way the app signs people in: staff and editors with
    both factors (tests/accounts.py). The one place that knows what signing in takes.
    Users have no password: hashing is slow.
    """
    if role == "anonymous":
        return client
    user, created = get_user_model().objects.get_or_create(
        username=f"role-{role.replace(' ', '-')}",
        defaults={"is_staff": role != "reader", "is_superuser": role == "admin"},
    )
    if created and role in ("editor", "password only"):
        user.groups.add(Group.objects.get(name="Editors"))
    if role == "password only":
        client.force_login(user)  # the first step alone
        return client
    return sign_in(client, user)


def url_patterns(resolver=None, prefix="/"):
    """Every URL pattern Django resolves, by its route as ResolverMatch.route spells it."""
    found = {}
    for pattern in (resolver or get_resolver()).url_patterns:
        route = URLResolver._join_route(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            found.update(url_patterns(pattern, route))
        else:
            found[route] = pattern
    return found


PATTERNS = url_patterns()


def methods_for(route):
    return METHODS["under /api/" if route.startswith("/api/") else "elsewhere"]


def fresh_user():
    return get_user_model().objects.create_user("someone")


def fresh(label, **fields):
    return apps.get_model(label).objects.create(**fields)


LOGIN_ATTEMPT = {"user_agent": "test", "ip_address": "127.0.0.1", "username": "someone"}

# A fresh record of each model whose records a URL names, cited by nothing; by label, as
# the apps of the sign-in (django-otp, django-axes) are named nowhere else here.
FRESH = {
    "positions.party": PartyFactory,
    "positions.actor": ActorFactory,
    "positions.topic": TopicFactory,
    "positions.source": SourceFactory,
    "positions.statement": StatementFactory,
    "positions.proposal": ProposalFactory,
    "positions.meeting": MeetingFactory,
    "positions.proposalparameter": ProposalParameterFactory,
    "positions.statementtopic": lambda: StatementFactory().topic_links.get(),
    "positions.seedentry": lambda: fresh("positions.SeedEntry", key="party:fresh"),
    "auth.group": lambda: fresh("auth.Group", name="Fresh group"),
    "auth.user": fresh_user,
    # The admin names a token by its user.
    "authtoken.tokenproxy": lambda: fresh("authtoken.Token", user=fresh_user()).user,
    "otp_totp.totpdevice": lambda: fresh(
        "otp_totp.TOTPDevice", user=fresh_user(), name="Fresh app", confirmed=True
    ),
    "otp_static.staticdevice": lambda: fresh(
        "otp_static.StaticDevice", user=fresh_user(), name="Fresh codes"
    ),
    "axes.accessattempt": lambda: fresh(
        "axes.AccessAttempt", **LOGIN_ATTEMPT, failures_since_start=1
    ),
    "axes.accesslog": lambda: fresh("axes.AccessLog", **LOGIN_ATTEMPT),
    "axes.accessfailurelog": lambda: fresh("axes.AccessFailureLog", **LOGIN_ATTEMPT),
}

# The site's pages name their record in the first part of the path.
PAGE_MODELS = {"statements": Statement, "sources": Source, "actors": Actor, "topics": Topic}

# Query strings that take a view past its check of the request to its check of the user.
QUERIES = {"/admin/autocomplete/": "?app_label=positions&model_name=statement&field_name=actor"}

PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)|\([^)]*\)")


def model_of(route, pattern):
    """The model whose records the route's parameters name, if any."""
    for model in admin.site._registry:
        if route.startswith(f"/admin/{model._meta.app_label}/{model._meta.model_name}/"):
            return model
    basename = getattr(pattern.callback, "initkwargs", {}).get("basename")
    if basename:
        return apps.get_model("positions", basename)
    return PAGE_MODELS.get(route.split("/")[1])


def url_for(route):
    """A URL that resolves to ``route``, its parameters naming fresh records."""
    model = model_of(route, PATTERNS[route])
    values = {"app_label": "positions", "url": "no-such-page/", "rest": "no-such-thing/"}
    if route.startswith("/admin/r/"):
        values["content_type_id"] = ContentType.objects.get_for_model(Statement).pk
        values["object_id"] = StatementFactory().pk
    elif model is not None:
        record = FRESH[model._meta.label_lower]()
        values.update(pk=record.pk, object_id=record.pk, id=record.pk)
        values["slug"] = getattr(record, "slug", None)
        if "/deleted/" in route:  # the list of deleted records, and a restore
            record.delete()
            values["history_id"] = model.history.filter(history_type="-").latest().pk
        elif hasattr(model, "history"):
            values["history_id"] = model.history.filter(id=record.pk).latest().pk
    positional = iter([values.get("object_id"), values.get("history_id")])

    def fill(match):
        name = match[1] or match[2]
        return str(values[name] if name else next(positional))

    url = PARAMETER.sub(fill, route.removesuffix("$"))
    assert "/" + resolve(url).route == route, (url, resolve(url).route)
    return url + QUERIES.get(route, "")


LOGIN_URL = reverse("admin:login")
WRITE = re.compile(r'\s*(INSERT|UPDATE|DELETE)\b(?!.*"django_session")', re.IGNORECASE)


SECOND_STEP = "/account/mfa/"


def answer(client, method, url):
    """What one cell answers, from a request in a savepoint rolled back afterwards."""
    cookies = copy.deepcopy(client.cookies)  # a logout, say, clears the session cookie
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        if url.startswith("/api/") and method in ("POST", "PUT", "PATCH"):
            response = client.generic(method, url, "{}", content_type="application/json")
        else:
            response = client.generic(method, url)
        transaction.set_rollback(True)
    client.cookies = cookies
    cell = response.status_code
    if response.get("Location", "").startswith(LOGIN_URL):
        cell = f"{cell} login"
    elif response.get("Location", "").startswith(SECOND_STEP):
        cell = f"{cell} second step"
    if any(WRITE.match(query["sql"]) for query in queries):
        cell = f"{cell} wrote"
    return cell


@pytest.fixture
def editors(request, db):
    """The Editors group, rebuilt (slowly) only if a transactional test has removed it."""
    if not Group.objects.filter(name="Editors").exists():
        request.getfixturevalue("editors_group")


OBSERVED = {}


@pytest.fixture(scope="module", autouse=True)
def rewrite_table():
    """With UPDATE_PERMISSION_MATRIX=1, write what the cells answered into the table."""
    yield
    if not UPDATING or not OBSERVED:
        return
    patterns = {route: EXPECTED[route] for route in PATTERNS if route in EXPECTED}
    patterns.update(OBSERVED)
    for route, method, role in KNOWN_BUGS:  # what they should answer stays
        if route in EXPECTED:
            patterns[route][method][role] = EXPECTED[route][method][role]
    TABLE_PATH.write_text(render_table({**TABLE, "methods": METHODS, "patterns": patterns}))


def render_table(table):
    """The table as JSON, a line per method, so that a change reads as a one-line diff."""
    lines = ["{"]
    for key in ("about", "roles", "methods"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(table[key], ensure_ascii=False)},")
    entries = []
    for route, methods in sorted(table["patterns"].items()):
        rows = [
            f"      {json.dumps(method)}: {json.dumps(roles)}" for method, roles in methods.items()
        ]
        entries.append(f"    {json.dumps(route)}: {{\n" + ",\n".join(rows) + "\n    }")
    lines.append('  "patterns": {\n' + ",\n".join(entries) + "\n  }")
    return "\n".join(lines) + "\n}\n"


def test_every_url_pattern_has_an_entry_and_every_entry_a_pattern():
    without_entry = sorted(set(PATTERNS) - set(EXPECTED))
    without_pattern = sorted(set(EXPECTED) - set(PATTERNS))
    assert (without_entry, without_pattern) == ([], []), (
        "tests/permissions.json must have an entry for each URL pattern (and none for a "
        "pattern that is gone); this module's docstring says how to regenerate it."
    )


def test_every_entry_covers_its_methods_and_every_role():
    assert TABLE["roles"] == ROLES and TABLE["methods"] == METHODS
    for route, methods in EXPECTED.items():
        assert list(methods) == methods_for(route), route
        for method, roles in methods.items():
            assert list(roles) == ROLES, (route, method)


@pytest.mark.parametrize("route", sorted(PATTERNS))
def test_each_role_gets_what_the_table_says(editors, route):
    if route not in EXPECTED and not UPDATING:
        pytest.fail(f"{route} has no entry in tests/permissions.json")
    url = url_for(route)
    clients = {role: log_in(Client(raise_request_exception=False), role) for role in ROLES}
    observed = {
        method: {role: answer(clients[role], method, url) for role in ROLES}
        for method in methods_for(route)
    }
    if UPDATING:
        OBSERVED[route] = observed
        return
    known = [
        (method, role)
        for method in observed
        for role in ROLES
        if (route, method, role) in KNOWN_BUGS
    ]
    differences = [
        f"{method} as {role}: {cell!r}, the table says {EXPECTED[route][method][role]!r}"
        for method, roles in observed.items()
        for role, cell in roles.items()
        if cell != EXPECTED[route][method][role] and (method, role) not in known
    ]
    assert not differences, f"{url} ({route}) answers otherwise:\n" + "\n".join(differences)
    fixed = [
        f"{method} as {role}"
        for method, role in known
        if observed[method][role] == EXPECTED[route][method][role]
    ]
    assert not fixed, f"{route}: {', '.join(fixed)} now as the table says: out of KNOWN_BUGS"
    if known:
        pytest.xfail(
            "; ".join(sorted({KNOWN_BUGS[route, method, role] for method, role in known}))
        )


def cells():
    for route, methods in EXPECTED.items():
        for method, roles in methods.items():
            for role, cell in roles.items():
                yield route, method, role, cell


def test_no_cell_is_a_server_error():
    assert [cell for cell in cells() if str(cell[3]).startswith("5")] == []


def test_reads_and_unexpected_methods_write_nothing():
    for route, method, role, cell in cells():
        if method in ("GET", "HEAD") or (method == "DELETE" and not route.startswith("/api/")):
            assert not str(cell).endswith(" wrote"), (route, method, role)


def test_anonymous_visitors_write_nothing_and_readers_only_their_account():
    for route, method, role, cell in cells():
        if role == "anonymous" or (role == "reader" and not route.startswith("/account/")):
            assert not str(cell).endswith(" wrote"), (route, method, role)


def test_the_admin_sends_anonymous_visitors_and_readers_to_log_in():
    for route, method, role, cell in cells():
        if route.startswith("/admin/") and role in ("anonymous", "reader"):
            if route not in ("/admin/login/", "/admin/logout/"):
                assert cell == "302 login", (route, method, role)


# Users, groups, API tokens, second factors and login attempts: the admin's alone.
ACCOUNTS = (
    "/admin/auth/",
    "/admin/authtoken/",
    "/admin/otp_totp/",
    "/admin/otp_static/",
    "/admin/axes/",
)


def test_editors_cannot_reach_accounts_tokens_or_second_factors():
    for route, method, role, cell in cells():
        if route.startswith(ACCOUNTS) and role == "editor":
            # A record's bare URL only redirects to its change page, which refuses them.
            redirect = route.endswith("/<path:object_id>/") and cell == 302
            assert cell == 403 or redirect, (route, method)


def test_a_page_that_is_not_public_is_for_editors_only():
    """Outside the admin, the API and the account pages, a page answers every role alike,
    or it sends anonymous visitors to log in and refuses readers, whatever the method."""
    for route, methods in EXPECTED.items():
        if route.startswith(("/admin/", "/api/", "/account/")):
            continue
        signed_in = [
            {role: cell for role, cell in roles.items() if role != "password only"}
            for roles in methods.values()
        ]
        if any(len(set(roles.values())) > 1 for roles in signed_in):
            for method, roles in methods.items():
                assert (roles["anonymous"], roles["reader"]) == ("302 login", 403), (
                    route,
                    method,
                )


def test_the_account_pages_send_anonymous_visitors_to_log_in():
    for route, method, role, cell in cells():
        if route.startswith("/account/") and role == "anonymous":
            assert cell == "302 login", (route, method)


def test_api_reads_are_public_and_writes_need_an_editor():
    for route, method, role, cell in cells():
        if not route.startswith("/api/"):
            continue
        if method in ("GET", "HEAD"):
            assert cell in (200, 404), (route, method, role)
        elif role == "anonymous":
            assert cell in (401, 404, 405), (route, method)
        elif role == "reader":
            assert cell in (403, 404, 405), (route, method)


def test_a_password_alone_opens_nothing_but_the_second_step():
    """An editor who has given only the password is sent to the second step from every
    page and the admin, and is anonymous to the API: whatever an anonymous visitor may do
    there, and nothing more."""
    for route, methods in EXPECTED.items():
        for method, roles in methods.items():
            cell = roles["password only"]
            if not route.startswith((SECOND_STEP, "/admin/logout/")):
                assert not str(cell).endswith(" wrote"), (route, method)
            if route.startswith("/api/"):
                assert cell == roles["anonymous"], (route, method)
            elif not route.startswith((SECOND_STEP, "/admin/login/", "/admin/logout/")):
                assert cell == "302 second step", (route, method)
