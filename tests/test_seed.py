"""The seed data: the August 2001 article on Rumsfeld's consultations in Moscow, captured whole."""

import datetime
import hashlib
import io
import json
import re

import pytest
from django.core.management import call_command

from positions.models import (
    Actor,
    Meeting,
    Party,
    Proposal,
    ProposalParameter,
    SeedEntry,
    Source,
    Statement,
    StatementTopic,
    Topic,
)
from positions.seed import SEED_PATH

pytestmark = pytest.mark.django_db

SOURCE_FILE = SEED_PATH.parent / "sources" / "000_79b4c53062299195.txt"
AUTHOR = "article-author"

# Terms the article puts in quotation marks that are names of doctrines, not speech.
QUOTED_TERMS = {"mutually assured destruction", "controllable deterrence."}

EXPECTED_COUNTS = {
    Party: 2,
    Topic: 14,
    Source: 1,
    Actor: 9,
    Meeting: 7,
    Proposal: 10,
    ProposalParameter: 3,
    Statement: 64,
    StatementTopic: 82,
    Meeting.participants.through: 16,
    Proposal.topics.through: 13,
    SeedEntry: 107,
}


def load():
    out = io.StringIO()
    call_command("load_seed", stdout=out)
    return out.getvalue()


def counts():
    return {model: model.objects.count() for model in EXPECTED_COUNTS}


def statement(key):
    """A seeded statement, found by its seed entry's actor and start offset."""
    entry = next(
        s for s in json.loads(SEED_PATH.read_text("utf-8"))["statements"] if s["key"] == key
    )
    return Statement.objects.get(actor__slug=entry["actor"], start=entry["start"])


@pytest.fixture
def source(seeded):
    return Source.objects.get()


def speech_spans(text):
    """(start, end) of every span between “ and ” in the text, scare-quoted terms left out."""
    spans = []
    for match in re.finditer(r"“([^”]*)”", text):
        words = match.group(1)
        if words in QUOTED_TERMS:
            continue
        start, end = match.start(1), match.end(1)
        if words.endswith(","):  # “…,” added Ivanov: the comma belongs to the sentence
            end -= 1
        spans.append((start, end))
    return spans


# Counts


@pytest.mark.parametrize(
    ("model", "expected"),
    [pytest.param(model, n, id=model._meta.label) for model, n in EXPECTED_COUNTS.items()],
)
def test_loading_the_seed_creates_exactly_the_expected_number_of_objects(seeded, model, expected):
    assert model.objects.count() == expected


def test_loading_the_seed_a_second_time_changes_no_counts(seeded):
    before = counts()
    load()
    assert counts() == before


def test_loading_the_seed_a_second_time_reports_that_it_created_nothing(seeded):
    assert load().startswith("Created nothing;")


# Parties, topics, source


def test_parties_are_russia_first_and_the_united_states_second(seeded):
    assert list(Party.objects.values_list("code", "name", "sort_order")) == [
        ("RU", "Russia", 1),
        ("US", "United States", 2),
    ]


def test_every_topic_description_says_what_supports_means(seeded):
    missing = [t.slug for t in Topic.objects.all() if "Supports = " not in t.description]
    assert missing == []


def test_the_abm_treaty_topic_measures_support_for_keeping_the_treaty(seeded):
    description = Topic.objects.get(slug="abm-treaty").description
    assert "Supports = keeping the 1972 ABM Treaty in force" in description


def test_every_topic_is_cited_by_at_least_one_statement(seeded):
    unused = Topic.objects.filter(statements__isnull=True).values_list("slug", flat=True)
    assert list(unused) == []


def test_every_statement_has_at_least_one_topic(seeded):
    untagged = Statement.objects.filter(topics__isnull=True)
    assert list(untagged) == []


def test_the_source_text_is_the_article_file_with_its_hash(source):
    data = SOURCE_FILE.read_bytes()
    assert source.text == data.decode("utf-8")
    assert source.sha256 == hashlib.sha256(data).hexdigest()


