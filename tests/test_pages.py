"""The public pages, on the seed data: full page, htmx fragment and the no-JavaScript path."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions.models import (
    AUTHOR_KINDS,
    Meeting,
    Party,
    Proposal,
    ProposalParameter,
    Source,
    Statement,
    StatementTopic,
    Topic,
)
from tests.factories import ActorFactory, SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def seed(seeded):
    return Source.objects.get()


def statement_with(quote_start):
    return Statement.objects.get(quote__startswith=quote_start)


# The dashboard


def test_the_dashboard_has_a_row_per_topic_and_a_column_per_party_in_order(client, seed):
    response = client.get("/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.topic.slug for row in rows] == list(Topic.objects.values_list("slug", flat=True))
    assert all([cell.party.code for cell in row.cells] == ["RU", "US"] for row in rows)
    html = response.content.decode()
    assert html.count('<section class="topic-row"') == Topic.objects.count()


def test_the_dashboard_shows_quotes_verbatim_with_speaker_role_date_and_meeting(client, seed):
    html = client.get("/").content.decode()
    quote = "We have no wish to withdraw from any treaty or agreement"
    assert quote in html
    card = html[html.index(quote) : html.index(quote) + 1500]
    assert 'Sergei Ivanov</a><span class="role">, Russian Defense Minister</span>' in card
    assert '<time datetime="2001-08-01">August 2001</time>' in card
    assert "Joint news conference of Ivanov and Rumsfeld" in card
    assert "Direct quote" in card and "Supports" in card


def test_the_abm_treaty_row_shows_the_sides_diverging(client, seed):
    rows = {row.topic.slug: row for row in client.get("/").context["rows"]}
    abm = rows["abm-treaty"]
    assert [cell.position for cell in abm.cells] == ["supports", "opposes"]
    assert abm.agreement == "diverge"
    assert rows["conventional-forces"].agreement == "no_data"
    assert rows["heavy-bombers"].agreement == "unanswered"
    html = client.get("/").content.decode()
    # Each label says why, from the evidence.
    assert abm.reason in html
    assert abm.reason.startswith("Russia supports (")


def test_the_stance_map_labels_every_cell_in_words(client, seed):
    html = client.get("/").content.decode()
    table = html[html.index('<table class="stance-map">') : html.index("</table>")]
    assert table.count('<td class="pos pos-') == 2 * Topic.objects.count()
    assert re.search(r'<td class="pos pos-opposes">.*?Opposes</td>', table)
    assert "Diverge" in table


def test_analysis_is_never_in_a_sides_column(client, seed):
    response = client.get("/")
    for row in response.context["rows"]:
        for cell in row.cells:
            assert all(statement.kind not in AUTHOR_KINDS for statement in cell.statements)
    html = response.content.decode()
    analysis = statement_with("It is also unlikely that it will agree to amend")
    position = html.index(analysis.quote)
    assert html.rfind('<aside class="analysis"', 0, position) > html.rfind(
        '<div class="side ', 0, position
    )


def test_each_cell_lists_the_sides_proposals_with_numbers_and_status(client, seed):
    rows = {row.topic.slug: row for row in client.get("/").context["rows"]}
    russia, united_states = rows["heavy-bombers"].cells
    assert [p.slug for p in russia.proposals] == ["ru-heavy-bombers-50"]
    assert united_states.proposals == []
    html = client.get("/?topic=heavy-bombers").content.decode()
    assert "At most 50 aircraft" in html
    assert "No response" in html


# Filters, htmx and the no-JavaScript path


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("party=RU", lambda s: s.party.code == "RU"),
        ("stance=opposes", lambda s: s.stance == "opposes"),
        ("kind=media_report", lambda s: s.kind == "media_report"),
        ("actor={rumsfeld}", lambda s: s.actor.slug == "donald-rumsfeld"),
        ("meeting={kremlin}", lambda s: s.meeting.slug == "rumsfeld-putin-kremlin-2001-08-13"),
        ("since=2001-08-07&until=2001-08-07", lambda s: str(s.stated_on) == "2001-08-07"),
        ("q=WITHDRAW", lambda s: "withdraw" in s.quote.lower()),
        ("q=treaty  withdraw", lambda s: "withdraw" in s.quote and "treaty" in s.quote),
    ],
)
def test_each_filter_limits_the_statements_shown(client, seed, query, check):
    from positions.models import Actor

    query = query.format(
        rumsfeld=Actor.objects.get(slug="donald-rumsfeld").pk,
        kremlin=Meeting.objects.get(slug="rumsfeld-putin-kremlin-2001-08-13").pk,
    )
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    shown = [
        statement
        for row in response.context["rows"]
        for cell in row.cells
        for statement in cell.statements
    ] + [statement for row in response.context["rows"] for statement in row.analysis]
    assert shown, query
    assert all(check(statement) for statement in shown), query
    assert response.context["statement_total"] < Statement.objects.count()


def test_filters_combine(client, seed):
    response = client.get("/?party=US&stance=opposes&q=withdraw")
    shown = [s for row in response.context["rows"] for c in row.cells for s in c.statements]
    assert {s.quote for s in shown} == {
        "the US would withdraw from the Anti-Ballistic Missile (ABM) treaty of 1972 within months",
        "Once these results are in, and if they are positive, the US will have to withdraw "
        "from the ABM treaty.",
    }


def test_the_topic_filter_shows_one_row_and_the_party_filter_one_column(client, seed):
    response = client.get("/?topic=abm-treaty&party=US")
    (row,) = response.context["rows"]
    assert row.topic.slug == "abm-treaty"
    assert [cell.party.code for cell in row.cells] == ["US"]


def test_an_htmx_request_gets_only_the_results_fragment(client, seed):
    response = client.get("/?party=RU", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="results"')
    assert "Sergei Ivanov" in html and 'id="filters"' not in html


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_pages_that_answer_htmx_differently_vary_on_it(client, seed, headers):
    for url in ("/", "/topics/abm-treaty/"):
        response = client.get(url, headers=headers)
        assert "HX-Request" in response.headers["Vary"]


def test_the_filter_form_works_without_javascript(client, seed):
    html = client.get("/").content.decode()
    form = html[html.index('<form id="filters"') : html.index("</form>")]
    assert 'method="get"' in form and 'action="/"' in form
    assert '<button type="submit">' in form
    assert 'hx-push-url="true"' in form
    for name in ("topic", "party", "actor", "meeting", "stance", "kind", "since", "until", "q"):
        assert f'name="{name}"' in form


def test_the_form_shows_the_filters_in_use(client, seed):
    html = client.get("/?stance=opposes&q=withdraw").content.decode()
    assert '<option value="opposes" selected>' in html
    assert 'name="q" id="id_q" value="withdraw"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=2001-09-01&until=2001-08-01", "The end of the date range is before its start."),
        ("party=XX", "Select a valid choice"),
        ("actor=abc", "Select a valid choice"),
        ("since=13/08/2001x", "Enter a valid date."),
        ("q=" + "x" * 201, "Ensure this value has at most 200 characters"),
        ("stance=maybe", "Select a valid choice"),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX])
def test_bad_filters_get_a_clear_error_not_a_500(client, seed, query, message, headers):
    response = client.get(f"/?{query}", headers=headers)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["rows"] == []


@pytest.mark.parametrize(
    "url",
    [
        "/?q=a%00b",
        "/topics/abm-treaty/?q=%00",
        "/meetings/?x%00=1",
        "/admin/autocomplete/?app_label=positions&model_name=statement&field_name=actor&term=a%00",
    ],
)
def test_a_nul_character_in_the_query_string_is_a_400_on_every_page(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 400
    assert "contains a NUL character" in response.content.decode()


def test_a_search_with_markup_is_escaped(client, seed):
    html = client.get("/?q=<script>alert(1)</script>").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_quotes_with_markup_render_as_text_on_every_page(client, seed):
    source = SourceFactory(text='He said <b onclick="x()">bold</b> and {{ secret }}.')
    statement = StatementFactory(source=source, quote='<b onclick="x()">bold</b> and {{ secret }}')
    escaped = "&lt;b onclick=&quot;x()&quot;&gt;bold&lt;/b&gt; and {{ secret }}"
    for url in ("/", f"/statements/{statement.pk}/", f"/sources/{source.pk}/"):
        html = client.get(url).content.decode()
        assert escaped in html, url
        assert '<b onclick="x()">' not in html, url


# The statement page


def test_the_statement_page_highlights_the_quote_in_its_paragraph(client, seed):
    statement = statement_with("We have no wish")
    html = client.get(f"/statements/{statement.pk}/").content.decode()
    assert (
        "In response, Ivanov said that unlike the US, Russia is content with the existing "
        "multi-level system of agreements and treaties. “<mark>We have no wish to withdraw from "
        "any treaty or agreement</mark>,” added Ivanov."
    ) in html


def test_the_statement_page_shows_who_when_where_and_the_proposal(client, seed):
    statement = statement_with("We have no wish")
    html = client.get(f"/statements/{statement.pk}/").content.decode()
    assert "Russian Defense Minister" in html
    assert '<time datetime="2001-08-01">August 2001</time>' in html
    assert "Joint news conference of Ivanov and Rumsfeld" in html
    assert statement.proposal.title in html
    assert "Rejects" in html


def test_the_citation_is_ready_to_copy_with_the_quote_verbatim(client, seed):
    statement = statement_with("We have no wish")
    response = client.get(f"/statements/{statement.pk}/")
    citation = response.context["citation"]
    assert citation.startswith(
        "Sergei Ivanov (Russian Defense Minister), August 2001, at Joint news conference"
    )
    assert "translated from Russian" in citation
    assert f"“{statement.quote}”" in citation
    assert citation.endswith(f"http://testserver/statements/{statement.pk}/")
    assert f"characters {statement.start}–{statement.end}" in citation


def test_the_statement_page_links_the_previous_and_next_on_the_same_topic(client, seed):
    abm = Topic.objects.get(slug="abm-treaty")
    ordered = list(
        Statement.objects.filter(topics=abm).order_by("stated_on", "source_id", "start", "pk")
    )
    middle = ordered[1]
    response = client.get(f"/statements/{middle.pk}/")
    (topic, previous, following) = next(n for n in response.context["neighbours"] if n[0] == abm)
    assert (previous, following) == (ordered[0], ordered[2])
    html = response.content.decode()
    assert f'rel="prev" href="/statements/{ordered[0].pk}/"' in html
    assert f'rel="next" href="/statements/{ordered[2].pk}/"' in html


def test_the_first_statement_on_a_topic_has_no_previous(client, seed):
    abm = Topic.objects.get(slug="abm-treaty")
    first = Statement.objects.filter(topics=abm).order_by("stated_on", "source_id", "start")[0]
    html = client.get(f"/statements/{first.pk}/").content.decode()
    assert "No earlier statement" in html


def test_an_unknown_statement_is_a_404(client, seed):
    assert client.get("/statements/999999/").status_code == 404


# The source page


def test_the_source_page_shows_the_whole_text_with_every_quote_linked(client, seed):
    response = client.get(f"/sources/{seed.pk}/")
    paragraphs = response.context["paragraphs"]
    rebuilt = ["".join(segment.text for segment in paragraph) for paragraph in paragraphs]
    assert rebuilt == [line for line in seed.text.split("\n") if line.strip()]
    html = response.content.decode()
    for statement in seed.statements.all():
        assert f'id="s-{statement.pk}"' in html
        assert f'href="/statements/{statement.pk}/"' in html


def test_overlapping_quotes_are_all_reachable(client, seed):
    """Ivanov and Rumsfeld are both credited with the same words; both are linked."""
    shared = Statement.objects.filter(quote__startswith="military experts from the two")
    assert shared.count() == 2
    html = client.get(f"/sources/{seed.pk}/").content.decode()
    for statement in shared:
        assert f'href="/statements/{statement.pk}/"' in html


# Meetings, proposals, actors and topics


def test_the_timeline_nests_the_visits_meetings_and_marks_their_status(client, seed):
    response = client.get("/meetings/")
    top = [meeting.slug for meeting in response.context["meetings"]]
    assert "rumsfeld-visit-moscow-2001-08" in top
    assert "rumsfeld-putin-kremlin-2001-08-13" not in top
    html = response.content.decode()
    visit = html.index('id="meeting-rumsfeld-visit-moscow-2001-08"')
    nested = html.index('<ol class="timeline nested"', visit)
    assert nested < html.index('id="meeting-rumsfeld-putin-kremlin-2001-08-13"')
    assert 'class="meeting status-interrupted"' in html
    assert 'class="meeting status-scheduled"' in html


def test_the_timeline_is_in_date_order(client, seed):
    meetings = client.get("/meetings/").context["meetings"]
    dates = [meeting.starts_on for meeting in meetings]
    assert dates == sorted(dates)


def test_the_kremlin_meeting_shows_planned_and_actual_duration(client, seed):
    html = client.get("/meetings/").content.decode()
    kremlin = html[html.index('id="meeting-rumsfeld-putin-kremlin-2001-08-13"') :][:4000]
    assert "Planned: 30 minutes." in kremlin
    assert "Actual: 75 minutes." in kremlin
    assert "Ran 45 minutes over." in kremlin


def test_the_september_meetings_show_the_month_only(client, seed):
    html = client.get("/meetings/").content.decode()
    naples = html[html.index('id="meeting-ivanov-rumsfeld-naples-2001-09"') :][:800]
    assert ">September 2001</time>" in naples
    assert "1 September" not in naples


def test_proposals_are_grouped_by_side_with_numbers_status_and_response(client, seed):
    response = client.get("/proposals/")
    groups = {party.code: proposals for party, proposals in response.context["groups"]}
    assert len(groups["RU"]) == Proposal.objects.filter(party__code="RU").count()
    assert len(groups["US"]) == Proposal.objects.filter(party__code="US").count()
    html = response.content.decode()
    start_iii = html[html.index('id="proposal-ru-start-iii-1500-warheads"') :][:3000]
    assert "At most 1,500 warheads" in start_iii
    assert "No response yet." in start_iii
    bombers = html[html.index('id="proposal-ru-heavy-bombers-50"') :][:3000]
    assert "No response yet." in bombers
    withdrawal = html[html.index('id="proposal-us-withdraw-from-abm-treaty"') :]
    withdrawal = withdrawal[: withdrawal.index("</article>")]
    assert "Rejects" in withdrawal
    assert "We have no wish to withdraw from any treaty or agreement" in withdrawal
    assert "No response yet." not in withdrawal


def test_the_ceilings_chart_is_svg_with_a_text_alternative(client, seed):
    html = client.get("/proposals/").content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "Russia proposes at most 1,500 warheads" in svg
    assert "United States proposes no number" in svg
    table = html[html.index('<table class="data-table">') :]
    assert "At most 1,500 warheads" in table and "At most 50 aircraft" in table
    assert ProposalParameter.objects.count() == 3


def test_an_actor_page_lists_the_actors_statements_across_topics(client, seed):
    response = client.get("/actors/sergei-ivanov/")
    assert response.status_code == 200
    shown = {s.pk for _, statements in response.context["by_topic"] for s in statements}
    assert shown == set(
        Statement.objects.filter(actor__slug="sergei-ivanov").values_list("pk", flat=True)
    )


def test_a_topic_page_shows_how_stances_moved_over_time(client, seed):
    response = client.get("/topics/strategic-reductions/")
    timeline = response.context["timeline"]
    assert timeline is not None
    assert len({point.statement.stated_on for point in timeline.points}) > 1
    html = response.content.decode()
    assert "How the stances moved over time" in html
    assert "<svg" in html and "Dated statements on" in html


def test_a_topic_with_a_single_dated_statement_has_no_timeline(client, seed):
    response = client.get("/topics/conventional-forces/")
    assert response.status_code == 200
    assert response.context["timeline"] is None


def test_the_topic_page_filters_in_place(client, seed):
    response = client.get("/topics/abm-treaty/?party=RU", headers=HTMX)
    assert "<html" not in response.content.decode()
    assert all(
        s.party.code == "RU" for cell in response.context["row"].cells for s in cell.statements
    )


@pytest.mark.parametrize("url", ["/actors/nobody/", "/topics/nothing/", "/sources/999999/"])
def test_unknown_pages_are_404(client, seed, url):
    assert client.get(url).status_code == 404


# Query counts: bounded, and the same on ten times the data


def multiply_seed(times):
    """Copy the seed's statements, proposals and topics into more sources, times over."""
    seed_source = Source.objects.get()
    statements = list(Statement.objects.prefetch_related("topics"))
    proposals = list(Proposal.objects.prefetch_related("parameters", "topics"))
    for copy in range(times):
        source = Source.objects.create(
            title=f"{seed_source.title} (copy {copy})", text=f"{seed_source.text}\n[{copy}]"
        )
        topic = Topic.objects.create(slug=f"extra-{copy}", name=f"Extra topic {copy}")
        ActorFactory(party=Party.objects.get(code="RU"))
        clones = []
        for original in statements:
            # Every coded field as the original's; the copy's text starts like the seed's,
            # so the offsets of the quote and its condition hold in it too.
            copied = {
                field.attname: getattr(original, field.attname)
                for field in Statement._meta.concrete_fields
                if field.attname
                not in {"id", "source_id", "end", "prefix", "suffix", "source_sha256", "version"}
                and field.attname not in {"created_at", "updated_at", "party_id"}
            }
            clone = Statement(**copied, source=source)
            clones.append(clone)
        Statement.objects.bulk_create(clones)
        StatementTopic.objects.bulk_create(
            StatementTopic(statement=clone, topic=t)
            for clone, original in zip(clones, statements, strict=True)
            for t in [*original.topics.all(), topic]
        )
        for original in proposals:
            clone = Proposal.objects.create(
                slug=f"{original.slug}-{copy}",
                title=original.title,
                kind=original.kind,
                party=original.party,
                status=original.status,
                meeting=original.meeting,
            )
            clone.topics.set([*original.topics.all(), topic])
            for parameter in original.parameters.all():
                ProposalParameter.objects.create(
                    proposal=clone,
                    quantity=parameter.quantity,
                    value=parameter.value + copy,
                    unit=parameter.unit,
                )
        visit = Meeting.objects.create(
            slug=f"visit-{copy}", title=f"Visit {copy}", kind="visit", status="held"
        )
        Meeting.objects.create(
            slug=f"talk-{copy}",
            title=f"Talk {copy}",
            kind="bilateral",
            status="held",
            parent=visit,
        )


PAGES = [
    "/",
    "/?party=RU&stance=supports",
    "/?q=withdraw",
    "/statements/{statement}/",
    "/sources/{source}/",
    "/sources/",
    "/meetings/",
    "/proposals/",
    "/actors/",
    "/actors/sergei-ivanov/",
    "/topics/strategic-reductions/",
]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries.captured_queries)


def test_page_query_counts_are_bounded_and_do_not_grow_with_ten_times_the_data(client, seed):
    urls = [
        url.format(statement=statement_with("We have no wish").pk, source=seed.pk) for url in PAGES
    ]
    on_seed = {url: count_queries(client, url) for url in urls}
    assert max(on_seed.values()) <= 16, on_seed
    multiply_seed(9)
    assert Statement.objects.count() == 10 * 64
    on_ten_times = {url: count_queries(client, url) for url in urls}
    assert on_ten_times == on_seed, (on_seed, on_ten_times)
