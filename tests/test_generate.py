"""generate_data: deterministic, valid synthetic data that leaves everything else alone."""

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import models

from positions import generate
from positions.models import (
    Actor,
    Source,
    Statement,
    StatementTopic,
    Topic,
)
from tests.factories import SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db

SCALE = "0.002"  # 400 statements on 10 sources: a second


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("generate_data", "--scale", SCALE, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fingerprint():
    """A digest of what was generated, independent of primary keys."""
    digest = hashlib.sha256()
    for row in Statement.objects.order_by("source__url", "start", "actor__slug").values_list(
        "source__url", "start", "end", "quote", "actor__slug", "stance", "kind"
    ):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def test_it_generates_the_planned_amounts_and_every_quote_is_exact():
    out, err = run("--seed", "7")
    plan = generate.Plan.for_scale(float(SCALE))
    assert Statement.objects.count() == plan.statements == 400
    assert Source.objects.count() == plan.sources
    assert Topic.objects.count() == generate.TOPIC_COUNT
    assert "Generated 400 statements" in out
    assert "statements: 100%" in err  # the progress, as lines when not on a terminal
    for source in Source.objects.all():
        assert 7000 < len(source.text) < 10000
    call_command("verify_quotes", stdout=io.StringIO())  # quotes, context and topic links
    assert StatementTopic.objects.count() >= 400


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    run("--seed", "3")
    first = fingerprint()
    run("--seed", "3", "--reset")
    assert fingerprint() == first
    run("--seed", "4", "--reset")
    assert fingerprint() != first


def test_it_refuses_a_database_with_other_data_unless_told(seeded):
    before = Statement.objects.count()
    with pytest.raises(CommandError, match="not generated"):
        run()
    assert Statement.objects.count() == before


def test_beside_existing_data_it_changes_none_of_it_and_reset_removes_only_its_own(seeded):
    seed_rows = sorted(Statement.objects.values_list("pk", "version", "quote", "stance"))
    seed_actors = sorted(Actor.objects.values_list("pk", "version", "name"))
    run("--allow-existing")
    assert Statement.objects.count() == len(seed_rows) + 400
    assert (
        sorted(
            Statement.objects.filter(pk__in=[r[0] for r in seed_rows]).values_list(
                "pk", "version", "quote", "stance"
            )
        )
        == seed_rows
    )
    with pytest.raises(CommandError, match="already holds generated data"):
        run("--allow-existing")
    run("--allow-existing", "--reset")
    assert Statement.objects.count() == len(seed_rows) + 400
    generate.reset()
    assert sorted(Statement.objects.values_list("pk", "version", "quote", "stance")) == seed_rows
    assert sorted(Actor.objects.values_list("pk", "version", "name")) == seed_actors


@pytest.mark.parametrize("scale", ["0", "-1", "11"])
def test_a_scale_out_of_range_is_refused(scale):
    with pytest.raises(CommandError, match="--scale"):
        call_command("generate_data", "--scale", scale, stdout=io.StringIO())


@pytest.mark.parametrize(
    "change",
    [
        {"stance": "opposes"},
        {"stated_on": "1999-01-01"},
        {"start": 1},
        {"start": None},
        {"party": None},
        {"source": "another"},
    ],
    ids=lambda change: "-".join(f"{k}={v}" for k, v in change.items()),
)
def test_verify_quotes_catches_a_topic_link_out_of_step_with_its_statement(change):
    statement = StatementFactory()
    if change.get("source"):
        change = {"source": SourceFactory()}
    models.QuerySet(StatementTopic).filter(statement=statement).update(**change)
    err = io.StringIO()
    with pytest.raises(CommandError, match="out of step"):
        call_command("verify_quotes", stdout=io.StringIO(), stderr=err)
    assert "topic link(s)" in err.getvalue()


@pytest.mark.parametrize(
    "path", ["save", "update", "bulk_update", "actor_party", "set", "new_source", "reanchor"]
)
def test_every_write_path_keeps_the_topic_links_copy_in_step(path, russia, united_states):
    statement = StatementFactory(actor__party=russia, stance="supports")
    if path == "save":
        statement.stance = "opposes"
        statement.stated_on = "2001-08-13"
        statement.save()
    elif path == "new_source":
        statement.source = SourceFactory(text=f"Before. {statement.quote}")
        statement.start = statement.end = None
        statement.save()
    elif path == "reanchor":
        source = statement.source
        source.text = f"A new first sentence. {source.text}"
        source.save()
        statement.refresh_from_db()
        assert not statement.needs_review and statement.start > 0
    elif path == "update":
        Statement.objects.filter(pk=statement.pk).update(stance="opposes")
    elif path == "bulk_update":
        statement.stance = "opposes"
        Statement.objects.bulk_update([statement], ["stance"])
    elif path == "actor_party":
        actor = statement.actor
        actor.party = united_states
        actor.save()
    else:
        statement.topics.set([Topic.objects.create(slug="other", name="Other")])
    call_command("verify_quotes", stdout=io.StringIO())
    statement = Statement.objects.get(pk=statement.pk)
    copied = ("party_id", "stance", "stated_on", "source_id", "start")
    assert list(StatementTopic.objects.filter(statement=statement).values_list(*copied)) == [
        tuple(getattr(statement, name) for name in copied)
    ]
