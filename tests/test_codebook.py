"""docs/codebook.md documents every coded value, with examples that are really in the seed."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from positions.comparison import Agreement, Position, compare
from positions.models import (
    AttributionKind,
    Certainty,
    MeetingRelation,
    Party,
    Proposal,
    ProposalKind,
    ProposalStance,
    Stance,
    Statement,
    Topic,
)

pytestmark = pytest.mark.django_db

CODEBOOK = (Path(__file__).resolve().parent.parent / "docs" / "codebook.md").read_text()
ROW = re.compile(r"^\| `(?P<value>[a-z_]+)` \|(?P<cells>.*)\|$")


def table_rows(heading):
    """The rows of the table under a level-2 heading: {value: [cells after the value]}."""
    section = CODEBOOK.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = ROW.match(line)
        if match:
            rows[match["value"]] = [cell.strip() for cell in match["cells"].split("|")]
    return rows


def example(cells):
    """The quoted example in a row, or None where the codebook says there is none."""
    found = re.search(r"`([^`]+)`", cells[1])
    return found.group(1) if found else None


@pytest.fixture
def seeded(db):
    call_command("load_seed", stdout=None)


@pytest.mark.parametrize(
    ("heading", "choices"),
    [
        ("Stance", Stance),
        ("Attribution kind", AttributionKind),
        ("Stance on a proposal", ProposalStance),
        ("Certainty", Certainty),
        ("Meeting links", MeetingRelation),
        ("Proposal kind", ProposalKind),
    ],
)
def test_every_value_is_documented(heading, choices):
    assert set(table_rows(heading)) == set(choices.values)


def test_each_stance_example_is_a_seed_statement_with_that_stance_and_topic(seeded):
    for value, cells in table_rows("Stance").items():
        statement = Statement.objects.get(quote=example(cells))
        assert statement.stance == value, example(cells)
        assert statement.topics.filter(slug=cells[2]).exists(), example(cells)


def test_each_attribution_example_is_a_seed_statement_of_that_kind(seeded):
    for value, cells in table_rows("Attribution kind").items():
        statement = Statement.objects.get(quote=example(cells))
        assert statement.kind == value, example(cells)


def test_each_proposal_stance_example_is_a_seed_statement_with_that_stance(seeded):
    rows = table_rows("Stance on a proposal")
    for value, cells in rows.items():
        if example(cells) is None:
            assert "none in the seed article" in cells[1]
            assert not Statement.objects.filter(proposal_stance=value).exists()
            continue
        statements = Statement.objects.filter(quote=example(cells), proposal_stance=value)
        assert statements.count() == 1, example(cells)


def test_each_certainty_example_is_a_seed_statement_with_that_certainty(seeded):
    for value, cells in table_rows("Certainty").items():
        statement = Statement.objects.get(quote=example(cells))
        assert statement.certainty == value, example(cells)


def test_each_meeting_link_example_is_a_seed_statement_with_that_link(seeded):
    for value, cells in table_rows("Meeting links").items():
        statement = Statement.objects.get(quote=example(cells))
        assert statement.meeting_relation == value, example(cells)


def test_each_proposal_kind_example_is_a_seed_proposal_of_that_kind(seeded):
    for value, cells in table_rows("Proposal kind").items():
        proposal = Proposal.objects.get(slug=example(cells))
        assert proposal.kind == value, example(cells)


def test_the_declaration_example_has_its_timing_and_condition(seeded):
    cells = table_rows("Proposal kind")["declaration"]
    proposal = Proposal.objects.get(slug=example(cells))
    for words in re.findall(r"“([^”]+)”", cells[1]):
        assert words in (proposal.timing, proposal.condition), words


def expert_reading():
    """The expert reading table: {topic: (Russia's position, the US's, label)}."""
    section = CODEBOOK.split("## Expert reading of the seed\n", 1)[1]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = tuple(cell.strip("`") for cell in cells[1:4])
    return rows


def test_the_expert_reading_covers_every_seed_topic(seeded):
    assert set(expert_reading()) == set(Topic.objects.values_list("slug", flat=True))


def test_the_rules_reproduce_the_expert_reading_of_every_topic(seeded):
    computed = {
        row.topic.slug: (*(cell.position for cell in row.cells), row.agreement)
        for row in compare(Statement.objects.all(), Topic.objects.all(), Party.objects.all())
    }
    assert [party.code for party in Party.objects.all()] == ["RU", "US"]
    assert computed == expert_reading()


def test_every_label_and_position_in_the_reading_is_one_the_rules_know():
    for russia, united_states, label in expert_reading().values():
        assert {russia, united_states} <= set(Position.values)
        assert label in Agreement.values
