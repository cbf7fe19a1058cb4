"""The REST API v1 (issue 4), on the seed data: every resource, filter, export and write rule."""

import csv
import io
import json
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from positions.comparison import compare
from positions.models import (
    Actor,
    Meeting,
    Party,
    Proposal,
    Source,
    Statement,
    Topic,
)
from positions.serializers import TopicSerializer
from positions.views import CELL_LIMIT
from tests.accounts import sign_in
from tests.factories import ActorFactory, SourceFactory, StatementFactory, TopicFactory
from tests.test_pages import multiply_seed

pytestmark = pytest.mark.django_db

JSON = "application/json"


@pytest.fixture
def seed(seeded):
    return Source.objects.get()


def statement_with(quote_start):
    return Statement.objects.get(quote__startswith=quote_start)


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def csv_rows(response):
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def assert_json_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(JSON), response["Content-Type"]
    return response.json()


# The root and the shape of every resource


def test_the_root_links_every_resource_and_the_comparison(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response.json() == {
        name: f"http://testserver/api/v1/{name}/"
        for name in (
            "parties",
            "actors",
            "topics",
            "sources",
            "statements",
            "proposals",
            "meetings",
            "comparison",
        )
    }


def test_parties_have_a_code_and_a_name(client, seed):
    parties = results(client.get("/api/v1/parties/"))
    assert [(p["code"], p["name"]) for p in parties] == [("RU", "Russia"), ("US", "United States")]
    russia = client.get(f"/api/v1/parties/{parties[0]['id']}/").json()
    assert russia == parties[0]


def test_actors_have_a_name_a_kind_a_party_code_and_a_role(client, seed):
    ivanov = Actor.objects.get(slug="sergei-ivanov")
    data = client.get(f"/api/v1/actors/{ivanov.pk}/").json()
    assert data["name"] == "Sergei Ivanov"
    assert data["kind"] == "person"
    assert data["party"] == "RU"
    assert data["role"] == "Russian Defense Minister"
    author = client.get(f"/api/v1/actors/{Actor.objects.get(slug='article-author').pk}/").json()
    assert author["party"] is None
    assert len(results(client.get("/api/v1/actors/"))) == Actor.objects.count()


def test_topics_have_a_slug_a_name_and_a_description(client, seed):
    topics = results(client.get("/api/v1/topics/"))
    assert [t["slug"] for t in topics] == list(Topic.objects.values_list("slug", flat=True))
    abm = client.get(f"/api/v1/topics/{Topic.objects.get(slug='abm-treaty').pk}/").json()
    assert abm["name"] == "ABM Treaty"
    assert abm["description"].startswith("The 1972 Anti-Ballistic Missile Treaty.")


def test_the_source_list_leaves_out_the_text(client, seed):
    (source,) = results(client.get("/api/v1/sources/"))
    assert "text" not in source
    assert source["sha256"] == seed.sha256
    assert source["published_on"] == "2001-08-01"
    assert source["published_on_precision"] == "month"
    assert {"title", "publisher", "url"} <= source.keys()


def test_the_source_detail_has_the_whole_text(client, seed):
    data = client.get(f"/api/v1/sources/{seed.pk}/").json()
    assert data["text"] == seed.text
    assert data["sha256"] == Source.text_hash(data["text"])


def test_a_statement_has_its_speaker_side_topics_source_quote_and_selector(client, seed):
    statement = statement_with("We have no wish")
    data = client.get(f"/api/v1/statements/{statement.pk}/").json()
    ivanov = statement.actor
    assert data["actor"] == {"id": ivanov.pk, "name": "Sergei Ivanov", "party": "RU"}
    assert data["party"] == "RU"
    assert data["topics"] == ["abm-treaty", "national-missile-defense"]
    # Keeping the treaty opposes a national defense it forbids (docs/codebook.md).
    assert data["topic_stances"] == {"national-missile-defense": "opposes"}
    assert data["source"] == seed.pk
    assert data["quote"] == "We have no wish to withdraw from any treaty or agreement"
    assert data["selector"] == {
        "start": statement.start,
        "end": statement.end,
        "prefix": statement.prefix,
        "suffix": statement.suffix,
    }
    assert seed.text[statement.start : statement.end] == data["quote"]
    assert (data["stance"], data["kind"]) == ("supports", "direct_quote")
    # The news conference is not dated in the article: the month only, not inferred.
    assert (data["stated_on"], data["stated_on_precision"]) == ("2001-08-01", "month")
    assert (data["date_inferred"], data["certainty"], data["joint"]) == (False, "firm", False)
    assert data["meeting"] == statement.meeting_id
    assert data["meeting_relation"] == "said_at"
    assert data["holder"] is None
    assert data["proposal"] == {
        "id": statement.proposal_id,
        "title": statement.proposal.title,
        "stance": "rejects",
    }


def test_the_authors_analysis_has_no_side(client, seed):
    analysis = Statement.objects.filter(kind="analysis").first()
    data = client.get(f"/api/v1/statements/{analysis.pk}/").json()
    assert data["party"] is None
    assert data["actor"]["party"] is None
    assert data["proposal"] is None


def test_a_proposal_has_its_numbers_status_meeting_and_responses(client, seed):
    bombers = Proposal.objects.get(slug="ru-heavy-bombers-50")
    data = client.get(f"/api/v1/proposals/{bombers.pk}/").json()
    assert data["title"] == bombers.title
    assert data["description"] == bombers.description
    assert (data["party"], data["actor"]) == ("RU", bombers.actor_id)
    assert data["topics"] == ["heavy-bombers"]
    assert data["status"] == "no_response"
    assert data["meeting"] == bombers.meeting_id
    (parameter,) = data["parameters"]
    assert parameter["value"] == 50
    assert {"quantity", "value", "unit", "applies_to"} <= parameter.keys()
    assert data["responses"] == []


def test_a_proposal_lists_the_other_sides_responses(client, seed):
    withdrawal = Proposal.objects.get(slug="us-withdraw-from-abm-treaty")
    data = client.get(f"/api/v1/proposals/{withdrawal.pk}/").json()
    responses = data["responses"]
    assert sorted(r["stance"] for r in responses) == ["considers", "rejects", "rejects"]
    assert {r["party"] for r in responses} == {"RU"}
    assert {r["statement"] for r in responses} == set(
        withdrawal.statements.filter(party__code="RU").values_list("pk", flat=True)
    )


def test_a_meeting_has_its_dates_place_participants_parent_and_duration(client, seed):
    kremlin = Meeting.objects.get(slug="rumsfeld-putin-kremlin-2001-08-13")
    data = client.get(f"/api/v1/meetings/{kremlin.pk}/").json()
    assert data["title"] == kremlin.title
    assert data["kind"] == "head_of_state"
    assert (data["starts_on"], data["ends_on"], data["date_precision"]) == (
        "2001-08-13",
        None,
        "day",
    )
    assert data["location"] == "Kremlin, Moscow"
    assert sorted(data["participants"]) == sorted(
        kremlin.participants.values_list("pk", flat=True)
    )
    assert data["parent"] == Meeting.objects.get(slug="rumsfeld-visit-moscow-2001-08").pk
    assert (data["planned_minutes"], data["actual_minutes"]) == (30, 75)
    assert data["status"] == "held"
    assert data["summary"] == kremlin.summary


def test_a_detail_sends_its_version_as_the_etag(client, seed):
    topic = Topic.objects.get(slug="abm-treaty")
    response = client.get(f"/api/v1/topics/{topic.pk}/")
    assert response["ETag"] == '"1"'
    assert response.json()["version"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/statements/999999/",
        "/api/v1/statements/abc/",
        "/api/v1/statements/0.5/",
        "/api/v1/statements/1/extra/",
        "/api/v1/nothing-here/",
        "/api/v1/actors/99999999999999999999999/",
    ],
)
def test_an_unknown_record_or_resource_is_a_json_404(client, seed, url):
    data = assert_json_error(client.get(url), 404)
    assert data["detail"]


