"""Every write path keeps quotes anchored and parties consistent, or refuses."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import models

from positions.models import Actor, Source, Statement
from tests.factories import ActorFactory, PartyFactory, SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db


# Sources


def test_a_queryset_update_of_source_text_is_refused():
    source = StatementFactory().source
    with pytest.raises(ValidationError, match="changed with save"):
        Source.objects.filter(pk=source.pk).update(text="x" + source.text)
    source.refresh_from_db()
    assert source.sha256 == Source.text_hash(source.text)


def test_bulk_update_of_source_text_rehashes_and_checks_quotes():
    statement = StatementFactory(quote="Ivanov")
    source = statement.source
    source.text += "\nAppended."
    Source.objects.bulk_update([source], ["text"])
    source.refresh_from_db()
    assert source.text.endswith("Appended.")
    assert source.sha256 == Source.text_hash(source.text)
    source.text = "Someone else" + source.text[6:]
    Source.objects.bulk_update([source], ["text", "title"])
    statement.refresh_from_db()
    # "Ivanov" is gone from the text: the statement keeps its quote and awaits review.
    assert (statement.quote, statement.needs_review) == ("Ivanov", True)


def test_an_edit_next_to_a_quote_sends_it_to_review_with_its_old_context():
    # The text right around a quote is part of its anchor: changed, the quote may be
    # another passage that reads the same, so it is not carried over.
    statement = StatementFactory(quote="We have no wish")
    source = statement.source
    position = statement.start - 3
    source.text = source.text[:position] + "X" + source.text[position + 1 :]
    source.save()
    old_prefix = statement.prefix
    statement.refresh_from_db()
    assert statement.needs_review
    assert "around the quote" in statement.review_note
    assert statement.prefix == old_prefix
    call_command("verify_quotes", stdout=None)


@pytest.mark.parametrize(
    ("text", "message"), [("   \n ", "The text is empty."), ("a\x00b", "NUL characters")]
)
def test_a_source_with_empty_or_nul_text_is_refused_on_save(text, message):
    with pytest.raises(ValidationError, match=message):
        Source.objects.create(title="Bad", text=text)
    assert not Source.objects.exists()


def test_a_duplicate_text_is_named_in_validation():
    first = SourceFactory()
    with pytest.raises(ValidationError) as error:
        Source(title="Again", text=first.text).full_clean()
    assert f"already stored as source {first.pk}" in error.value.message_dict["text"][0]


def test_the_admin_names_the_existing_source_when_text_is_duplicated(editor_client):
    first = SourceFactory()
    response = editor_client.post(
        "/admin/positions/source/add/",
        {"title": "Again", "published_on_precision": "day", "text": first.text},
    )
    assert response.status_code == 200
    assert f"already stored as source {first.pk}" in str(response.context["adminform"].form.errors)
    assert Source.objects.count() == 1


# Parties follow actors


def test_changing_an_actors_party_moves_their_statements_with_them():
    statement = StatementFactory()
    other = PartyFactory()
    actor = statement.actor
    actor.party = other
    actor.save()
    statement.refresh_from_db()
    assert statement.party == other
    call_command("verify_quotes", stdout=None)


def test_an_actor_with_positions_cannot_lose_their_party():
    actor = StatementFactory().actor
    actor.party = None
    with pytest.raises(ValidationError, match="only give the author's analysis"):
        actor.full_clean()
    with pytest.raises(ValidationError):
        actor.save()
    actor.refresh_from_db()
    assert actor.party is not None


def test_the_author_cannot_gain_a_party():
    author = ActorFactory(party=None)
    StatementFactory(actor=author, kind="analysis", stance="neutral")
    author.party = PartyFactory()
    with pytest.raises(ValidationError, match="never belongs to a side"):
        author.save()


def test_a_queryset_update_of_the_actor_updates_the_party():
    statement = StatementFactory()
    other = ActorFactory(party=PartyFactory())
    Statement.objects.filter(pk=statement.pk).update(actor=other)
    statement.refresh_from_db()
    assert statement.party == other.party


def test_the_party_cannot_be_updated_on_its_own():
    statement = StatementFactory()
    with pytest.raises(ValidationError, match="follows its actor"):
        Statement.objects.filter(pk=statement.pk).update(party=PartyFactory())


def test_bulk_update_of_the_actor_updates_the_party():
    statement = StatementFactory()
    statement.actor = ActorFactory(party=PartyFactory())
    Statement.objects.bulk_update([statement], ["actor"])
    statement.refresh_from_db()
    assert statement.party == statement.actor.party


def test_saving_only_the_quote_saves_its_anchor_too():
    statement = StatementFactory(quote="Ivanov")
    statement.quote = "Rumsfeld said that"
    statement.start = statement.end = None
    statement.save(update_fields=["quote"])
    statement.refresh_from_db()
    assert statement.source.text[statement.start : statement.end] == "Rumsfeld said that"


def test_verify_quotes_reports_a_party_that_is_not_the_actors():
    statement = StatementFactory()
    models.QuerySet.update(Statement.objects.filter(pk=statement.pk), party=PartyFactory())
    with pytest.raises(CommandError, match="1 of 1 statements"):
        call_command("verify_quotes", stdout=None, stderr=None)


# The admin's statement form


def test_a_quote_across_paragraphs_survives_the_browsers_line_breaks(editor_client):
    from tests.factories import TopicFactory
    from tests.test_admin import statement_form

    source = SourceFactory(text="Naples in September.\n\nTalks are necessary because.")
    response = editor_client.post(
        "/admin/positions/statement/add/",
        statement_form(
            source, ActorFactory(), TopicFactory(), quote="September.\r\n\r\nTalks are"
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Statement.objects.get().quote == "September.\n\nTalks are"


def test_an_actor_admin_refuses_to_clear_the_party_of_a_speaker(editor_client):
    actor = StatementFactory().actor
    response = editor_client.post(
        f"/admin/positions/actor/{actor.pk}/change/",
        {"slug": actor.slug, "kind": "person", "name": actor.name, "party": "", "role": ""},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "only give the author's analysis" in errors["party"][0]
    assert Actor.objects.get(pk=actor.pk).party is not None