def test_the_source_is_dated_august_2001_with_month_precision_and_no_publisher(source):
    assert (source.published_on, source.published_on_precision) == (
        datetime.date(2001, 8, 1),
        "month",
    )
    assert source.publisher == ""


def test_the_source_note_says_the_title_is_supplied_by_the_editors(source):
    assert "title is supplied by the editors" in source.note


# Actors


def test_baluevsky_has_his_rank_and_role_as_the_article_gives_them(seeded):
    baluevsky = Actor.objects.get(slug="yury-baluevsky")
    assert (baluevsky.party.code, baluevsky.honorific_prefix, baluevsky.role) == (
        "RU",
        "Colonel-General",
        "director of the main operational department of the Russian General Staff",
    )


def test_mazurkevich_is_a_russian_lieutenant_general(seeded):
    mazurkevich = Actor.objects.get(slug="anatoly-mazurkevich")
    assert (mazurkevich.party.code, mazurkevich.honorific_prefix) == ("RU", "Lieutenant-General")


def test_rumsfeld_is_american_and_ivanov_putin_russian(seeded):
    parties = dict(Actor.objects.values_list("slug", "party__code"))
    assert (parties["donald-rumsfeld"], parties["george-w-bush"], parties["us-government"]) == (
        "US",
        "US",
        "US",
    )
    assert (
        parties["sergei-ivanov"],
        parties["vladimir-putin"],
        parties["russian-government"],
    ) == (
        "RU",
        "RU",
        "RU",
    )


def test_every_actor_role_is_verbatim_from_the_source(source):
    not_verbatim = [
        (a.slug, a.role) for a in Actor.objects.exclude(role="") if a.role not in source.text
    ]
    assert not_verbatim == []


def test_every_honorific_prefix_is_verbatim_from_the_source(source):
    not_verbatim = [
        a.slug
        for a in Actor.objects.exclude(honorific_prefix="")
        if f"{a.honorific_prefix} {a.name}" not in source.text
    ]
    assert not_verbatim == []


def test_the_article_author_is_the_only_actor_without_a_party(seeded):
    assert list(Actor.objects.filter(party__isnull=True).values_list("slug", flat=True)) == [
        AUTHOR
    ]


# Meetings


def test_the_kremlin_meeting_was_planned_for_30_minutes_and_lasted_75(seeded):
    kremlin = Meeting.objects.get(slug="rumsfeld-putin-kremlin-2001-08-13")
    assert (kremlin.planned_minutes, kremlin.actual_minutes, kremlin.overran_minutes) == (
        30,
        75,
        45,
    )


def test_the_kremlin_meeting_brought_rumsfeld_and_ivanov_to_putin(seeded):
    kremlin = Meeting.objects.get(slug="rumsfeld-putin-kremlin-2001-08-13")
    assert set(kremlin.participants.values_list("slug", flat=True)) == {
        "donald-rumsfeld",
        "sergei-ivanov",
        "vladimir-putin",
    }


def test_the_defense_ministry_meeting_was_interrupted_on_13_august_2001(seeded):
    meeting = Meeting.objects.get(slug="rumsfeld-ivanov-defense-ministry-2001-08-13")
    assert (meeting.status, meeting.starts_on, meeting.date_precision) == (
        "interrupted",
        datetime.date(2001, 8, 13),
        "day",
    )


def test_the_moscow_meetings_are_part_of_the_visit_dated_only_as_the_article_dates_them(
    seeded,
):
    children = Meeting.objects.filter(parent__slug="rumsfeld-visit-moscow-2001-08")
    assert {m.slug: m.dates_display for m in children} == {
        # "which began on the morning of August 13"
        "rumsfeld-ivanov-defense-ministry-2001-08-13": "13 August 2001",
        # the same day, as the meeting above was interrupted for it: inferred, and said so
        "rumsfeld-putin-kremlin-2001-08-13": (
            "13 August 2001 (inferred from the Defense Ministry meeting of that morning, "
            "which was interrupted for it)"
        ),
        # "At their news conference": not dated
        "ivanov-rumsfeld-news-conference-2001-08": "August 2001",
    }