def test_a_url_without_its_final_slash_is_redirected(client, seed):
    response = client.get("/api/v1/statements?party=RU")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/statements/?party=RU"


# Filters


STATEMENT_FILTERS = [
    ("party=RU", lambda s: s.party_id is not None and s.party.code == "RU"),
    ("topic=abm-treaty", lambda s: "abm-treaty" in {t.slug for t in s.topics.all()}),
    ("actor={rumsfeld}", lambda s: s.actor.slug == "donald-rumsfeld"),
    ("stance=opposes", lambda s: s.stance == "opposes"),
    ("kind=media_report", lambda s: s.kind == "media_report"),
    (
        "meeting={kremlin}",
        lambda s: s.meeting_id and s.meeting.slug == "rumsfeld-putin-kremlin-2001-08-13",
    ),
    (
        "proposal={withdrawal}",
        lambda s: s.proposal_id and s.proposal.slug == "us-withdraw-from-abm-treaty",
    ),
    ("since=2001-08-02", lambda s: s.stated_on and str(s.stated_on) >= "2001-08-02"),
    ("until=2001-08-06", lambda s: s.stated_on and str(s.stated_on) <= "2001-08-06"),
    ("q=WITHDRAW", lambda s: "withdraw" in s.quote.lower()),
    ("q=treaty  withdraw", lambda s: "withdraw" in s.quote and "treaty" in s.quote),
]


def with_ids(query):
    return query.format(
        rumsfeld=Actor.objects.get(slug="donald-rumsfeld").pk,
        kremlin=Meeting.objects.get(slug="rumsfeld-putin-kremlin-2001-08-13").pk,
        withdrawal=Proposal.objects.get(slug="us-withdraw-from-abm-treaty").pk,
    )


@pytest.mark.parametrize(("query", "check"), STATEMENT_FILTERS)
def test_each_statement_filter_limits_the_results(client, seed, query, check):
    found = results(client.get(f"/api/v1/statements/?{with_ids(query)}&page_size=500"))
    assert found, query
    assert len(found) < Statement.objects.count()
    statements = Statement.objects.in_bulk([s["id"] for s in found])
    assert all(check(statement) for statement in statements.values()), query
    assert len(found) == len([s for s in Statement.objects.all() if check(s)]), query


def test_statement_filters_combine(client, seed):
    found = results(client.get("/api/v1/statements/?party=US&stance=opposes&q=withdraw"))
    assert {s["quote"] for s in found} == {
        "the US would withdraw from the Anti-Ballistic Missile (ABM) treaty of 1972 within months",
        "Once these results are in, and if they are positive, the US will have to withdraw "
        "from the ABM treaty.",
    }


def test_filters_combine_across_every_kind_of_filter(client, seed):
    query = with_ids(
        "party=US&topic=abm-treaty&actor={rumsfeld}&stance=opposes&kind=reported"
        "&meeting=&proposal={withdrawal}&since=2001-08-01&until=2001-08-01&q=withdraw"
    )
    found = results(client.get(f"/api/v1/statements/?{query}"))
    assert len(found) == 2
    narrower = results(client.get(f"/api/v1/statements/?{query}&q=withdraw%20months"))
    assert [s["quote"] for s in narrower] == [
        "the US would withdraw from the Anti-Ballistic Missile (ABM) treaty of 1972 within months"
    ]


def test_empty_filters_are_ignored_as_the_pages_forms_send_them(client, seed):
    query = "topic=&party=&actor=&meeting=&proposal=&stance=&kind=&since=&until=&q="
    assert client.get(f"/api/v1/statements/?{query}").json()["count"] == Statement.objects.count()


@pytest.mark.parametrize("query", ["actor=999999", "meeting=0", "proposal=-4", "topic=nothing"])
def test_a_filter_naming_no_record_matches_nothing(client, seed, query):
    assert results(client.get(f"/api/v1/statements/?{query}")) == []


