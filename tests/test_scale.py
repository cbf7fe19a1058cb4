"""
Every page and API endpoint runs the same queries at two scales of generated data, and the
long lists come a page at a time.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions.models import Actor, Meeting, Proposal, Source, Statement, Topic

pytestmark = pytest.mark.django_db

SMALL, LARGE = "0.005", "0.02"  # 1,000 and 4,000 statements; 50 topics at both


def urls():
    topic = Topic.objects.order_by("pk").first()
    statement = Statement.objects.order_by("pk").first()
    source = Source.objects.order_by("pk").first()
    actor = (
        Actor.objects.filter(party__isnull=False, proposals__isnull=False, meetings__isnull=False)
        .order_by("pk")
        .first()
    )
    meeting = Meeting.objects.order_by("pk").first()
    proposal = Proposal.objects.order_by("pk").first()
    return [
        "/",
        "/?party=RU",
        "/?stance=opposes",
        "/?q=verification",
        f"/topics/{topic.slug}/",
        f"/topics/{topic.slug}/?party=US",
        f"/statements/{statement.pk}/",
        "/sources/",
        f"/sources/{source.pk}/",
        "/meetings/",
        f"/meetings/?at={meeting.slug}",
        "/proposals/",
        f"/proposals/?at={proposal.slug}",
        "/actors/",
        f"/actors/{actor.slug}/",
        "/api/v1/statements/",
        f"/api/v1/statements/?topic={topic.slug}&page_size=50",
        "/api/v1/statements/?q=verification",
        f"/api/v1/statements/{statement.pk}/",
        "/api/v1/statements/annotations/",
        "/api/v1/comparison/",
        "/api/v1/comparison/?party=RU",
        "/api/v1/proposals/",
        "/api/v1/meetings/",
        "/api/v1/actors/",
        "/api/v1/topics/",
        "/api/v1/sources/",
    ]


def queries_per_url(client):
    """Queries per request, by the URL's place in urls() (its ids differ between scales)."""
    counts = {}
    for number, url in enumerate(urls()):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[number] = len(queries.captured_queries)
    return counts


def generate(scale):
    call_command(
        "generate_data", "--scale", scale, "--reset", stdout=io.StringIO(), stderr=io.StringIO()
    )


def test_queries_per_request_are_the_same_at_both_scales(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    generate(SMALL)
    small = queries_per_url(client)
    generate(LARGE)
    assert Statement.objects.count() == 4000
    large = queries_per_url(client)
    assert small == large


def test_long_lists_come_a_page_at_a_time(client):
    generate(LARGE)  # 100 sources
    sources = client.get("/sources/").content.decode()
    assert sources.count('class="card"') == 50
    generate("0.025")  # 125 sources and 25 meetings: more than a page of each
    first = client.get("/sources/")
    assert first.content.decode().count('class="card"') == 50
    assert 'rel="next"' in first.content.decode()
    second = client.get("/sources/", {"page": 2}).content.decode()
    assert second.count('class="card"') == 50
    assert client.get("/sources/", {"page": 4}).status_code == 404
    assert client.get("/sources/", {"page": "x"}).status_code == 404
    meetings = client.get("/meetings/").content.decode()
    assert 'rel="next"' in meetings
    last_meeting = Meeting.objects.order_by("-starts_on", "-pk").first()
    found = client.get(last_meeting.get_absolute_url()).content.decode()
    assert f'id="meeting-{last_meeting.slug}"' in found
    last_proposal = Proposal.objects.order_by("-party__sort_order", "-proposed_on", "-pk").first()
    found = client.get(last_proposal.get_absolute_url()).content.decode()
    assert f'id="proposal-{last_proposal.slug}"' in found
    assert client.get("/meetings/", {"at": "no-such-meeting"}).status_code == 404


def test_a_topic_page_pages_through_each_sides_statements(client):
    generate("0.05")  # 10,000 statements on 50 topics: over a hundred a side on each
    topic = Topic.objects.order_by("pk").first()
    first = client.get(f"/topics/{topic.slug}/")
    assert first.status_code == 200
    row = first.context["row"]
    assert max(cell.statement_count for cell in row.cells) > 50
    assert all(len(cell.statements) == min(50, cell.statement_count) for cell in row.cells)
    second = client.get(f"/topics/{topic.slug}/", {"page": 2}).context["row"]
    seen = {s.pk for cell in row.cells for s in cell.statements}
    assert not seen & {s.pk for cell in second.cells for s in cell.statements}
    assert client.get(f"/topics/{topic.slug}/", {"page": 99}).status_code == 404
