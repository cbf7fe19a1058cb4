"""
Codebook version 2 (docs/codebook.md): each new field's rules, through the model, the API,
the exports and the pages, including the unhappy paths.
"""

import csv
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from positions.models import Proposal, Source, Statement, StatementTopic
from tests.factories import (
    ActorFactory,
    MeetingFactory,
    ProposalFactory,
    SourceFactory,
    TopicFactory,
)
from tests.test_admin import statement_form

pytestmark = pytest.mark.django_db

JSON = "application/json"
TEXT = (
    "Ivanov said Russia would cut its arsenal if the treaty stands.\n"
    "Rumsfeld said the US will withdraw once the tests are positive.\n"
    "Both parties are much closer to the idea of verification, Ivanov added."
)
CUT = "Russia would cut its arsenal"
IF_TREATY = "if the treaty stands"


@pytest.fixture
def article(db):
    return SourceFactory(text=TEXT)


@pytest.fixture
def ivanov(russia):
    return ActorFactory(party=russia, name="Sergei Ivanov")


def build(article, actor, **fields):
    fields.setdefault("quote", CUT)
    fields.setdefault("stance", "supports")
    fields.setdefault("kind", "reported")
    return Statement(source=article, actor=actor, **fields)


def errors(statement):
    with pytest.raises(ValidationError) as caught:
        statement.full_clean()
    return caught.value.message_dict


# Conditions


def test_a_conditional_stance_must_state_its_condition(article, ivanov):
    assert "condition_quote" in errors(build(article, ivanov, stance="conditional"))


def test_a_condition_is_an_exact_span_found_in_the_same_source(article, ivanov):
    statement = build(article, ivanov, stance="conditional", condition_quote=IF_TREATY)
    statement.full_clean()
    statement.save()
    statement.refresh_from_db()
    assert (statement.condition_start, statement.condition_end) == (
        TEXT.index(IF_TREATY),
        TEXT.index(IF_TREATY) + len(IF_TREATY),
    )
    assert TEXT[statement.condition_start : statement.condition_end] == IF_TREATY


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("if the treaty falls", "not in the text"),
        ("if the treaty stands ", "not in the text"),
        ("said", "occur 2 times"),
    ],
)
def test_a_condition_that_is_not_once_in_the_text_is_refused(article, ivanov, condition, message):
    statement = build(article, ivanov, stance="conditional", condition_quote=condition)
    assert message in " ".join(errors(statement)["condition_quote"])


def test_condition_offsets_that_read_other_words_are_refused(article, ivanov):
    statement = build(
        article, ivanov, stance="conditional", condition_quote=IF_TREATY, condition_start=0
    )
    assert "do not match" in errors(statement)["condition_quote"][0]


def test_a_statement_without_a_position_has_no_condition(article, ivanov):
    statement = build(article, ivanov, stance="neutral", condition_quote=IF_TREATY)
    assert "stance" in errors(statement)


def test_an_opposing_statement_may_state_its_condition(article, ivanov):
    build(article, ivanov, stance="opposes", condition_quote=IF_TREATY).full_clean()


def test_what_a_condition_depends_on_needs_the_conditions_words(article, ivanov):
    statement = build(article, ivanov, stance="conditional", condition_topic=TopicFactory())
    assert "condition_quote" in errors(statement)


def test_a_condition_moves_with_its_words_when_the_text_is_edited(article, ivanov):
    statement = build(article, ivanov, stance="conditional", condition_quote=IF_TREATY)
    statement.save()
    article.text = "MOSCOW. " + TEXT
    article.save()
    statement.refresh_from_db()
    assert not statement.needs_review
    assert article.text[statement.condition_start : statement.condition_end] == IF_TREATY
    assert article.text[statement.start : statement.end] == CUT


def test_a_statement_whose_condition_was_edited_is_flagged_not_moved(article, ivanov):
    statement = build(article, ivanov, stance="conditional", condition_quote=IF_TREATY)
    statement.save()
    article.text = TEXT.replace("treaty stands", "treaty survives")
    article.save()
    statement.refresh_from_db()
    assert statement.needs_review
    assert "condition" in statement.review_note


# Holder, joint claims, the author's kinds