def test_a_date_range_that_ends_before_it_starts_is_empty(client, seed):
    assert results(client.get("/api/v1/statements/?since=2001-09-01&until=2001-08-01")) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("actor=abc", "actor"),
        ("meeting=1.5", "meeting"),
        ("proposal=%C2%B2", "proposal"),
        ("actor=99999999999999999999", "actor"),
        ("party=ru", "party"),
        ("topic=abm%20treaty", "topic"),
        ("stance=maybe", "stance"),
        ("kind=rumour", "kind"),
        ("since=13/08/2001x", "since"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_a_malformed_filter_is_a_json_400_naming_it(client, seed, query, field):
    data = assert_json_error(client.get(f"/api/v1/statements/?{query}"), 400)
    assert list(data) == [field]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/api/v1/proposals/?party=US", {"us-withdraw-from-abm-treaty", "us-deep-nuclear-cuts"}),
        ("/api/v1/proposals/?topic=heavy-bombers", {"ru-heavy-bombers-50"}),
        ("/api/v1/proposals/?status=declared&q=ABM", {"us-withdraw-from-abm-treaty"}),
        ("/api/v1/actors/?party=US&kind=institution", {"us-government"}),
        ("/api/v1/actors/?q=defense%20minister", {"sergei-ivanov"}),
        ("/api/v1/meetings/?status=scheduled&q=Naples", {"ivanov-rumsfeld-naples-2001-09"}),
        (
            "/api/v1/meetings/?since=2001-09-01",
            {"moscow-consultations-2001-09", "ivanov-rumsfeld-naples-2001-09"},
        ),
    ],
)
def test_proposals_actors_and_meetings_have_their_own_filters(client, seed, url, expected):
    assert {record["slug"] for record in results(client.get(url))} == expected


def test_meetings_filter_by_parent_and_participant(client, seed):
    visit = Meeting.objects.get(slug="rumsfeld-visit-moscow-2001-08")
    putin = Actor.objects.get(slug="vladimir-putin")
    found = results(client.get(f"/api/v1/meetings/?parent={visit.pk}&participant={putin.pk}"))
    assert {m["slug"] for m in found} == {"rumsfeld-putin-kremlin-2001-08-13"}


# Ordering and pagination


def test_ordering_follows_the_allowlist_with_descending(client, seed):
    found = results(client.get("/api/v1/statements/?ordering=-stated_on,id&page_size=500"))
    keys = [(s["stated_on"], -s["id"]) for s in found]
    assert keys == sorted(keys, reverse=True)


def test_ordering_by_an_unknown_field_is_a_400_listing_the_allowed_ones(client, seed):
    data = assert_json_error(client.get("/api/v1/statements/?ordering=quote"), 400)
    message = data["ordering"][0]
    assert "quote" in message and "stated_on" in message


def test_ordering_by_a_field_of_another_resource_is_refused(client, seed):
    assert_json_error(client.get("/api/v1/parties/?ordering=stated_on"), 400)


def test_a_page_holds_50_by_default(client, seed):
    data = client.get("/api/v1/statements/").json()
    assert data["count"] == 64
    assert len(data["results"]) == 50
    assert data["next"] == "http://testserver/api/v1/statements/?page=2"
    second = client.get(data["next"]).json()
    assert len(second["results"]) == 14 and second["next"] is None


def test_a_page_holds_up_to_500(client, seed):
    assert len(results(client.get("/api/v1/statements/?page_size=500"))) == 64


@pytest.mark.parametrize("size", ["501", "0", "-1", "abc", "1e3", "%C2%B2", ""])
def test_a_page_size_out_of_range_or_not_a_number_is_a_400(client, seed, size):
    data = assert_json_error(client.get(f"/api/v1/statements/?page_size={size}"), 400)
    assert "page_size" in data


def test_a_page_that_is_not_a_number_is_a_400(client, seed):
    assert "page" in assert_json_error(client.get("/api/v1/statements/?page=abc"), 400)


@pytest.mark.parametrize("page", ["0", "3", "99999999999999999999"])
def test_a_page_past_the_end_is_a_404(client, seed, page):
    assert_json_error(client.get(f"/api/v1/statements/?page={page}"), 404)


# Exports


def test_the_statements_csv_has_every_statement_with_its_quote(client, seed):
    rows = csv_rows(client.get("/api/v1/statements/csv/"))
    assert len(rows) == Statement.objects.count()
    statement = statement_with("We have no wish")
    row = next(r for r in rows if r["id"] == str(statement.pk))
    assert row["quote"] == statement.quote
    assert (row["actor"], row["party"], row["topics"]) == (
        "Sergei Ivanov",
        "RU",
        "abm-treaty national-missile-defense",
    )
    assert (row["start"], row["end"]) == (str(statement.start), str(statement.end))
    assert row["url"] == f"http://testserver/statements/{statement.pk}/"


def test_the_csv_is_served_as_a_download(client, seed):
    response = client.get("/api/v1/statements/csv/")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="statements.csv"'


@pytest.mark.parametrize(
    "query",
    [query for query, _ in STATEMENT_FILTERS] + ["party=US&stance=opposes&q=withdraw"],
)
def test_the_statements_csv_has_the_same_statements_as_the_list(client, seed, query):
    query = with_ids(query)
    listed = [s["id"] for s in results(client.get(f"/api/v1/statements/?{query}&page_size=500"))]
    exported = [int(r["id"]) for r in csv_rows(client.get(f"/api/v1/statements/csv/?{query}"))]
    assert exported == listed


@pytest.mark.parametrize(
    ("resource", "query"),
    [
        ("proposals", "party=RU"),
        ("proposals", "topic=strategic-reductions&status=no_response"),
        ("meetings", "status=held"),
        ("meetings", "kind=consultations&since=2001-09-01"),
    ],
)
def test_the_proposals_and_meetings_csv_honour_the_filters(client, seed, resource, query):
    listed = {r["id"] for r in results(client.get(f"/api/v1/{resource}/?{query}"))}
    exported = {int(r["id"]) for r in csv_rows(client.get(f"/api/v1/{resource}/csv/?{query}"))}
    assert exported == listed
    assert 0 < len(listed) < len(results(client.get(f"/api/v1/{resource}/")))


def test_the_proposals_csv_has_a_row_per_number(client, seed):
    rows = csv_rows(client.get("/api/v1/proposals/csv/?party=RU"))
    bombers = [r for r in rows if r["slug"] == "ru-heavy-bombers-50"]
    assert [(r["limit"], r["value"], r["unit"]) for r in bombers] == [
        ("ceiling", "50", "aircraft")
    ]
    ban = [r for r in rows if r["slug"] == "ru-ban-new-strategic-offensive-weapons"]
    assert len(ban) == 1 and ban[0]["value"] == ""


