"""
The API's per-client limits (positions/rest.py): requests per client address when
anonymous, per user when signed in, answered 429 with Retry-After past the limit. The
address cannot be forged with X-Forwarded-For unless a trusted proxy is configured. With
Redis down the limits fail open (tests/test_cache_fail_open.py).
"""

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token

from positions.rest import ClientRate
from tests.accounts import sign_in

pytestmark = pytest.mark.django_db

LIST = "/api/v1/topics/"
# A moment 15 s into a minute (and an hour, and a day): the counts are per window, and a
# test must not straddle a window's end.
START = 1_800_000_015.0


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The throttles' clock, fixed unless a test moves it."""
    now = [START]
    monkeypatch.setattr(ClientRate, "timer", staticmethod(lambda: now[0]))
    return now


def rates(anon=None, user=None):
    return override_settings(API_RATES={"anon": anon, "user": user})


def test_past_the_limit_an_anonymous_client_gets_429_with_retry_after(client):
    with rates(anon="3/min"):
        answers = [client.get(LIST) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused["Content-Type"].startswith("application/json")
    assert "throttled" in refused.json()["detail"].lower()
    # The count is per minute; this one began 15 s ago.
    assert refused["Retry-After"] == "45"


def test_the_allowance_comes_back_with_the_next_window(client, clock):
    with rates(anon="2/min"):
        assert [client.get(LIST).status_code for _ in range(3)] == [200, 200, 429]
        clock[0] += 44
        assert client.get(LIST).status_code == 429
        clock[0] += 1  # the minute is over
        assert [client.get(LIST).status_code for _ in range(3)] == [200, 200, 429]


def test_every_api_endpoint_counts_towards_one_limit_but_pages_do_not(client):
    with rates(anon="2/min"):
        assert client.get(LIST).status_code == 200
        assert client.get("/api/v1/statements/").status_code == 200
        assert client.get("/api/v1/actors/").status_code == 429
        # The pages are not the API: the dashboard stays open to the same reader.
        assert client.get("/").status_code == 200


def test_a_forged_x_forwarded_for_does_not_give_a_fresh_allowance(client):
    with rates(anon="2/min"):
        statuses = [
            client.get(LIST, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
            for n in range(4)
        ]
    assert statuses == [200, 200, 429, 429]


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_each_client_address_has_its_own_allowance(client):
    def get(address, forged=""):
        chain = f"{forged}, {address}" if forged else address
        return client.get(LIST, headers={"X-Forwarded-For": chain}).status_code

    with rates(anon="1/min"):
        assert get("198.51.100.7") == 200
        assert get("198.51.100.7") == 429
        # The client's own entries come before what the proxy appended: ignored.
        assert get("198.51.100.7", forged="192.0.2.1") == 429
        assert get("198.51.100.8") == 200


def test_a_signed_in_user_has_the_user_allowance_of_their_own(client, editor, django_user_model):
    token = Token.objects.create(user=editor)
    other = django_user_model.objects.create_user("other-reader")
    other_token = Token.objects.create(user=other)

    def get(key):
        return client.get(LIST, headers={"Authorization": f"Token {key}"}).status_code

    with rates(anon="1/min", user="3/min"):
        # The anonymous limit does not apply to a user, even from the same address.
        assert [get(token.key) for _ in range(4)] == [200, 200, 200, 429]
        assert get(other_token.key) == 200
        assert client.get(LIST).status_code == 200  # anonymous, its own first request


def test_a_session_user_is_limited_per_user_too(client, editor):
    sign_in(client, editor)
    with rates(user="2/min"):
        statuses = [client.get(LIST).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_a_write_past_the_limit_is_refused_before_anything_is_stored(client, editor):
    from positions.models import Topic

    token = Token.objects.create(user=editor)
    auth = {"Authorization": f"Token {token.key}"}
    before = Topic.objects.count()
    with rates(user="1/min"):
        first = client.post(
            LIST, {"slug": "first", "name": "First"}, content_type="application/json", headers=auth
        )
        second = client.post(
            LIST,
            {"slug": "second", "name": "Second"},
            content_type="application/json",
            headers=auth,
        )
    assert first.status_code == 201, first.content
    assert second.status_code == 429
    assert Topic.objects.count() == before + 1
    assert not Topic.objects.filter(slug="second").exists()


def test_the_user_rate_is_not_applied_to_anonymous_clients(client):
    with rates(anon=None, user="1/min"):
        assert all(client.get(LIST).status_code == 200 for _ in range(5))
    with rates(anon="3/min", user="1/min"):
        client_statuses = [client.get("/api/v1/actors/").status_code for _ in range(4)]
    assert client_statuses == [200, 200, 200, 429]


def test_off_means_no_limit(client):
    with rates(anon=None, user=None):
        assert all(client.get(LIST).status_code == 200 for _ in range(30))


def test_the_schema_documents_429_and_retry_after(client):
    schema = client.get("/api/schema/", headers={"Accept": "application/json"})
    assert schema.status_code == 200
    operations = [
        operation
        for path in schema.json()["paths"].values()
        for method, operation in path.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert operations
    for operation in operations:
        for code in ("429", "503"):
            answer = operation["responses"][code]
            assert "Retry-After" in answer["headers"], operation["operationId"]