def test_the_visit_to_moscow_is_not_made_a_one_day_visit(seeded):
    visit = Meeting.objects.get(slug="rumsfeld-visit-moscow-2001-08")
    assert (visit.kind, visit.status, visit.location) == ("visit", "held", "Moscow")
    # The article dates one day of it, not the visit: the month only.
    assert (visit.starts_on, visit.ends_on, visit.date_precision) == (
        datetime.date(2001, 8, 1),
        None,
        "month",
    )
    assert not visit.date_inferred


def test_the_washington_talks_ran_from_7_to_8_august_2001_with_baluevsky(seeded):
    talks = Meeting.objects.get(slug="washington-consultations-2001-08-07")
    assert (talks.starts_on, talks.ends_on, talks.date_precision, talks.location) == (
        datetime.date(2001, 8, 7),
        datetime.date(2001, 8, 8),
        "day",
        "Washington",
    )
    assert talks.participants.filter(slug="yury-baluevsky").exists()


@pytest.mark.parametrize(
    ("slug", "location"),
    [("moscow-consultations-2001-09", "Moscow"), ("ivanov-rumsfeld-naples-2001-09", "Naples")],
)
def test_the_september_meetings_are_scheduled_with_month_precision(seeded, slug, location):
    meeting = Meeting.objects.get(slug=slug)
    assert (meeting.status, meeting.starts_on, meeting.date_precision, meeting.location) == (
        "scheduled",
        datetime.date(2001, 9, 1),
        "month",
        location,
    )
    assert meeting.dates_display == "September 2001"


def test_the_naples_meeting_is_between_ivanov_and_rumsfeld(seeded):
    naples = Meeting.objects.get(slug="ivanov-rumsfeld-naples-2001-09")
    assert set(naples.participants.values_list("slug", flat=True)) == {
        "sergei-ivanov",
        "donald-rumsfeld",
    }


def test_seed_lists_every_parent_meeting_before_its_children():
    meetings = json.loads(SEED_PATH.read_text("utf-8"))["meetings"]
    order = [m["slug"] for m in meetings]
    late = [
        m["slug"]
        for m in meetings
        if m["parent"] and order.index(m["parent"]) > order.index(m["slug"])
    ]
    assert late == []


def test_every_month_precision_date_is_stored_on_the_first(seeded):
    days = (
        [m.starts_on.day for m in Meeting.objects.filter(date_precision="month")]
        + [s.stated_on.day for s in Statement.objects.filter(stated_on_precision="month")]
        + [p.proposed_on.day for p in Proposal.objects.filter(proposed_on_precision="month")]
    )
    assert days and set(days) == {1}


# Proposals


def parameter(proposal_slug):
    return ProposalParameter.objects.get(proposal__slug=proposal_slug)


def test_the_start_iii_proposal_caps_warheads_at_1500_for_each_party(seeded):
    row = parameter("ru-start-iii-1500-warheads")
    assert (row.limit, row.value, row.unit, row.applies_to) == (
        "ceiling",
        1500,
        "warheads",
        "each_party",
    )


def test_the_heavy_bomber_proposal_caps_bombers_at_50(seeded):
    row = parameter("ru-heavy-bombers-50")
    assert (row.limit, row.value, row.unit) == ("ceiling", 50, "aircraft")


def test_the_shipborne_cruise_missile_proposal_allows_none(seeded):
    row = parameter("ru-eliminate-shipborne-cruise-missiles")
    assert (row.limit, row.value, row.unit) == ("ceiling", 0, "missiles")


def test_the_russian_proposals_of_the_washington_talks_have_had_no_response(seeded):
    statuses = dict(Proposal.objects.filter(party__code="RU").values_list("slug", "status"))
    # "So far, Washington has kept silent about these and other initiatives"; the article
    # does not say so of Ivanov's principle, put forward elsewhere.
    assert statuses.pop("ru-controllable-deterrence") == "proposed"
    assert set(statuses.values()) == {"no_response"}