@pytest.mark.parametrize("resource", ["statements", "proposals", "meetings"])
def test_a_bad_filter_on_an_export_is_a_json_400_not_a_broken_download(client, seed, resource):
    data = assert_json_error(client.get(f"/api/v1/{resource}/csv/?until=AAA&ordering=x"), 400)
    assert "until" in data or "ordering" in data


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(client, seed, russia):
    text = '=HYPERLINK("http://evil.example","click") and +1+2 then -3 and @SUM(A1:A9)'
    source = SourceFactory(title="@SUM(1+1)", text=text)
    actor = ActorFactory(name="=cmd|' /C calc'!A0", role="+44 20 7946 0000", party=russia)
    topic = TopicFactory(slug="formulas")
    for quote in ('=HYPERLINK("http://evil.example","click")', "+1+2", "-3", "@SUM(A1:A9)"):
        StatementFactory(actor=actor, source=source, quote=quote, topics=[topic])
    rows = csv_rows(client.get("/api/v1/statements/csv/?topic=formulas"))
    assert sorted(r["quote"] for r in rows) == [
        "'+1+2",
        "'-3",
        '\'=HYPERLINK("http://evil.example","click")',
        "'@SUM(A1:A9)",
    ]
    assert {r["actor"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    assert {r["actor_role"] for r in rows} == {"'+44 20 7946 0000"}
    assert {r["source_title"] for r in rows} == {"'@SUM(1+1)"}


def test_the_json_keeps_formula_like_quotes_as_they_are(client, seed):
    source = SourceFactory(text="He wrote =SUM(A1) on the board.")
    statement = StatementFactory(source=source, quote="=SUM(A1)")
    assert client.get(f"/api/v1/statements/{statement.pk}/").json()["quote"] == "=SUM(A1)"


# The comparison: the dashboard's data, by the same code


def comparison_summary(data, first=None):
    """Each row's labels, counts and the ids of its first statements and proposals."""
    return [
        (
            row["topic"]["slug"],
            row["agreement"],
            [
                (
                    cell["party"],
                    cell["position"],
                    cell["statement_count"],
                    [s["id"] for s in cell["statements"]][:first],
                    cell["proposal_count"],
                    [p["id"] for p in cell["proposals"]][:first],
                )
                for cell in row["parties"]
            ],
            row["analysis_count"],
            [s["id"] for s in row["analysis"]][:first],
        )
        for row in data["topics"]
    ]


def rows_summary(rows, first=None):
    return [
        (
            row.topic.slug,
            row.agreement,
            [
                (
                    cell.party.code,
                    cell.position,
                    cell.statement_count,
                    [s.pk for s in cell.statements][:first],
                    cell.proposal_count,
                    [p.pk for p in cell.proposals][:first],
                )
                for cell in row.cells
            ],
            row.analysis_count,
            [s.pk for s in row.analysis][:first],
        )
        for row in rows
    ]


def test_the_comparison_is_what_compare_computes(client, seed):
    data = client.get("/api/v1/comparison/").json()
    rows = compare(Statement.objects.all(), Topic.objects.all(), Party.objects.all())
    assert comparison_summary(data) == rows_summary(rows)
    abm = next(row for row in data["topics"] if row["topic"]["slug"] == "abm-treaty")
    assert [c["position"] for c in abm["parties"]] == ["supports", "opposes"]
    assert (abm["agreement"], abm["agreement_label"]) == ("diverge", "Diverge")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "party=US&stance=opposes&q=withdraw",
        "topic=abm-treaty&party=US",
        "topic=heavy-bombers",
        "actor={rumsfeld}",
        "meeting={kremlin}",
        "since=2001-08-07",
        "kind=analysis",
    ],
)
def test_the_comparison_equals_the_dashboards_data(client, seed, query):
    query = with_ids(query)
    dashboard = client.get(f"/?{query}").context["rows"]
    data = client.get(f"/api/v1/comparison/?{query}").json()
    # The dashboard lists the first CELL_LIMIT of each cell, the API more; counts are whole.
    assert comparison_summary(data, first=CELL_LIMIT) == rows_summary(dashboard)
    assert data["topics"], query


def test_the_comparison_says_when_filters_hide_the_proposals(client, seed):
    data = client.get("/api/v1/comparison/?stance=supports").json()
    assert data["proposals_hidden"] is True
    assert all(not cell["proposals"] for row in data["topics"] for cell in row["parties"])
    assert client.get("/api/v1/comparison/").json()["proposals_hidden"] is False


def test_a_comparison_filter_naming_no_record_matches_nothing(client, seed):
    assert client.get("/api/v1/comparison/?actor=999999").json()["topics"] == []


def test_a_bad_comparison_filter_is_a_json_400(client, seed):
    data = assert_json_error(client.get("/api/v1/comparison/?party=XXXXXXXXX&since=x"), 400)
    assert set(data) == {"party", "since"}


# Writes: who may write


def new_statement(source, actor, quote, **fields):
    return {
        "actor": actor.pk,
        "source": source.pk,
        "quote": quote,
        "topics": ["abm-treaty"],
        "stance": "supports",
        "kind": "direct_quote",
        **fields,
    }


@pytest.fixture
def fresh(seed, russia):
    """A source and a speaker of its own, so that new statements clash with nothing."""
    source = SourceFactory(text="Intro line.\n  \tWe will not sign it. \r\nNext line: we may.")
    return source, ActorFactory(party=russia)


def test_an_anonymous_write_is_a_401_with_a_token_challenge(client, fresh):
    source, actor = fresh
    response = client.post(
        "/api/v1/statements/", new_statement(source, actor, "we may"), content_type=JSON
    )
    assert_json_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    assert not source.statements.exists()


def test_staff_outside_the_editors_group_get_a_403(client, staff_without_group, fresh):
    source, actor = fresh
    sign_in(client, staff_without_group)
    response = client.post(
        "/api/v1/statements/", new_statement(source, actor, "we may"), content_type=JSON
    )
    assert_json_error(response, 403)
    assert not source.statements.exists()


