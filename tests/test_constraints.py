"""Each rule the database holds, checked by writing past the model's own validation."""

import datetime

import pytest
from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError

from positions.models import Meeting, Party, ProposalParameter, Statement, Topic
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


def raw_update(queryset, **values):
    """Update without the model's checks, so that only the database can object."""
    with transaction.atomic():
        return models.QuerySet.update(queryset, **values)


def refused(queryset, **values):
    with pytest.raises(IntegrityError):
        raw_update(queryset, **values)
    return True


def test_party_codes_are_unique():
    PartyFactory(code="RU")
    with pytest.raises(IntegrityError), transaction.atomic():
        Party.objects.create(code="RU", name="Russian Federation")


def test_party_codes_are_upper_case_letters():
    party = PartyFactory(code="RU")
    assert refused(Party.objects.filter(pk=party.pk), code="ru")


def test_topic_slugs_are_unique():
    TopicFactory(slug="abm-treaty")
    with pytest.raises(IntegrityError), transaction.atomic():
        Topic.objects.create(slug="abm-treaty", name="Another name")


def test_actor_slugs_are_unique():
    ActorFactory(slug="ivanov")
    with pytest.raises(IntegrityError), transaction.atomic():
        ActorFactory(slug="ivanov")


def test_meeting_and_proposal_slugs_are_unique():
    MeetingFactory(slug="naples")
    ProposalFactory(slug="start-iii")
    with pytest.raises(IntegrityError), transaction.atomic():
        MeetingFactory(slug="naples")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProposalFactory(slug="start-iii")


def test_source_texts_are_unique_by_hash():
    source = SourceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SourceFactory(text=source.text)


def test_a_source_text_cannot_be_empty():
    source = SourceFactory()
    assert refused(type(source).objects.filter(pk=source.pk), text="")


def test_statement_offsets_start_before_they_end():
    statement = StatementFactory()
    assert refused(Statement.objects.filter(pk=statement.pk), end=statement.start, quote="")


def test_statement_offsets_span_exactly_the_quote():
    statement = StatementFactory()
    assert refused(Statement.objects.filter(pk=statement.pk), end=statement.end + 1)


def test_statement_stance_and_kind_are_from_their_lists():
    statement = StatementFactory()
    assert refused(Statement.objects.filter(pk=statement.pk), stance="maybe")
    assert refused(Statement.objects.filter(pk=statement.pk), kind="rumour")
    assert refused(Statement.objects.filter(pk=statement.pk), stated_on_precision="week")
    assert refused(Statement.objects.filter(pk=statement.pk), proposal_stance="shrugs")


def test_analysis_never_carries_a_party_and_positions_always_do():
    statement = StatementFactory()
    assert refused(Statement.objects.filter(pk=statement.pk), kind="analysis")
    assert refused(Statement.objects.filter(pk=statement.pk), party=None)


def test_a_proposal_stance_needs_a_proposal():
    statement = StatementFactory()
    assert refused(Statement.objects.filter(pk=statement.pk), proposal_stance="accepts")


def test_the_same_span_cannot_be_captured_twice_for_the_same_actor():
    statement = StatementFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        models.QuerySet.bulk_create(
            Statement.objects.all(),
            [
                Statement(
                    actor=statement.actor,
                    party=statement.party,
                    source=statement.source,
                    quote=statement.quote,
                    start=statement.start,
                    end=statement.end,
                    stance="opposes",
                    kind="direct_quote",
                )
            ],
        )


def test_a_meeting_cannot_end_before_it_starts():
    meeting = MeetingFactory(starts_on=datetime.date(2001, 8, 13))
    assert refused(Meeting.objects.filter(pk=meeting.pk), ends_on=datetime.date(2001, 8, 12))


def test_meeting_durations_are_positive():
    meeting = MeetingFactory()
    assert refused(Meeting.objects.filter(pk=meeting.pk), planned_minutes=0)
    assert refused(Meeting.objects.filter(pk=meeting.pk), actual_minutes=0)


def test_meeting_kind_status_and_precision_are_from_their_lists():
    meeting = MeetingFactory()
    assert refused(Meeting.objects.filter(pk=meeting.pk), kind="party")
    assert refused(Meeting.objects.filter(pk=meeting.pk), status="postponed")
    assert refused(Meeting.objects.filter(pk=meeting.pk), date_precision="week")


def test_a_meeting_is_not_its_own_parent():
    meeting = MeetingFactory()
    assert refused(Meeting.objects.filter(pk=meeting.pk), parent=meeting.pk)


def test_proposal_parameters_have_valid_limits_and_no_duplicates():
    parameter = ProposalParameterFactory(quantity="warheads")
    rows = ProposalParameter.objects.filter(pk=parameter.pk)
    assert refused(rows, limit="roughly")
    assert refused(rows, applies_to="everyone")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProposalParameterFactory(proposal=parameter.proposal, quantity="warheads")


@pytest.mark.parametrize("cited", ["actor", "source", "meeting", "proposal", "party"])
def test_what_statements_cite_cannot_be_deleted(cited):
    statement = StatementFactory(meeting=MeetingFactory(), proposal=ProposalFactory())
    with pytest.raises(ProtectedError):
        getattr(statement, cited).delete()
    assert Statement.objects.filter(pk=statement.pk).exists()


def test_a_topic_that_statements_cite_cannot_be_deleted():
    statement = StatementFactory()
    with pytest.raises(ProtectedError):
        statement.topics.get().delete()


def test_a_parent_meeting_with_meetings_inside_cannot_be_deleted():
    visit = MeetingFactory(kind="visit")
    MeetingFactory(parent=visit)
    with pytest.raises(ProtectedError):
        visit.delete()


def test_actor_kind_is_from_its_list():
    actor = ActorFactory()
    assert refused(type(actor).objects.filter(pk=actor.pk), kind="ghost")


def test_source_date_precision_is_from_its_list():
    source = SourceFactory()
    assert refused(type(source).objects.filter(pk=source.pk), published_on_precision="week")


def test_proposal_status_and_precision_are_from_their_lists():
    proposal = ProposalFactory()
    rows = type(proposal).objects.filter(pk=proposal.pk)
    assert refused(rows, status="shelved")
    assert refused(rows, proposed_on_precision="week")


def test_a_statement_is_tagged_with_a_topic_once():
    from positions.models import StatementTopic

    statement = StatementFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        StatementTopic.objects.create(statement=statement, topic=statement.topics.get())


def test_party_and_topic_names_are_unique():
    PartyFactory(code="RU", name="Russia")
    TopicFactory(name="START")
    with pytest.raises(IntegrityError), transaction.atomic():
        Party.objects.create(code="RF", name="Russia")
    with pytest.raises(IntegrityError), transaction.atomic():
        Topic.objects.create(slug="start-2", name="START")