def test_only_the_start_iii_invitation_is_dated_by_the_article_to_the_washington_talks(seeded):
    proposals = Proposal.objects.filter(meeting__slug="washington-consultations-2001-08-07")
    assert {p.slug: (p.dates_display, p.date_inferred) for p in proposals} == {
        p.slug: (
            "7–8 August 2001"
            + (
                ""
                if p.slug == "ru-start-iii-1500-warheads"
                else " (inferred from the 7–8 August Washington talks, with whose proposals "
                "the article lists it)"
            ),
            p.slug != "ru-start-iii-1500-warheads",
        )
        for p in proposals
    }


def test_the_russian_proposals_from_washington_are_tied_to_the_washington_talks(seeded):
    at_washington = Proposal.objects.filter(
        party__code="RU", meeting__slug="washington-consultations-2001-08-07"
    )
    assert at_washington.count() == 7


def test_the_us_positions_are_declared_intentions_with_no_numbers(seeded):
    us = Proposal.objects.filter(party__code="US")
    assert set(us.values_list("slug", "kind", "status")) == {
        ("us-withdraw-from-abm-treaty", "declaration", "declared"),
        ("us-deep-nuclear-cuts", "declaration", "declared"),
    }
    assert not ProposalParameter.objects.filter(proposal__party__code="US").exists()


def test_the_abm_withdrawal_has_its_timing_and_condition_in_the_articles_words(source):
    withdrawal = Proposal.objects.get(slug="us-withdraw-from-abm-treaty")
    assert (withdrawal.timing, withdrawal.condition) == (
        "within months",
        "Once these results are in, and if they are positive",
    )
    assert withdrawal.timing in source.text and withdrawal.condition in source.text


def test_every_proposal_actor_belongs_to_the_proposing_party(seeded):
    mismatched = [
        p.slug for p in Proposal.objects.exclude(actor=None) if p.actor.party_id != p.party_id
    ]
    assert mismatched == []


def test_the_global_monitoring_proposal_is_russias_reported_by_mazurkevich(seeded):
    proposal = Proposal.objects.get(slug="ru-global-missile-monitoring-system")
    assert (proposal.actor.slug, proposal.reported_by.slug) == (
        "russian-government",
        "anatoly-mazurkevich",
    )
    said = statement("mazurkevich-global-missile-monitoring-system")
    assert (said.actor.slug, said.holder.slug) == ("anatoly-mazurkevich", "russian-government")


def test_every_proposal_is_put_forward_by_some_statement(seeded):
    unsourced = Proposal.objects.exclude(statements__proposal_stance="puts_forward")
    assert list(unsourced.values_list("slug", flat=True)) == []


# Statements: who said what


def test_no_wish_to_withdraw_is_a_direct_quote_of_ivanov_for_russia(seeded):
    quote = Statement.objects.get(quote="We have no wish to withdraw from any treaty or agreement")
    assert (quote.actor.slug, quote.kind, quote.party.code) == (
        "sergei-ivanov",
        "direct_quote",
        "RU",
    )


def test_no_wish_to_withdraw_rejects_the_us_withdrawal_from_the_abm_treaty(seeded):
    quote = Statement.objects.get(quote="We have no wish to withdraw from any treaty or agreement")
    assert (quote.proposal.slug, quote.proposal_stance, quote.stance) == (
        "us-withdraw-from-abm-treaty",
        "rejects",
        "supports",
    )


def test_i_was_very_cautious_is_a_direct_quote_of_rumsfeld_for_the_us(seeded):
    quote = Statement.objects.get(quote__startswith="I was very cautious")
    assert (quote.actor.slug, quote.kind, quote.party.code) == (
        "donald-rumsfeld",
        "direct_quote",
        "US",
    )