def test_staff_outside_the_editors_group_can_still_read(client, staff_without_group, seed):
    sign_in(client, staff_without_group)
    assert client.get("/api/v1/statements/").status_code == 200


def test_an_editor_creates_a_statement_anchored_in_its_source(editor_client, fresh):
    source, actor = fresh
    response = editor_client.post(
        "/api/v1/statements/", new_statement(source, actor, "we may"), content_type=JSON
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert response["ETag"] == '"1"'
    start = source.text.index("we may")
    assert data["selector"] == {
        "start": start,
        "end": start + len("we may"),
        "prefix": source.text[start - 32 : start],
        "suffix": ".",
    }
    statement = Statement.objects.get(pk=data["id"])
    assert (statement.party.code, list(statement.topics.values_list("slug", flat=True))) == (
        "RU",
        ["abm-treaty"],
    )


def test_an_editor_updates_with_the_version_and_gets_the_next_etag(editor_client, seed):
    statement = statement_with("We have no wish")
    response = editor_client.patch(
        f"/api/v1/statements/{statement.pk}/",
        {"stance": "undecided", "note": "Checked."},
        content_type=JSON,
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    assert response.json()["version"] == 2
    statement.refresh_from_db()
    assert (statement.stance, statement.note, statement.version) == ("undecided", "Checked.", 2)


def test_a_full_update_sets_the_fields_it_sends(editor_client, seed):
    topic = Topic.objects.get(slug="conventional-forces")
    response = editor_client.put(
        f"/api/v1/topics/{topic.pk}/",
        {"slug": "conventional", "name": "Conventional forces in Europe", "sort_order": 99},
        content_type=JSON,
        headers={"If-Match": 'W/"1"'},
    )
    assert response.status_code == 200, response.content
    topic.refresh_from_db()
    assert (topic.slug, topic.name, topic.sort_order, topic.version) == (
        "conventional",
        "Conventional forces in Europe",
        99,
        2,
    )


def test_a_full_update_needs_every_required_field(editor_client, seed):
    topic = Topic.objects.get(slug="conventional-forces")
    response = editor_client.put(
        f"/api/v1/topics/{topic.pk}/",
        {"name": "Conventional forces in Europe"},
        content_type=JSON,
        headers={"If-Match": '"1"'},
    )
    assert list(assert_json_error(response, 400)) == ["slug"]


def test_an_editor_deletes_an_uncited_record(editor_client, seed):
    bush = Actor.objects.get(slug="george-w-bush")
    response = editor_client.delete(f"/api/v1/actors/{bush.pk}/")
    assert response.status_code == 204
    assert not Actor.objects.filter(slug="george-w-bush").exists()


def test_a_token_authenticates_a_script(client, editor, fresh):
    source, actor = fresh
    token = Token.objects.create(user=editor)
    response = client.post(
        "/api/v1/statements/",
        new_statement(source, actor, "we may"),
        content_type=JSON,
        headers={"Authorization": f"Token {token.key}"},
    )
    assert response.status_code == 201, response.content


def test_a_bad_token_is_a_401_even_for_a_read(client, seed):
    response = client.get("/api/v1/statements/", headers={"Authorization": "Token nope"})
    assert_json_error(response, 401)


def test_a_browser_session_needs_the_csrf_token_to_write(editor, fresh):
    source, actor = fresh
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, editor)
    body = new_statement(source, actor, "we may")
    refused = browser.post("/api/v1/statements/", body, content_type=JSON)
    assert "CSRF" in assert_json_error(refused, 403)["detail"]
    browser.get("/admin/")  # sets the CSRF cookie, as any page with a form does
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    accepted = browser.post(
        "/api/v1/statements/", body, content_type=JSON, headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201, accepted.content


# Writes: the admin's validation, quotes kept byte for byte


def test_a_quote_with_surrounding_white_space_is_stored_exactly(editor_client, fresh):
    source, actor = fresh
    quote = "  \tWe will not sign it. \r\n"
    response = editor_client.post(
        "/api/v1/statements/", new_statement(source, actor, quote), content_type=JSON
    )
    assert response.status_code == 201, response.content
    assert response.json()["quote"] == quote
    stored = Statement.objects.get(pk=response.json()["id"])
    assert stored.quote.encode() == quote.encode()
    assert (stored.start, stored.end) == (12, 12 + len(quote))


def test_a_quote_whose_white_space_differs_from_the_source_is_refused(editor_client, fresh):
    source, actor = fresh
    response = editor_client.post(
        "/api/v1/statements/",
        new_statement(source, actor, " We will not sign it.  "),
        content_type=JSON,
    )
    data = assert_json_error(response, 400)
    assert list(data) == ["quote"]
    assert "not in the source text" in data["quote"][0]
    assert not source.statements.exists()


def test_a_quote_that_does_not_match_its_offsets_is_refused(editor_client, fresh):
    source, actor = fresh
    body = new_statement(source, actor, "we may", selector={"start": 0, "end": 6})
    data = assert_json_error(
        editor_client.post("/api/v1/statements/", body, content_type=JSON), 400
    )
    assert "does not match the source at offsets 0–6" in data["quote"][0]


def test_offsets_alone_fill_in_the_quote(editor_client, fresh):
    source, actor = fresh
    body = new_statement(source, actor, "", selector={"start": 0, "end": 5})
    response = editor_client.post("/api/v1/statements/", body, content_type=JSON)
    assert response.status_code == 201, response.content
    assert response.json()["quote"] == "Intro"


def test_the_models_rules_are_field_errors(editor_client, fresh):
    source, actor = fresh
    body = new_statement(source, actor, "we may", kind="analysis", proposal_stance="accepts")
    data = assert_json_error(
        editor_client.post("/api/v1/statements/", body, content_type=JSON), 400
    )
    assert set(data) == {"kind", "proposal_stance"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("actor", "1"),
        ("source", True),
        ("topics", "abm-treaty"),
        ("topics", {"abm-treaty": 1}),
        ("topics", []),
        ("quote", 5),
        ("stance", 1),
        ("note", ["x"]),
        ("selector", {"start": "0"}),
    ],
)
def test_values_of_the_wrong_json_type_are_refused(editor_client, fresh, field, value):
    source, actor = fresh
    body = {**new_statement(source, actor, "we may"), field: value}
    data = assert_json_error(
        editor_client.post("/api/v1/statements/", body, content_type=JSON), 400
    )
    assert field in data


def test_an_empty_string_is_not_taken_for_null(editor_client, seed):
    data = assert_json_error(
        editor_client.post(
            "/api/v1/actors/", {"slug": "x", "name": "X", "party": ""}, content_type=JSON
        ),
        400,
    )
    assert "party" in data


# Writes: no lost updates


def test_an_update_without_if_match_is_a_428(editor_client, seed):
    statement = statement_with("We have no wish")
    response = editor_client.patch(
        f"/api/v1/statements/{statement.pk}/", {"stance": "opposes"}, content_type=JSON
    )
    assert "If-Match" in assert_json_error(response, 428)["detail"]
    statement.refresh_from_db()
    assert (statement.stance, statement.version) == ("supports", 1)


def test_an_update_on_a_stale_version_is_a_412_with_the_current_record(editor_client, seed):
    statement = statement_with("We have no wish")
    Statement.objects.get(pk=statement.pk).save()  # someone else saved: now version 2
    response = editor_client.patch(
        f"/api/v1/statements/{statement.pk}/",
        {"stance": "opposes"},
        content_type=JSON,
        headers={"If-Match": '"1"'},
    )
    data = assert_json_error(response, 412)
    assert "version 2" in data["detail"]
    assert response["ETag"] == '"2"'
    current = data["current"]
    assert current == editor_client.get(f"/api/v1/statements/{statement.pk}/").json()
    assert (current["id"], current["version"], current["stance"]) == (statement.pk, 2, "supports")
    assert current["actor"]["party"] == "RU" and current["proposal"]["id"] == statement.proposal_id


@pytest.mark.parametrize("header", ["3", '"three"', '"1", "2"', "*"])
def test_an_if_match_that_is_not_one_version_is_a_400(editor_client, seed, header):
    topic = Topic.objects.get(slug="abm-treaty")
    response = editor_client.patch(
        f"/api/v1/topics/{topic.pk}/",
        {"name": "ABM"},
        content_type=JSON,
        headers={"If-Match": header},
    )
    if header == "3":  # a bare number is taken as the version it names
        assert_json_error(response, 412)
    else:
        assert "If-Match" in assert_json_error(response, 400)


def test_a_delete_on_a_stale_version_is_a_412_and_deletes_nothing(editor_client, seed):
    bush = Actor.objects.get(slug="george-w-bush")
    response = editor_client.delete(f"/api/v1/actors/{bush.pk}/", headers={"If-Match": '"7"'})
    assert_json_error(response, 412)
    assert Actor.objects.filter(pk=bush.pk).exists()


def test_a_delete_with_the_current_version_deletes(editor_client, seed):
    bush = Actor.objects.get(slug="george-w-bush")
    response = editor_client.delete(f"/api/v1/actors/{bush.pk}/", headers={"If-Match": '"1"'})
    assert response.status_code == 204


def test_the_etag_of_an_update_is_the_next_if_match(editor_client, seed):
    topic = Topic.objects.get(slug="abm-treaty")
    url = f"/api/v1/topics/{topic.pk}/"
    etag = editor_client.get(url)["ETag"]
    for name in ("ABM Treaty (1972)", "ABM Treaty"):
        response = editor_client.patch(
            url, {"name": name}, content_type=JSON, headers={"If-Match": etag}
        )
        assert response.status_code == 200, response.content
        etag = response["ETag"]
    assert etag == '"3"'


def test_of_two_updates_based_on_one_version_only_one_wins(editor_client, seed, monkeypatch):
    """
    The race, replayed in one thread: editor A's update has validated against version 1
    and is about to write when editor B's update of version 1 arrives and is saved. A's
    write must then fail (412), not overwrite B's: the version check is made in the
    database, in the write itself.
    """
    topic = Topic.objects.get(slug="abm-treaty")
    url = f"/api/v1/topics/{topic.pk}/"
    update = TopicSerializer.update
    responses = {}

    def b_arrives_first(self, instance, validated_data):
        if not responses:  # A's write, before its transaction: B's whole update happens now
            responses["B"] = None
            responses["B"] = editor_client.patch(
                url, {"name": "B's name"}, content_type=JSON, headers={"If-Match": '"1"'}
            )
        return update(self, instance, validated_data)

    monkeypatch.setattr(TopicSerializer, "update", b_arrives_first)
    responses["A"] = editor_client.patch(
        url, {"name": "A's name"}, content_type=JSON, headers={"If-Match": '"1"'}
    )
    assert responses["B"].status_code == 200
    assert responses["A"].status_code == 412
    assert responses["A"].json()["current"]["name"] == "B's name"
    topic.refresh_from_db()
    assert (topic.name, topic.version) == ("B's name", 2)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_two_concurrent_updates_of_one_version_only_one_wins(editor, monkeypatch):
    """
    Two editors both read version 1 and send their change from two threads, with two
    database connections. Each request is held once it has validated, until the other has
    too, so that both race for the atomic check-and-write: one gets 200, the other 412.
    """
    if connection.vendor == "sqlite":
        pytest.skip(
            "The in-memory SQLite test database shares one cache between connections, "
            "where a second writer fails with 'database table is locked' instead of "
            "waiting; a SQLite file (as served) waits. The test above replays the race."
        )
    topic = TopicFactory(name="Before")
    clients = [Client(), Client()]
    for browser in clients:
        sign_in(browser, editor)
    both_validated = threading.Barrier(2, timeout=15)
    save_if_version = Topic.save_if_version

    def after_the_other(self, expected, **kwargs):
        both_validated.wait()
        return save_if_version(self, expected, **kwargs)

    monkeypatch.setattr(Topic, "save_if_version", after_the_other)
    statuses = {}

    def update(number):
        try:
            response = clients[number].patch(
                f"/api/v1/topics/{topic.pk}/",
                {"name": f"Editor {number}"},
                content_type=JSON,
                headers={"If-Match": '"1"'},
            )
            statuses[number] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=update, args=(number,)) for number in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses.values()) == [200, 412], statuses
    winner = next(number for number, status in statuses.items() if status == 200)
    topic.refresh_from_db()
    assert (topic.name, topic.version) == (f"Editor {winner}", 2)


