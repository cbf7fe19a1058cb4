import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from positions import quotes
from positions.models import Statement
from tests.factories import ActorFactory, SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db

CURLY = "“We have no wish to withdraw from any treaty or agreement.”"


def unsaved(source, quote="", **kwargs):
    return Statement(
        source=source,
        actor=kwargs.pop("actor", None) or ActorFactory(),
        quote=quote,
        stance="supports",
        kind="direct_quote",
        **kwargs,
    )


def test_a_quote_given_alone_is_found_and_anchored():
    source = SourceFactory()
    statement = StatementFactory(source=source, quote=CURLY)
    assert source.text[statement.start : statement.end] == CURLY
    assert statement.start == source.text.index(CURLY)
    assert statement.prefix == "Ivanov said, "
    assert statement.suffix.startswith("\nRumsfeld said that")
    assert len(statement.suffix) == 32


def test_curly_quotes_and_dashes_are_kept_byte_for_byte():
    statement = StatementFactory(quote="interrupted – and resumed")
    statement.refresh_from_db()
    assert statement.quote == "interrupted – and resumed"
    assert statement.quote.encode("utf-8") == "interrupted – and resumed".encode()


def test_a_quote_typed_with_straight_quotes_is_refused_with_a_hint():
    with pytest.raises(ValidationError) as error:
        unsaved(SourceFactory(), '"We have no wish').full_clean()
    assert "not in the source text" in str(error.value)
    assert "typographic characters" in str(error.value)


def test_leading_and_trailing_whitespace_is_kept_when_it_is_in_the_source():
    source = SourceFactory()
    quote = " the US does not need thousands of warheads.\n"
    statement = StatementFactory(source=source, quote=quote)
    statement.refresh_from_db()
    assert statement.quote == quote
    assert source.text[statement.start : statement.end] == quote


def test_whitespace_that_is_not_in_the_source_is_an_error_not_trimmed():
    with pytest.raises(ValidationError) as error:
        unsaved(SourceFactory(), "  We have no wish").full_clean()
    assert "without its leading or trailing whitespace" in str(error.value)


def test_a_quote_not_in_the_source_is_a_validation_error_on_save():
    statement = unsaved(SourceFactory(), "We will withdraw tomorrow.")
    with pytest.raises(ValidationError) as error:
        statement.save()
    assert error.value.message_dict["quote"] == ["The quote is not in the source text."]
    assert not Statement.objects.exists()


def test_an_ambiguous_quote_without_offsets_names_every_occurrence():
    source = SourceFactory()
    first = source.text.index("said")
    second = source.text.index("said", first + 1)
    with pytest.raises(ValidationError) as error:
        unsaved(source, "said").save()
    message = error.value.message_dict["quote"][0]
    assert "occurs 2 times" in message
    assert f"{first}, {second}" in message


def test_an_ambiguous_quote_with_a_start_offset_is_anchored_there():
    source = SourceFactory()
    second = source.text.index("said", source.text.index("said") + 1)
    statement = StatementFactory(source=source, quote="said", start=second)
    assert (statement.start, statement.end) == (second, second + 4)


def test_offsets_that_disagree_with_the_quote_are_refused_and_say_where_it_is():
    source = SourceFactory()
    with pytest.raises(ValidationError) as error:
        unsaved(source, "Rumsfeld said", start=0, end=13).save()
    message = error.value.message_dict["quote"][0]
    assert "does not match the source at offsets 0–13" in message
    assert "reads “Ivanov said, ”" in message
    assert f"at offset {source.text.index('Rumsfeld said')}" in message


def test_offsets_alone_fill_in_the_quote():
    source = SourceFactory()
    statement = StatementFactory(source=source, quote="", start=0, end=6)
    assert statement.quote == "Ivanov"


def test_an_end_past_the_source_is_refused():
    source = SourceFactory()
    with pytest.raises(ValidationError) as error:
        unsaved(source, "", start=0, end=len(source.text) + 1).save()
    assert "only" in error.value.message_dict["end"][0]