def test_not_negotiations_but_consultations_is_ivanovs(seeded):
    quote = Statement.objects.get(quote__startswith="So far, these are not negotiations")
    assert (quote.actor.slug, quote.kind, quote.stance, quote.certainty) == (
        "sergei-ivanov",
        "direct_quote",
        "conditional",
        "hedged",
    )
    # The condition is words of the quote, not the editor's summary.
    assert quote.condition_quote.startswith("first of all Russia would like to know")
    assert quote.condition_quote in quote.quote


def test_i_was_very_cautious_is_a_past_caution_not_a_condition(seeded):
    quote = Statement.objects.get(quote__startswith="I was very cautious")
    assert (quote.stance, quote.condition_quote) == ("neutral", "")
    old_school = statement("rumsfeld-old-school-recommendations-in-months")
    assert (old_school.stance, old_school.certainty) == ("conditional", "hedged")
    assert old_school.condition_quote.startswith("Until I have studied everything")


def test_rumsfeld_announced_withdrawal_from_the_abm_treaty(seeded):
    said = statement("rumsfeld-us-will-withdraw-from-abm-treaty")
    assert (said.actor.slug, said.kind, said.stance, said.proposal_stance) == (
        "donald-rumsfeld",
        "reported",
        "opposes",
        "puts_forward",
    )
    assert said.quote.endswith("within months")


def test_the_start_iii_invitation_is_a_media_report_of_moscows_proposal(seeded):
    said = statement("russia-invited-us-to-sign-start-iii-1500")
    assert (said.actor.slug, said.kind, said.proposal.slug) == (
        "russian-government",
        "media_report",
        "ru-start-iii-1500-warheads",
    )


def test_washington_kept_silent_is_the_authors_observation_not_a_us_position(seeded):
    said = statement("us-silent-on-russian-initiatives")
    assert (said.actor.slug, said.party, said.kind, said.proposal) == (
        AUTHOR,
        None,
        "narration",
        None,
    )


def test_what_the_talks_only_touched_on_is_not_recorded_as_a_proposal(seeded):
    for key in ("russia-limit-antisubmarine-operations", "russia-cut-monitoring-disposal-costs"):
        touched = statement(key)
        # The article does not say which side raised it: the author's narration.
        assert (touched.actor.slug, touched.kind, touched.stance, touched.proposal) == (
            AUTHOR,
            "narration",
            "neutral",
            None,
        )


def test_rumsfelds_recommendations_to_bush_are_his_statement_not_a_meeting(seeded):
    said = statement("rumsfeld-recommendations-to-bush-and-2002-budget")
    assert (said.actor.slug, said.kind, said.proposal.slug) == (
        "donald-rumsfeld",
        "reported",
        "us-deep-nuclear-cuts",
    )
    assert said.quote.startswith("in a month or two he will submit the relevant recommendations")
    assert not Meeting.objects.filter(participants__slug="george-w-bush").exists()


def test_statements_at_the_undated_news_conference_carry_the_month_only(seeded):
    dates = set(
        Statement.objects.filter(meeting__slug="ivanov-rumsfeld-news-conference-2001-08")
        .positions()
        .values_list("stated_on", "stated_on_precision", "date_inferred", "meeting_relation")
    )
    assert dates == {(datetime.date(2001, 8, 1), "month", False, "said_at")}


def test_no_statement_carries_a_day_the_article_does_not_give(seeded):
    days = {s.stated_on_display for s in Statement.objects.filter(stated_on_precision="day")}
    # Only the Washington talks are dated to the day ("on August 7 and 8"); the
    # proposals listed with them say that their date is inferred.
    assert days == {
        "7–8 August 2001",
        "7–8 August 2001 (inferred from the 7–8 August Washington talks, with whose "
        "proposals the article lists it)",
    }