# Writes: deleting what statements cite


@pytest.mark.parametrize(
    ("resource", "model", "slug"),
    [
        ("actors", Actor, "sergei-ivanov"),
        ("meetings", Meeting, "rumsfeld-putin-kremlin-2001-08-13"),
        ("meetings", Meeting, "rumsfeld-visit-moscow-2001-08"),
        ("proposals", Proposal, "us-withdraw-from-abm-treaty"),
        ("topics", Topic, "abm-treaty"),
        ("sources", Source, None),
        ("parties", Party, None),
    ],
)
def test_deleting_a_cited_record_is_a_409_that_says_why_and_deletes_nothing(
    editor_client, seed, resource, model, slug
):
    record = model.objects.get(slug=slug) if slug else model.objects.first()
    before = {m: m.objects.count() for m in (Statement, Proposal, Meeting, Actor, Topic)}
    data = assert_json_error(editor_client.delete(f"/api/v1/{resource}/{record.pk}/"), 409)
    assert "cannot be deleted" in data["detail"]
    assert "refer to it" in data["detail"]
    assert model.objects.filter(pk=record.pk).exists()
    assert {m: m.objects.count() for m in before} == before


def test_a_409_counts_what_refers_to_the_record(editor_client, seed):
    topic = Topic.objects.get(slug="abm-treaty")
    data = editor_client.delete(f"/api/v1/topics/{topic.pk}/").json()
    assert data["detail"] == (
        "“ABM Treaty” cannot be deleted: 5 statements refer to it. Change or delete them first."
    )


