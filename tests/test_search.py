"""Full-text search of quotes (positions/search.py), the same on SQLite and PostgreSQL."""

import pytest
from django.db import connection, models

from positions.models import Statement
from positions.search import search_quotes
from tests.factories import SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db

TEXT = (
    "Ivanov said the withdrawal from the ABM Treaty would be a mistake.\n"
    "Rumsfeld: “Verification — on-site — is essential.”\n"
    "Иванов заявил: договор по ПРО остаётся краеугольным камнем.\n"
    'Odd words: NEAR AND OR NOT "quoted" * - ^ col:umn'
)


@pytest.fixture
def statements():
    source = SourceFactory(text=TEXT)
    lines = TEXT.split("\n")
    return [StatementFactory(source=source, quote=line) for line in lines]


def found(text):
    return set(search_quotes(Statement.objects.all(), text).values_list("pk", flat=True))


def test_each_word_matches_words_starting_with_it_in_any_case(statements):
    ivanov, rumsfeld, russian, odd = statements
    assert found("WITHDRAW") == {ivanov.pk}
    assert found("abm treaty") == {ivanov.pk}
    assert found("treaty verification") == set()  # every word must be in the quote
    assert found("verif essent") == {rumsfeld.pk}
    assert found("on-site") == {rumsfeld.pk}


def test_non_latin_words_are_found(statements):
    assert found("договор ПРО") == {statements[2].pk}


@pytest.mark.parametrize(
    "query", ['"', "*", "AND", "OR NOT", "NEAR(", "col:umn", 'a"b', "-x", "^", "((", "'"]
)
def test_search_syntax_in_the_query_is_just_words(statements, query):
    # Nothing is read as an operator of the index's query language, and nothing fails.
    result = found(query)
    assert result <= {s.pk for s in statements}


def test_punctuation_alone_finds_nothing(statements):
    assert found("— “ ” ...") == set()


def test_the_index_follows_edits_and_deletions(statements):
    ivanov = statements[0]
    ivanov.source.text  # noqa: B018
    models.QuerySet(Statement).filter(pk=ivanov.pk).delete()
    assert found("withdrawal") == set()
    source = SourceFactory(text="A brand new zeppelin statement.")
    new = StatementFactory(source=source, quote="zeppelin")
    assert found("zeppelin") == {new.pk}


@pytest.mark.parametrize("query", ['"', "AND", "NEAR(", "x*", "%", "_", "'; DROP TABLE x; --"])
def test_odd_searches_through_the_api_and_the_dashboard_answer_normally(client, statements, query):
    assert client.get("/api/v1/statements/", {"q": query}).status_code == 200
    assert client.get("/", {"q": query}).status_code == 200


def test_a_search_stops_counting_at_the_cap_and_says_so(client, monkeypatch):
    """A common word matches tens of thousands of quotes: the count stops at the cap (one
    row past it is read to know), the flag says so, and the pages end there."""
    monkeypatch.setattr("positions.api.SEARCH_COUNT_CAP", 3)
    text = "\n".join(f"Line {n}: verification matters." for n in range(5)) + "\nNo match."
    source = SourceFactory(text=text)
    for line in text.split("\n"):
        StatementFactory(source=source, quote=line)

    many = client.get("/api/v1/statements/?q=verification&page_size=2").json()
    assert (many["count"], many["count_capped"], len(many["results"])) == (3, True, 2)
    second = client.get("/api/v1/statements/?q=verification&page_size=2&page=2").json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert client.get("/api/v1/statements/?q=verification&page_size=2&page=3").status_code == 404

    few = client.get("/api/v1/statements/?q=match").json()
    assert (few["count"], few["count_capped"]) == (1, False)
    everything = client.get("/api/v1/statements/").json()
    assert (everything["count"], everything["count_capped"]) == (6, False)


def test_the_schema_describes_the_capped_count(client):
    schema = client.get("/api/schema/?format=json").json()
    page = schema["components"]["schemas"]["PaginatedStatementList"]
    assert page["properties"]["count_capped"]["type"] == "boolean"
    assert "count_capped" in page["required"]


def test_the_full_text_index_is_kept_by_the_database_after_every_migration():
    """SQLite drops a table's triggers when a migration rebuilds the table; the index must
    still follow inserts, edits and deletes once every migration has run."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                ["positions_statement"],
            )
            triggers = {name for (name,) in cursor.fetchall()}
        assert {
            "positions_statement_fts_insert",
            "positions_statement_fts_update",
            "positions_statement_fts_delete",
        } <= triggers
    source = SourceFactory(text="Alpha bravo.\nCharlie delta.")
    statement = StatementFactory(source=source, quote="Alpha bravo.")
    assert found("bravo") == {statement.pk}
    statement.quote, statement.start, statement.end = "Charlie delta.", None, None
    statement.save()
    assert found("bravo") == set() and found("charlie") == {statement.pk}
    statement.delete()
    assert found("charlie") == set()