def test_an_end_before_the_start_is_refused():
    with pytest.raises(ValidationError) as error:
        unsaved(SourceFactory(), "", start=5, end=5).save()
    assert "greater than the start" in error.value.message_dict["end"][0]


def test_neither_quote_nor_offsets_is_refused():
    with pytest.raises(ValidationError) as error:
        unsaved(SourceFactory()).save()
    assert "Give the quote" in error.value.message_dict["quote"][0]


def test_bulk_create_anchors_every_statement_or_creates_none():
    source = SourceFactory()
    actor = ActorFactory()
    good = unsaved(source, CURLY, actor=actor)
    bad = unsaved(source, "not there", actor=actor)
    with pytest.raises(ValidationError):
        Statement.objects.bulk_create([good, bad])
    assert not Statement.objects.exists()


def test_a_queryset_update_that_breaks_a_quote_is_rolled_back():
    statement = StatementFactory(quote=CURLY)
    with pytest.raises(ValidationError):
        Statement.objects.filter(pk=statement.pk).update(
            start=statement.start + 1, end=statement.end + 1
        )
    statement.refresh_from_db()
    assert statement.source.text[statement.start : statement.end] == CURLY


def test_changing_a_sources_text_under_a_quote_flags_it_and_keeps_the_quote():
    statement = StatementFactory(quote=CURLY)
    source = statement.source
    old_start = statement.start
    source.text = source.text.replace("“We have", "“We do have")
    source.save()
    assert [s.pk for s in source.reanchoring.flagged] == [statement.pk]
    statement.refresh_from_db()
    assert (statement.quote, statement.start, statement.needs_review) == (CURLY, old_start, True)
    assert "changed or removed words of the quote itself" in statement.review_note
    # verify_quotes leaves it out, and says so, rather than failing on it.
    out = io.StringIO()
    call_command("verify_quotes", stdout=out)
    assert "1 statement(s) await review" in out.getvalue()


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("xx ab QUOTE cd", [(6, "with the text before and after it, as before")]),
        ("xx ab QUOTE zz", [(6, "with the text before it, as before")]),
        ("xx zz QUOTE cd", [(6, "with the text after it, as before")]),
        (
            "QUOTE and QUOTE",
            [
                (0, "the words only, in another context"),
                (10, "the words only, in another context"),
            ],
        ),
        ("ab quote cd x", []),
        (
            "QUOTE cd, ab QUOTE cd",
            [
                (13, "with the text before and after it, as before"),
                (0, "with the text after it, as before"),
            ],
        ),
    ],
)
def test_places_for_a_flagged_quote_are_suggested_best_first(new, expected):
    found = quotes.candidates(new, "QUOTE", "ab ", " cd")
    assert [(c.start, c.how) for c in found] == expected


def test_changing_a_sources_text_elsewhere_is_allowed_when_quotes_still_match():
    statement = StatementFactory(quote="Ivanov")
    source = statement.source
    source.text = source.text + "\nA later correction."
    source.save()
    source.refresh_from_db()
    assert source.sha256 == source.text_hash(source.text)


def test_analysis_cannot_be_attributed_to_a_party():
    statement = unsaved(SourceFactory(), CURLY, actor=ActorFactory())
    statement.kind = "analysis"
    with pytest.raises(ValidationError) as error:
        statement.full_clean()
    assert "author's analysis" in error.value.message_dict["kind"][0]


def test_an_actor_without_a_party_can_only_give_analysis():
    statement = unsaved(SourceFactory(), CURLY, actor=ActorFactory(party=None))
    with pytest.raises(ValidationError) as error:
        statement.full_clean()
    assert "only be recorded as the author's analysis" in error.value.message_dict["actor"][0]


def test_a_statement_takes_its_party_from_its_actor():
    statement = StatementFactory(quote=CURLY)
    assert statement.party == statement.actor.party