def test_a_holder_is_on_the_speakers_side_and_not_the_speaker(article, ivanov, united_states):
    assert "holder" in errors(build(article, ivanov, holder=ivanov))
    other_side = ActorFactory(party=united_states)
    assert "not on" in errors(build(article, ivanov, holder=other_side))["holder"][0]
    build(article, ivanov, holder=ActorFactory(party=ivanov.party)).full_clean()


def test_the_authors_words_are_analysis_or_narration_hold_nothing_and_claim_nothing(article):
    author = ActorFactory(party=None)
    build(article, author, kind="narration", stance="neutral").full_clean()
    assert "holder" in errors(
        build(article, author, kind="narration", holder=ActorFactory(party=None))
    )
    assert "joint" in errors(build(article, author, kind="analysis", joint=True))


def test_narration_with_a_party_is_refused_by_the_database_too(article, ivanov):
    with pytest.raises(IntegrityError):
        Statement.objects.bulk_create(
            [build(article, ivanov, kind="narration", start=TEXT.index(CUT))]
        )


# Dates


def test_a_date_range_ends_after_it_starts_and_an_inferred_date_says_from_what(article, ivanov):
    statement = build(
        article, ivanov, stated_on="2001-08-08", stated_until="2001-08-07", date_inferred=True
    )
    found = errors(statement)
    assert "stated_until" in found
    assert "date_basis" in found
    assert "stated_until" in errors(build(article, ivanov, stated_until="2001-08-08"))


def test_a_range_and_an_inference_are_shown_as_such(article, ivanov):
    statement = build(
        article,
        ivanov,
        stated_on="2001-08-07",
        stated_until="2001-08-08",
        date_inferred=True,
        date_basis="the Washington talks",
    )
    statement.full_clean()
    statement.save()
    assert statement.stated_on_display == "7–8 August 2001 (inferred from the Washington talks)"


def test_a_meeting_link_says_what_it_means(article, ivanov):
    meeting = MeetingFactory()
    assert "meeting_relation" in errors(build(article, ivanov, meeting=meeting))
    assert "meeting_relation" in errors(build(article, ivanov, meeting_relation="about"))
    build(article, ivanov, meeting=meeting, meeting_relation="about").full_clean()


# Translation


def test_a_translation_names_its_language_and_its_original(article):
    original = SourceFactory(text="Иванов сказал.", language="ru")
    article.translated_from = "ru"
    article.original = original
    article.full_clean()
    assert article.translation_display == "translated from Russian"
    article.translated_from = "xx"
    with pytest.raises(ValidationError, match="language code"):
        article.full_clean()
    article.translated_from = "de"
    with pytest.raises(ValidationError, match="Russian"):
        article.full_clean()


def test_original_words_pair_with_the_original_and_come_undone_when_it_is_edited(article, ivanov):
    original = SourceFactory(text="Иванов сказал: Россия сократит арсенал.", language="ru")
    statement = build(article, ivanov, original_quote="Россия сократит арсенал")
    assert "original_quote" in errors(statement)
    article.translated_from, article.original = "ru", original
    article.save()
    statement = build(article, ivanov, original_quote="Россия сократит арсенал")
    statement.full_clean()
    statement.save()
    assert statement.original_start == original.text.index("Россия")
    original.text = "Москва.\nИванов сказал: Россия сократит арсенал."
    original.save()
    statement.refresh_from_db()
    assert original.text[statement.original_start : statement.original_end] == (
        "Россия сократит арсенал"
    )
    original.text = "Москва.\nИванов сказал: Россия не сократит арсенал."
    original.save()
    assert [s.pk for s in original.reanchoring.unpaired] == [statement.pk]
    statement.refresh_from_db()
    assert (statement.original_quote, statement.original_start) == ("", None)
    assert not statement.needs_review  # its own quote, in the translation, is untouched
    assert statement.history.first().history_change_reason.endswith(
        f"original words unpaired, as the edit of source {original.pk} touched them"
    )


# Proposals


def test_a_declared_intention_is_declared_or_withdrawn_and_only_it_is_declared(article, russia):
    with pytest.raises(ValidationError, match="declared or withdrawn"):
        Proposal(
            slug="x", title="X", party=russia, kind="declaration", status="proposed"
        ).full_clean()
    with pytest.raises(ValidationError, match="Only a declared intention"):
        Proposal(slug="y", title="Y", party=russia, status="declared").full_clean()


