"""
A lone surrogate (half of a UTF-16 pair, such as "\\ud800" in JSON) is not a character:
anywhere in an API body it is a JSON 400 saying where it is, never a 500.
"""

import pytest

from positions.models import Actor, Party, Topic
from tests.factories import ActorFactory, PartyFactory, TopicFactory

pytestmark = pytest.mark.django_db

JSON = "application/json"


@pytest.fixture
def records(db):
    party = PartyFactory(code="RU")
    return {"party": party, "topic": TopicFactory(slug="abm-treaty")}


def assert_refused(response, where):
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith(JSON)
    detail = response.json()["detail"]
    assert "half of a surrogate pair" in detail
    assert where in detail
    return detail


@pytest.mark.parametrize(
    ("url", "body", "where"),
    [
        (
            "/api/v1/actors/",
            b'{"slug": "\\ud800", "name": "X", "kind": "person", "party": "RU"}',
            "/slug",
        ),
        ("/api/v1/topics/", b'{"slug": "a\\ud800b", "name": "X"}', "/slug"),
        ("/api/v1/parties/", b'{"code": "\\ud800", "name": "X"}', "/code"),
        ("/api/v1/statements/", b'{"topics": ["abm-treaty", "\\ud800"]}', "/topics/1"),
        (
            "/api/v1/actors/",
            b'{"slug": "x", "name": "X", "kind": "person", "party": "\\ud800"}',
            "/party",
        ),
        (
            "/api/v1/topics/",
            b'{"slug": "x", "name": "X", "\\ud800": 1}',
            "in a key of the object at the top level",
        ),
        (
            "/api/v1/topics/",
            b'{"slug": "x", "a": [{"b": {"\\udfff": 1}}]}',
            "U+DFFF, half of a surrogate pair, in a key of the object at /a/0/b.",
        ),
        (
            "/api/v1/topics/",
            b'{"slug": "x", "a/b": [{"c~": ["\\ud800"]}]}',
            "in the value at /a~1b/0/c~0/0.",
        ),
        ("/api/v1/topics/", b'"\\ud800"', "the body itself"),
    ],
    ids=[
        "actor-slug",
        "topic-slug",
        "party-code",
        "statement-topics",
        "actor-party",
        "key",
        "nested-key",
        "nested-value",
        "bare-string",
    ],
)
def test_a_lone_surrogate_anywhere_in_a_body_is_a_json_400(
    editor_client, records, url, body, where
):
    before = Actor.objects.count(), Topic.objects.count(), Party.objects.count()
    assert_refused(editor_client.post(url, body, content_type=JSON), where)
    assert (Actor.objects.count(), Topic.objects.count(), Party.objects.count()) == before


def test_the_message_names_the_half_it_found(editor_client, records):
    response = editor_client.post(
        "/api/v1/topics/", b'{"slug": "x", "name": "\\udc00"}', content_type=JSON
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith(
        "The JSON contains U+DC00, half of a surrogate pair, in the value at /name."
    )


def test_an_update_with_a_lone_surrogate_is_refused_and_changes_nothing(editor_client, records):
    actor = ActorFactory(slug="ivanov", party=records["party"])
    response = editor_client.patch(
        f"/api/v1/actors/{actor.pk}/",
        b'{"slug": "iv\\ud800", "party": "\\ud800"}',
        content_type=JSON,
        headers={"If-Match": f'"{actor.version}"'},
    )
    assert_refused(response, "/slug")
    actor.refresh_from_db()
    assert (actor.slug, actor.version) == ("ivanov", 1)


def test_a_whole_surrogate_pair_is_a_character_like_any_other(editor_client, records):
    response = editor_client.post(
        "/api/v1/topics/",
        b'{"slug": "emoji", "name": "Smile \\ud83d\\ude00"}',
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    assert Topic.objects.get(slug="emoji").name == "Smile \U0001f600"


def test_a_surrogate_encoded_as_utf8_bytes_is_a_json_400(editor_client, records):
    response = editor_client.post(
        "/api/v1/topics/", b'{"slug": "\xed\xa0\x80", "name": "X"}', content_type=JSON
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith(JSON)
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/statements/?q=%ED%A0%80",
        "/api/v1/statements/?topic=%ED%A0%80",
        "/api/v1/statements/?topic=%5Cud800",
        "/api/v1/actors/?party=%ED%A0%80",
        "/api/v1/actors/?q=%ED%A0%80",
        "/api/v1/statements/?%ED%A0%80=1",
        "/?q=%ED%A0%80",
        "/?topic=%ED%A0%80",
    ],
)
def test_a_surrogate_percent_encoded_in_the_query_never_fails(client, records, url):
    """The query string's UTF-8 is decoded with replacement characters, so no surrogate
    gets through; such a query matches nothing or is refused, but never fails."""
    response = client.get(url)
    assert response.status_code in (200, 400), response.content


def test_a_slug_the_database_refuses_is_a_validation_error_not_a_500(monkeypatch):
    # DRF's lookup answers "invalid" when the database raises ValueError (as PostgreSQL
    # does for some strings); the message names the slug field instead of failing.
    from rest_framework.exceptions import ValidationError

    from positions.models import Topic
    from positions.serializers import StrictSlugRelatedField

    def refused(self, **kwargs):
        raise ValueError("refused by the database")

    field = StrictSlugRelatedField(slug_field="slug", queryset=Topic.objects.all())
    monkeypatch.setattr(type(Topic.objects.all()), "get", refused)
    with pytest.raises(ValidationError) as error:
        field.to_internal_value("abm-treaty")
    assert "Give the slug as a string." in str(error.value.detail)
