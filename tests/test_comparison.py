"""The agreement rule (docs/codebook.md, "Agreement"), case by case."""

import pytest

from positions.comparison import Agreement, Position, agreement, compare, summarise
from tests.factories import ActorFactory, SourceFactory, StatementFactory, TopicFactory

S, C, U, OPP, N = "supports", "conditional", "undecided", "opposes", "neutral"


@pytest.mark.parametrize(
    ("stances", "expected"),
    [
        ([], Position.NO_DATA),
        ([S], Position.SUPPORTS),
        ([S, S, N], Position.SUPPORTS),
        ([S, C], Position.CONDITIONAL),
        ([C], Position.CONDITIONAL),
        ([OPP], Position.OPPOSES),
        ([OPP, U, N], Position.OPPOSES),
        ([S, OPP], Position.MIXED),
        ([C, OPP], Position.MIXED),
        ([U], Position.UNDECIDED),
        ([U, N], Position.UNDECIDED),
        ([S, U], Position.SUPPORTS),
        ([N], Position.NEUTRAL),
    ],
)
def test_a_sides_position_sums_up_its_stances(stances, expected):
    assert summarise(stances) == expected


def test_a_side_with_only_proposals_has_no_stated_position():
    assert summarise([], has_proposals=True) == Position.NEUTRAL


@pytest.mark.parametrize(
    ("positions", "expected"),
    [
        ([Position.NO_DATA, Position.NO_DATA], Agreement.NO_DATA),
        ([Position.NEUTRAL, Position.NEUTRAL], Agreement.NO_DATA),
        ([Position.SUPPORTS, Position.NO_DATA], Agreement.ONE_SIDE),
        ([Position.OPPOSES, Position.NEUTRAL], Agreement.ONE_SIDE),
        ([Position.SUPPORTS, Position.SUPPORTS], Agreement.AGREE),
        ([Position.OPPOSES, Position.OPPOSES], Agreement.AGREE),
        ([Position.SUPPORTS, Position.OPPOSES], Agreement.DIVERGE),
        ([Position.CONDITIONAL, Position.OPPOSES], Agreement.DIVERGE),
        ([Position.SUPPORTS, Position.CONDITIONAL], Agreement.PARTLY_AGREE),
        ([Position.SUPPORTS, Position.UNDECIDED], Agreement.PARTLY_AGREE),
        ([Position.MIXED, Position.SUPPORTS], Agreement.PARTLY_AGREE),
        ([Position.UNDECIDED, Position.OPPOSES], Agreement.PARTLY_AGREE),
        ([Position.SUPPORTS, Position.SUPPORTS, Position.OPPOSES], Agreement.DIVERGE),
        ([Position.SUPPORTS, Position.SUPPORTS, Position.NO_DATA], Agreement.AGREE),
    ],
)
def test_the_agreement_label_compares_the_sides_that_take_a_position(positions, expected):
    assert agreement(positions) == expected


@pytest.mark.django_db
def test_compare_keeps_analysis_out_of_every_sides_cell(russia, united_states):
    topic = TopicFactory()
    source = SourceFactory()
    ivanov = ActorFactory(party=russia)
    author = ActorFactory(party=None)
    StatementFactory(source=source, actor=ivanov, quote="Ivanov", topics=[topic])
    analysis = StatementFactory(
        source=source,
        actor=author,
        quote="Rumsfeld said",
        kind="analysis",
        stance="opposes",
        topics=[topic],
    )
    from positions.models import Statement

    (row,) = compare(Statement.objects.all(), [topic], [russia, united_states])
    assert row.analysis == [analysis]
    assert all(analysis not in cell.statements for cell in row.cells)
    assert [cell.position for cell in row.cells] == [Position.SUPPORTS, Position.NO_DATA]
    # The author's "opposes" does not make the topic look contested.
    assert row.agreement == Agreement.ONE_SIDE


@pytest.mark.django_db
def test_compare_orders_cells_by_party_and_gives_a_third_party_its_own(russia, united_states):
    from positions.models import Party, Statement

    china = Party.objects.create(code="CN", name="China", sort_order=3)
    topic = TopicFactory()
    StatementFactory(actor=ActorFactory(party=china), topics=[topic])
    (row,) = compare(Statement.objects.all(), [topic], Party.objects.all())
    assert [cell.party.code for cell in row.cells] == ["RU", "US", "CN"]
    assert [len(cell.statements) for cell in row.cells] == [0, 0, 1]