def test_a_meeting_link_says_whether_the_words_were_said_there_or_are_about_it(seeded):
    assert not Statement.objects.filter(meeting__isnull=False, meeting_relation="").exists()
    future = Statement.objects.filter(meeting__status="scheduled")
    assert set(future.values_list("meeting_relation", flat=True)) == {"about"}
    kremlin = Statement.objects.filter(meeting__slug="rumsfeld-putin-kremlin-2001-08-13")
    # Rumsfeld's remarks about the Kremlin meeting were made afterwards, not at it.
    assert set(kremlin.values_list("meeting_relation", flat=True)) == {"about"}


def test_the_joint_claim_is_ivanovs_and_not_a_side_position(seeded):
    (joint,) = Statement.objects.filter(joint=True)
    assert joint.quote.startswith("Now both parties are much closer")


def test_the_source_says_it_is_a_translation_from_russian(source):
    assert (source.language, source.translated_from) == ("en", "ru")
    assert source.translation_display == "translated from Russian"


def test_every_analysis_statement_is_the_authors_and_has_no_party(seeded):
    analysis = Statement.objects.analysis()
    assert analysis.count() == 33
    assert set(analysis.values_list("actor__slug", "party")) == {(AUTHOR, None)}


def test_no_analysis_is_attributed_to_russia_or_the_united_states(seeded):
    assert not Statement.objects.analysis().filter(party__code__in=["RU", "US"]).exists()


def test_every_statement_by_the_author_is_analysis_or_narration(seeded):
    kinds = set(Statement.objects.filter(actor__slug=AUTHOR).values_list("kind", flat=True))
    assert kinds == {"analysis", "narration"}


# Statements: quotes anchored to the text


def test_every_quote_is_the_source_text_at_its_offsets(source):
    misplaced = [s.pk for s in Statement.objects.all() if source.text[s.start : s.end] != s.quote]
    assert misplaced == []


def test_no_quote_has_leading_or_trailing_whitespace(seeded):
    padded = [s.pk for s in Statement.objects.all() if s.quote != s.quote.strip()]
    assert padded == []


def test_verify_quotes_finds_every_statement_matching(seeded):
    out = io.StringIO()
    call_command("verify_quotes", stdout=out)
    assert out.getvalue().strip() == "All 64 statements match their sources exactly."


def test_every_direct_quote_in_the_article_is_captured(source):
    covered = set()
    for s in Statement.objects.filter(kind="direct_quote"):
        covered.update(range(s.start, s.end))
    spans = speech_spans(source.text)
    assert len(spans) == 6
    # A long quote may be split sentence by sentence; the spaces between pieces need no cover.
    missing = [
        source.text[a:b]
        for a, b in spans
        if not {i for i in range(a, b) if not source.text[i].isspace()} <= covered
    ]
    assert missing == []


def test_every_direct_quote_statement_lies_within_quotation_marks(source):
    spans = speech_spans(source.text)
    outside = [
        s.quote
        for s in Statement.objects.filter(kind="direct_quote")
        if not any(a <= s.start and s.end <= b for a, b in spans)
    ]
    assert outside == []


def test_seed_statement_keys_are_unique():
    keys = [s["key"] for s in json.loads(SEED_PATH.read_text("utf-8"))["statements"]]
    assert len(keys) == len(set(keys)) == 64


# Reloading keeps editors' changes


def test_a_stance_edited_after_loading_survives_a_second_load(seeded):
    said = statement("ivanov-listening-to-american-arguments")
    said.stance = "supports"
    said.save()
    load()
    said.refresh_from_db()
    assert said.stance == "supports"


def test_an_actor_role_edited_after_loading_survives_a_second_load(seeded):
    Actor.objects.filter(slug="sergei-ivanov").update(role="Minister of Defence of Russia")
    load()
    assert Actor.objects.get(slug="sergei-ivanov").role == "Minister of Defence of Russia"


def test_a_deleted_seeded_statement_is_not_resurrected_by_a_second_load(seeded):
    said = statement("ivanov-no-wish-to-withdraw-from-any-treaty")
    said.delete()
    load()
    assert not Statement.objects.filter(actor__slug="sergei-ivanov", start=said.start).exists()
    assert Statement.objects.count() == 63