def test_a_proposals_timing_and_condition_are_the_sources_words(article, russia):
    proposal = Proposal(
        slug="w",
        title="Withdraw",
        party=russia,
        kind="declaration",
        status="declared",
        source=article,
        timing="within months",
        condition="once the tests are positive",
    )
    with pytest.raises(ValidationError) as caught:
        proposal.full_clean()
    assert set(caught.value.message_dict) == {"timing"}


# The API


def create(client, body):
    return client.post("/api/v1/statements/", json.dumps(body), content_type=JSON)


def body_for(article, actor, topic, **fields):
    return {
        "actor": actor.pk,
        "topics": [topic.slug],
        "source": article.pk,
        "quote": CUT,
        "stance": "supports",
        "kind": "reported",
        **fields,
    }


def test_the_api_writes_and_reads_every_new_statement_field(editor_client, article, ivanov):
    abm, nmd = TopicFactory(slug="abm"), TopicFactory(slug="nmd")
    holder = ActorFactory(party=ivanov.party)
    meeting = MeetingFactory()
    response = create(
        editor_client,
        body_for(
            article,
            ivanov,
            abm,
            topics=["abm", "nmd"],
            topic_stances={"nmd": "opposes"},
            stance="conditional",
            certainty="hedged",
            condition_quote=IF_TREATY,
            condition_topic="abm",
            holder=holder.pk,
            joint=False,
            stated_on="2001-08-07",
            stated_until="2001-08-08",
            date_inferred=True,
            date_basis="the Washington talks",
            meeting=meeting.pk,
            meeting_relation="said_at",
        ),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["topic_stances"] == {"nmd": "opposes"}
    assert (data["condition_quote"], data["condition_topic"]) == (IF_TREATY, "abm")
    assert data["condition_start"] == TEXT.index(IF_TREATY)
    assert data["holder"]["id"] == holder.pk
    assert (data["stated_until"], data["date_inferred"]) == ("2001-08-08", True)
    assert data["meeting_relation"] == "said_at"
    link = StatementTopic.objects.get(statement=data["id"], topic=nmd)
    assert (link.stance, link.stance_override) == ("opposes", "opposes")
    # The list and the detail say the same as the write's answer.
    listed = editor_client.get("/api/v1/statements/").json()["results"][0]
    detail = editor_client.get(f"/api/v1/statements/{data['id']}/").json()
    assert listed == detail == data


def test_topic_stances_name_only_the_statements_topics_and_differ_from_its_stance(
    editor_client, article, ivanov
):
    topic = TopicFactory(slug="abm")
    response = create(
        editor_client, body_for(article, ivanov, topic, topic_stances={"nmd": "opposes"})
    )
    assert response.status_code == 400
    assert "not one of the statement's topics" in response.json()["topic_stances"][0]
    response = create(
        editor_client, body_for(article, ivanov, topic, topic_stances={"abm": "supports"})
    )
    assert "own stance" in response.json()["topic_stances"][0]
    response = create(
        editor_client, body_for(article, ivanov, topic, topic_stances={"abm": "maybe"})
    )
    assert response.status_code == 400


def test_dropping_a_topic_drops_its_stance_and_keeping_it_keeps_it(editor_client, article, ivanov):
    abm, nmd, extra = (TopicFactory(slug=s) for s in ("abm", "nmd", "extra"))
    data = create(
        editor_client,
        body_for(article, ivanov, abm, topics=["abm", "nmd"], topic_stances={"nmd": "opposes"}),
    ).json()
    url = f"/api/v1/statements/{data['id']}/"
    response = editor_client.patch(
        url,
        json.dumps({"topics": ["abm", "nmd", "extra"]}),
        content_type=JSON,
        headers={"If-Match": f'"{data["version"]}"'},
    )
    assert response.json()["topic_stances"] == {"nmd": "opposes"}
    response = editor_client.patch(
        url,
        json.dumps({"topics": ["abm", "extra"]}),
        content_type=JSON,
        headers={"If-Match": f'"{response.json()["version"]}"'},
    )
    assert response.json()["topic_stances"] == {}
    assert not StatementTopic.objects.exclude(stance_override="").exists()


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_the_api_takes_only_json_booleans(editor_client, article, ivanov, value):
    response = create(editor_client, body_for(article, ivanov, TopicFactory(), joint=value))
    assert response.status_code == 400
    assert "joint" in response.json()


def test_a_condition_sent_with_whitespace_is_kept_exactly_or_refused(
    editor_client, article, ivanov
):
    response = create(
        editor_client,
        body_for(
            article, ivanov, TopicFactory(), stance="conditional", condition_quote=f"{IF_TREATY} "
        ),
    )
    # Never trimmed into a match: "if the treaty stands " is not in the text.
    assert response.status_code == 400
    assert "condition_quote" in response.json()


def test_original_words_without_an_original_are_a_400_not_a_500(editor_client, article, ivanov):
    response = create(
        editor_client, body_for(article, ivanov, TopicFactory(), original_quote="слова")
    )
    assert response.status_code == 400
    assert "original_quote" in response.json()


# Exports and pages


def test_the_csv_has_every_new_column(client, article, ivanov):
    statement = build(
        article,
        ivanov,
        stance="conditional",
        condition_quote=IF_TREATY,
        certainty="hedged",
        stated_on="2001-08-07",
        stated_until="2001-08-08",
    )
    statement.save()
    statement.topics.set([TopicFactory(slug="abm")])
    body = b"".join(client.get("/api/v1/statements/csv/").streaming_content).decode("utf-8")
    (row,) = csv.DictReader(io.StringIO(body))
    assert (row["certainty"], row["condition"], row["stated_until"]) == (
        "hedged",
        IF_TREATY,
        "2001-08-08",
    )
    assert int(row["condition_start"]) == TEXT.index(IF_TREATY)
    assert (row["joint"], row["date_inferred"], row["meeting_relation"]) == ("no", "no", "")


def test_a_reported_statement_is_never_cited_inside_quotation_marks(article, ivanov):
    article.translated_from = "ru"
    article.save()
    reported = build(article, ivanov)
    reported.save()
    citation = reported.citation("https://example.org/s/1/")
    assert f"“{CUT}”" not in citation
    assert "in the source's words, not the speaker's" in citation
    assert "translated from Russian" in citation
    quoted = build(article, ivanov, kind="direct_quote", quote=IF_TREATY)
    quoted.save()
    assert f"“{IF_TREATY}”" in quoted.citation("https://example.org/s/2/")


def test_the_statement_page_shows_the_coding(client, article, ivanov):
    statement = build(
        article,
        ivanov,
        stance="conditional",
        condition_quote=IF_TREATY,
        certainty="hedged",
        holder=ActorFactory(party=ivanov.party, name="Russian government"),
        meeting=MeetingFactory(title="The Washington talks"),
        meeting_relation="about",
    )
    statement.save()
    statement.topics.set([TopicFactory()])
    html = client.get(statement.get_absolute_url()).content.decode()
    assert f"“{IF_TREATY}”" in html
    assert "(hedged)" in html
    assert "Russian government" in html
    assert "About <a" in html


def test_the_meetings_page_tells_said_at_from_about(client, article, ivanov):
    meeting = MeetingFactory(title="Kremlin meeting")
    build(article, ivanov, meeting=meeting, meeting_relation="about").save()
    html = client.get("/meetings/").content.decode()
    assert "0 statements made here · 1 about it" in html
    assert "About it" in html


def test_a_topics_exchange_is_served_as_html_and_json(client, article, russia, united_states):
    topic = TopicFactory(slug="abm")
    proposal = ProposalFactory(
        party=united_states,
        kind="declaration",
        status="declared",
        title="Withdraw from the ABM Treaty",
        timing="within months",
    )
    proposal.topics.set([topic])
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "United States declared:" in html
    assert "No answer yet from the other side." in html
    (thread,) = client.get(f"/api/v1/topics/{topic.pk}/exchange/").json()
    assert thread["proposal"]["kind"] == "declaration"
    assert (thread["answered"], thread["responses"]) == (False, [])


def test_verify_quotes_finds_a_stale_topic_link_copy(article, ivanov):
    statement = build(article, ivanov, stated_on="2001-08-07", stated_until="2001-08-08")
    statement.save()
    statement.topics.set([TopicFactory()])
    call_command("verify_quotes")
    StatementTopic.objects.update(stated_until=None)
    with pytest.raises(CommandError, match="1 topic link"):
        call_command("verify_quotes")
    assert Source.objects.count() == 1


# The admin


def test_the_admin_saves_a_condition_exactly_and_a_topic_stance_of_its_own(
    editor_client, article, ivanov
):
    abm, nmd = TopicFactory(name="ABM Treaty"), TopicFactory(name="Missile defense")
    data = statement_form(
        article,
        ivanov,
        abm,
        quote=CUT,
        stance="conditional",
        certainty="hedged",
        condition_quote=IF_TREATY,
        holder=ActorFactory(party=ivanov.party).pk,
        stated_on="2001-08-07",
        stated_until="2001-08-08",
        date_inferred="on",
        date_basis="the Washington talks",
        **{
            "topic_links-TOTAL_FORMS": "2",
            "topic_links-1-topic": nmd.pk,
            "topic_links-1-stance_override": "opposes",
        },
    )
    response = editor_client.post("/admin/positions/statement/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    statement = Statement.objects.get()
    assert (statement.condition_quote, statement.certainty) == (IF_TREATY, "hedged")
    assert statement.stated_on_display == "7–8 August 2001 (inferred from the Washington talks)"
    assert dict(statement.topic_links.values_list("topic__name", "stance")) == {
        "ABM Treaty": "conditional",
        "Missile defense": "opposes",
    }
    page = editor_client.get(f"/admin/positions/statement/{statement.pk}/change/")
    assert "Condition (of a conditional stance)" in page.content.decode()


def test_the_admin_refuses_a_conditional_stance_without_its_condition(
    editor_client, article, ivanov
):
    data = statement_form(article, ivanov, TopicFactory(), quote=CUT, stance="conditional")
    response = editor_client.post("/admin/positions/statement/add/", data)
    assert response.status_code == 200
    assert "condition_quote" in response.context["adminform"].form.errors
    assert not Statement.objects.exists()


def test_the_api_writes_declarations_inferred_meeting_dates_and_translations(
    editor_client, article, russia
):
    rumsfeld = ActorFactory(party=russia)
    response = editor_client.post(
        "/api/v1/proposals/",
        json.dumps(
            {
                "slug": "withdraw",
                "title": "Withdraw",
                "kind": "declaration",
                "party": "RU",
                "actor": rumsfeld.pk,
                "status": "declared",
                "timing": "once the tests pass",
                "source": article.pk,
            }
        ),
        content_type=JSON,
    )
    assert response.status_code == 400
    assert set(response.json()) == {"timing"}  # not the source's words
    body = {
        "slug": "withdraw",
        "title": "Withdraw",
        "kind": "declaration",
        "party": "RU",
        "actor": rumsfeld.pk,
        "status": "declared",
        "timing": "once the tests are positive",
        "source": article.pk,
    }
    response = editor_client.post("/api/v1/proposals/", json.dumps(body), content_type=JSON)
    proposal = response.json()
    assert (proposal["kind"], proposal["status"], proposal["timing"]) == (
        "declaration",
        "declared",
        "once the tests are positive",
    )
    response = editor_client.patch(
        f"/api/v1/proposals/{proposal['id']}/",
        json.dumps({"status": "proposed"}),
        content_type=JSON,
        headers={"If-Match": f'"{proposal["version"]}"'},
    )
    assert response.status_code == 400
    assert "declared or withdrawn" in response.json()["status"][0]

    meeting = MeetingFactory()
    response = editor_client.patch(
        f"/api/v1/meetings/{meeting.pk}/",
        json.dumps({"starts_on": "2001-08-13", "date_inferred": True}),
        content_type=JSON,
        headers={"If-Match": f'"{meeting.version}"'},
    )
    assert response.status_code == 400
    assert "date_basis" in response.json()
    response = editor_client.patch(
        f"/api/v1/meetings/{meeting.pk}/",
        json.dumps({"starts_on": "2001-08-13", "date_inferred": True, "date_basis": "the visit"}),
        content_type=JSON,
        headers={"If-Match": f'"{meeting.version}"'},
    )
    assert response.status_code == 200
    meeting.refresh_from_db()
    assert meeting.dates_display == "13 August 2001 (inferred from the visit)"

    response = editor_client.patch(
        f"/api/v1/sources/{article.pk}/",
        json.dumps({"translated_from": "ru"}),
        content_type=JSON,
        headers={"If-Match": f'"{article.version}"'},
    )
    assert response.status_code == 200
    assert response.json()["translated_from"] == "ru"