# Bad input never yields a 500


@pytest.mark.parametrize(
    "body",
    [b'{"name": ', b"[" * 100_000, b"{" * 100_000, b"\xff\xfe", b'{"name": "\\ud800"}x'],
    ids=["truncated", "deep-arrays", "deep-objects", "not-utf8", "trailing-garbage"],
)
def test_malformed_or_deeply_nested_json_is_a_json_400(editor_client, seed, body):
    response = editor_client.post("/api/v1/topics/", body, content_type=JSON)
    assert assert_json_error(response, 400)["detail"]


def test_a_body_over_the_upload_limit_is_a_json_413(editor_client, seed):
    body = b'{"name": "' + b"x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    response = editor_client.post("/api/v1/topics/", body, content_type=JSON)
    detail = assert_json_error(response, 413)["detail"]
    assert detail == f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/statements/?q=a%00b",
        "/api/v1/statements/?party=R%00U",
        "/api/v1/statements/?x%00=1",
        "/api/v1/comparison/?q=%00",
        "/api/v1/statements/csv/?q=%00",
        "/api/v1/actors/?q=%00",
    ],
)
def test_a_nul_character_in_the_query_is_a_json_400(client, seed, url):
    assert "NUL" in assert_json_error(client.get(url), 400)["detail"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "name=x"),
        ("application/x-www-form-urlencoded", "slug=x&name=X"),
        ("application/xml", "<topic/>"),
    ],
)
def test_a_body_that_is_not_json_is_a_415(editor_client, seed, content_type, body):
    response = editor_client.post("/api/v1/topics/", body, content_type=content_type)
    assert "Unsupported media type" in assert_json_error(response, 415)["detail"]


def test_a_multipart_body_is_a_415(editor_client, seed):
    response = editor_client.post("/api/v1/topics/", {"slug": "x", "name": "X"})
    assert_json_error(response, 415)


def test_a_json_list_where_an_object_is_expected_is_a_400(editor_client, seed):
    response = editor_client.post("/api/v1/topics/", [1, 2], content_type=JSON)
    assert_json_error(response, 400)


# Query counts: bounded, and the same on ten times the data


API_URLS = [
    "/api/v1/",
    "/api/v1/parties/",
    "/api/v1/actors/",
    "/api/v1/topics/",
    "/api/v1/sources/",
    "/api/v1/sources/{source}/",
    "/api/v1/statements/",
    "/api/v1/statements/?party=RU&topic=abm-treaty&q=treaty&ordering=-stated_on",
    "/api/v1/statements/{statement}/",
    "/api/v1/statements/csv/",
    "/api/v1/statements/annotations/",
    "/api/v1/proposals/",
    "/api/v1/proposals/{proposal}/",
    "/api/v1/proposals/csv/",
    "/api/v1/meetings/",
    "/api/v1/meetings/csv/",
    "/api/v1/comparison/",
    "/api/v1/comparison/?party=US&stance=opposes",
]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries.captured_queries)


def test_api_query_counts_are_bounded_and_do_not_grow_with_ten_times_the_data(client, seed):
    urls = [
        url.format(
            source=seed.pk,
            statement=statement_with("We have no wish").pk,
            proposal=Proposal.objects.get(slug="us-withdraw-from-abm-treaty").pk,
        )
        for url in API_URLS
    ]
    on_seed = {url: count_queries(client, url) for url in urls}
    assert max(on_seed.values()) <= 10, on_seed
    multiply_seed(9)
    assert Statement.objects.count() == 10 * 64
    on_ten_times = {url: count_queries(client, url) for url in urls}
    assert on_ten_times == on_seed, (on_seed, on_ten_times)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "page_size=7&page=3",
        "topic=abm-treaty",
        "topic=abm-treaty&page_size=3&page=2",
        "topic=abm-treaty&ordering=-stated_on",
        "q=withdraw",
    ],
)
def test_the_statements_list_is_exactly_what_the_serializer_gives(client, seed, query):
    """The list builds its rows from plain values; each must equal the serializer's."""
    from positions.serializers import StatementSerializer

    data = client.get(f"/api/v1/statements/?{query}").json()
    assert data["results"]
    for listed in data["results"]:
        statement = Statement.objects.get(pk=listed["id"])
        expected = json.loads(json.dumps(StatementSerializer(statement).data))
        assert listed == expected


