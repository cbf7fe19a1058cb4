"""Migration 0012 (codebook v2) carries the data forward, and back."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# serialized_rollback: the flush after this test leaves the content types to the next
# test that restores them, as tests/test_unavailable.py does (no duplicates).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("positions", "0011_provenance")]
AFTER = [("positions", "0012_codebook_v2")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def search_triggers():
    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            ["positions_statement"],
        )
        return {name for (name,) in cursor.fetchall()}


def test_a_statement_made_at_a_meeting_keeps_its_meaning_through_the_migration():
    triggers = search_triggers()
    apps = migrate(BEFORE)
    Party = apps.get_model("positions", "Party")
    Actor = apps.get_model("positions", "Actor")
    Source = apps.get_model("positions", "Source")
    Meeting = apps.get_model("positions", "Meeting")
    Topic = apps.get_model("positions", "Topic")
    Statement = apps.get_model("positions", "Statement")
    StatementTopic = apps.get_model("positions", "StatementTopic")
    russia = Party.objects.create(code="RU", name="Russia")
    ivanov = Actor.objects.create(slug="ivanov", name="Ivanov", party=russia)
    text = "Ivanov said no. Then he left."
    source = Source.objects.create(title="Article", text=text, sha256="a" * 64)
    meeting = Meeting.objects.create(slug="m", title="Meeting", kind="bilateral", status="held")
    topic = Topic.objects.create(slug="abm", name="ABM")
    at_meeting = Statement.objects.create(
        actor=ivanov,
        party=russia,
        source=source,
        quote="Ivanov said no.",
        start=0,
        end=15,
        stance="opposes",
        kind="reported",
        meeting=meeting,
        source_sha256="a" * 64,
    )
    elsewhere = Statement.objects.create(
        actor=ivanov,
        party=russia,
        source=source,
        quote="Then he left.",
        start=16,
        end=29,
        stance="neutral",
        kind="reported",
        stated_on="2001-08-01",
        stated_on_precision="month",
        source_sha256="a" * 64,
    )
    for statement in (at_meeting, elsewhere):
        StatementTopic.objects.create(
            statement=statement,
            topic=topic,
            party=russia,
            stance=statement.stance,
            stated_on=statement.stated_on,
            source=source,
            start=statement.start,
        )

    apps = migrate(AFTER)
    Statement = apps.get_model("positions", "Statement")
    StatementTopic = apps.get_model("positions", "StatementTopic")
    assert Statement.objects.get(pk=at_meeting.pk).meeting_relation == "said_at"
    assert Statement.objects.get(pk=elsewhere.pk).meeting_relation == ""
    stored = Statement.objects.get(pk=elsewhere.pk)
    assert (stored.certainty, stored.joint, stored.date_inferred) == ("firm", False, False)
    links = {link.statement_id: link for link in StatementTopic.objects.all()}
    # The links' new copies: the dashboard's order and the positions in time read them.
    assert links[elsewhere.pk].stated_on_precision == "month"
    assert links[elsewhere.pk].kind == "reported"
    assert (links[at_meeting.pk].lead_rank, links[elsewhere.pk].lead_rank) == (2, 3)
    assert search_triggers() == triggers

    migrate(BEFORE)
    assert search_triggers() == triggers
    migrate(AFTER)
