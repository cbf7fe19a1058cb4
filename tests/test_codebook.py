"""docs/codebook.md documents every coded value, with examples that are really in the seed."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from positions.models import AttributionKind, ProposalStance, Stance, Statement

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


def test_the_agreement_examples_are_what_the_seed_gives(seeded):
    from positions.comparison import compare
    from positions.models import Party, Topic

    rows = {
        row.topic.slug: row
        for row in compare(Statement.objects.all(), Topic.objects.all(), Party.objects.all())
    }
    section = CODEBOOK.split("## Agreement\n", 1)[1]
    assert "**Diverge**" in section and rows["abm-treaty"].agreement == "diverge"
    assert [c.position for c in rows["abm-treaty"].cells] == ["supports", "opposes"]
    assert rows["strategic-reductions"].agreement == "partly_agree"
    assert [c.position for c in rows["strategic-reductions"].cells] == [
        "supports",
        "conditional",
    ]
    assert rows["heavy-bombers"].agreement == "one_side"
    assert rows["terrorism-new-threats"].agreement == "no_data"