def test_a_topic_alone_is_listed_in_the_same_order_as_any_other_filter(client, russia):
    """A topic alone is read from its links' copy of the list order; with another filter it
    is read from the statements. Both give the order of the statements' own fields, undated
    statements, ties on the date and several sources included."""
    topic = TopicFactory()
    first, second = SourceFactory(), SourceFactory()
    actor = ActorFactory(party=russia)
    for source, stated_on, quote in [
        (second, "2001-08-13", "Ivanov said"),
        (first, "2001-08-13", "Rumsfeld said"),
        (first, "2001-08-13", "Ivanov said"),
        (first, None, "The talks were interrupted"),
        (second, None, "Rumsfeld said"),
        (first, "2001-07-01", "We have no wish"),
    ]:
        StatementFactory(
            source=source, actor=actor, quote=quote, stated_on=stated_on, topics=[topic]
        )
    expected = list(
        Statement.objects.filter(topics=topic)
        .order_by("stated_on", "source_id", "start", "id")
        .values_list("pk", flat=True)
    )
    alone = client.get(f"/api/v1/statements/?topic={topic.slug}").json()
    with_party = client.get(f"/api/v1/statements/?topic={topic.slug}&party=RU").json()
    assert [row["id"] for row in alone["results"]] == expected
    assert [row["id"] for row in with_party["results"]] == expected
    assert alone["count"] == with_party["count"] == 6


def test_a_statement_is_exactly_what_the_serializer_gives(client, seed):
    """The detail builds its answer from plain values, like the list; it must equal the
    serializer's, with the version as the ETag, for every statement of the seed."""
    from positions.serializers import StatementSerializer

    for statement in Statement.objects.all():
        response = client.get(f"/api/v1/statements/{statement.pk}/")
        expected = json.loads(json.dumps(StatementSerializer(statement).data))
        assert response.json() == expected
        assert response["ETag"] == f'"{statement.version}"'


@pytest.mark.parametrize("pk", ["999999", "abc", "1.5", "0x1"])
def test_a_statement_that_is_not_there_is_a_404(client, pk):
    response = client.get(f"/api/v1/statements/{pk}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_the_list_filters_do_not_hide_a_record_from_its_own_url(client):
    statement = StatementFactory()
    for resource, pk in [("statements", statement.pk), ("actors", statement.actor_id)]:
        response = client.get(f"/api/v1/{resource}/{pk}/?topic=no-such-topic&party=ZZ&q=nothing")
        assert response.status_code == 200


# Writes: a create sent again is not stored twice


def test_a_create_sent_again_with_its_client_reference_is_stored_once(editor_client, fresh):
    source, actor = fresh
    payload = new_statement(source, actor, "we may", client_reference="run-7:0001")
    first = editor_client.post("/api/v1/statements/", payload, content_type=JSON)
    assert first.status_code == 201
    assert first.json()["client_reference"] == "run-7:0001"
    history = Statement.history.count()
    again = editor_client.post("/api/v1/statements/", payload, content_type=JSON)
    assert again.status_code == 200
    assert again["Idempotent-Replay"] == "true"
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"]
    assert source.statements.count() == 1
    assert Statement.history.count() == history  # nothing written
    listed = editor_client.get(f"/api/v1/statements/{first.json()['id']}/").json()
    assert listed["client_reference"] == "run-7:0001"


@pytest.mark.parametrize("reference", ["has space", "x" * 65, "<script>", "", "é"])
def test_a_client_reference_must_be_plain_and_short(editor_client, fresh, reference):
    source, actor = fresh
    payload = new_statement(source, actor, "we may", client_reference=reference)
    response = editor_client.post("/api/v1/statements/", payload, content_type=JSON)
    data = assert_json_error(response, 400)
    assert "client_reference" in data
    assert not source.statements.exists()


def test_a_client_reference_cannot_change(editor_client, fresh):
    source, actor = fresh
    payload = new_statement(source, actor, "we may", client_reference="first")
    created = editor_client.post("/api/v1/statements/", payload, content_type=JSON).json()
    url = f"/api/v1/statements/{created['id']}/"
    headers = {"If-Match": f'"{created["version"]}"'}
    same = editor_client.patch(url, {"client_reference": "first"}, JSON, headers=headers)
    assert same.status_code == 200
    changed = editor_client.patch(
        url, {"client_reference": "second"}, JSON, headers={"If-Match": same["ETag"]}
    )
    assert assert_json_error(changed, 400)["client_reference"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_creates_with_one_client_reference_at_once_store_one(editor, russia):
    """A retry that arrives while the first request is still writing: two threads, two
    connections, both past their checks before either writes. One 201, one 200, one row."""
    if connection.vendor == "sqlite":
        pytest.skip("The in-memory SQLite test database cannot hold two writers (see above).")
    Topic.objects.get_or_create(slug="abm-treaty", defaults={"name": "ABM Treaty"})
    source = SourceFactory(text="Intro line.\nNext line: we may.")
    actor = ActorFactory(party=russia)
    clients = [Client(), Client()]
    for browser in clients:
        sign_in(browser, editor)
    both_checked = threading.Barrier(2, timeout=15)
    full_clean = Statement.full_clean

    def after_the_other(self, *args, **kwargs):
        both_checked.wait()
        return full_clean(self, *args, **kwargs)

    payload = new_statement(source, actor, "we may", client_reference="retry-1")
    statuses = {}

    def create(number):
        try:
            response = clients[number].post("/api/v1/statements/", payload, content_type=JSON)
            statuses[number] = response.status_code
        finally:
            connection.close()

    Statement.full_clean = after_the_other
    try:
        threads = [threading.Thread(target=create, args=(number,)) for number in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        Statement.full_clean = full_clean
    assert sorted(statuses.values()) == [200, 201], statuses
    assert Statement.objects.filter(client_reference="retry-1").count() == 1


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("  =1+1", "'  =1+1"),
        ("\n=1+1", "'\n=1+1"),
        ("\uff1dSUM(A1)", "'\uff1dSUM(A1)"),
        (" \uff20x", "' \uff20x"),
        ("-2", "'-2"),
        ("  plain words", "  plain words"),
        ("a = b", "a = b"),
        (None, ""),
    ],
)
def test_a_csv_cell_that_could_start_a_formula_is_neutralised(value, cell):
    from positions.api import safe_cell

    assert safe_cell(value) == cell
