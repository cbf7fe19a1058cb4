"""Positions and agreement v2 (docs/codebook.md, "Positions and agreement"), case by case."""

import datetime

import pytest

from positions.comparison import (
    Agreement,
    Evidence,
    Position,
    agreement,
    compare,
    exchange,
    stages,
    summarise,
)
from positions.models import Statement
from tests.factories import (
    ActorFactory,
    ProposalFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
)

S, C, U, OPP, N = "supports", "conditional", "undecided", "opposes", "neutral"
TEXT = " ".join(f"Sentence number {n} of the test article." for n in range(40))


def sentence(n):
    return f"Sentence number {n} of the test article."


@pytest.mark.parametrize(
    ("stances", "expected"),
    [
        ([], None),
        ([N, N], None),  # descriptive statements are no evidence
        ([S], Position.SUPPORTS),
        ([S, S, N], Position.SUPPORTS),
        ([S, C], Position.CONDITIONAL),  # as many conditional as plain: the conditions hold
        ([C], Position.CONDITIONAL),
        ([S, S, S, S, C], Position.SUPPORTS),  # one condition does not outweigh four
        ([S, C, C], Position.CONDITIONAL),
        ([OPP], Position.OPPOSES),
        ([OPP, U, N], Position.OPPOSES),
        ([S, OPP], Position.MIXED),
        ([C, OPP], Position.MIXED),
        ([U], Position.UNDECIDED),
        ([U, N], Position.UNDECIDED),
        ([S, U], Position.SUPPORTS),
    ],
)
def test_evidence_adds_up_to_a_position(stances, expected):
    assert summarise(stances) == expected


def day(d, month=8):
    return datetime.date(2001, month, d)


def test_the_latest_evidence_leads_and_earlier_positions_are_history():
    found = stages(
        [
            Evidence.of(OPP, 2, day(1, 6), "day", None, "day"),
            Evidence.of(S, 1, day(13), "day", None, "day"),
        ]
    )
    assert [(s.position, s.count, s.shown) for s in found] == [
        (Position.SUPPORTS, 1, "13 August 2001"),
        (Position.OPPOSES, 2, "1 June 2001"),
    ]


def test_a_month_precision_statement_counts_with_a_dated_day_in_that_month():
    # "August 2001" may be as late as 13 August: it is not history behind it.
    found = stages(
        [
            Evidence.of(S, 1, day(1), "month", None, "day"),
            Evidence.of(C, 1, day(13), "day", None, "day"),
        ]
    )
    assert len(found) == 1
    assert found[0].position == Position.CONDITIONAL
    assert found[0].count == 2


def test_a_date_range_reaches_as_far_as_its_end():
    found = stages(
        [
            Evidence.of(OPP, 1, day(7), "day", day(9), "day"),
            Evidence.of(S, 1, day(8), "day", None, "day"),
        ]
    )
    assert [s.position for s in found] == [Position.MIXED]


def test_equal_positions_in_a_row_are_one_stage():
    found = stages(
        [
            Evidence.of(S, 1, day(1, 5), "day", None, "day"),
            Evidence.of(S, 2, day(1, 6), "day", None, "day"),
            Evidence.of(OPP, 1, day(1, 7), "day", None, "day"),
        ]
    )
    assert [(s.position, s.count) for s in found] == [
        (Position.OPPOSES, 1),
        (Position.SUPPORTS, 3),
    ]
    assert found[1].first == day(1, 5)


def test_undated_evidence_counts_only_without_dated_evidence():
    assert [s.position for s in stages([Evidence.of(OPP, 1, None, "day", None, "day")])] == [
        Position.OPPOSES
    ]
    found = stages(
        [
            Evidence.of(OPP, 5, None, "day", None, "day"),
            Evidence.of(S, 1, day(13), "day", None, "day"),
        ]
    )
    assert [s.position for s in found] == [Position.SUPPORTS]


@pytest.mark.parametrize(
    ("positions", "expected"),
    [
        ([Position.NO_DATA, Position.NO_DATA], Agreement.NO_DATA),
        ([Position.NEUTRAL, Position.NEUTRAL], Agreement.NO_DATA),
        ([Position.SUPPORTS, Position.NO_DATA], Agreement.UNANSWERED),
        ([Position.OPPOSES, Position.NEUTRAL], Agreement.UNANSWERED),
        ([Position.UNDECIDED, Position.NO_DATA], Agreement.UNANSWERED),
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
def test_the_agreement_label_compares_current_positions(positions, expected):
    assert agreement(positions) == expected


@pytest.fixture
def article(db):
    return SourceFactory(text=TEXT)


def said(actor, n, stance, topic, on=None, precision="day", **fields):
    return StatementFactory(
        actor=actor,
        source=fields.pop("source"),
        quote=sentence(n),
        stance=stance,
        topics=[topic],
        stated_on=on,
        stated_on_precision=precision,
        **fields,
    )


def row_for(topic, parties):
    (row,) = compare(Statement.objects.all(), [topic], parties)
    return row


@pytest.mark.django_db
def test_silence_is_unanswered_and_the_reason_says_who_said_what(article, russia, united_states):
    topic = TopicFactory()
    ivanov = ActorFactory(party=russia)
    for n in (1, 2, 3):
        said(ivanov, n, S, topic, day(n + 10), source=article)
    # A descriptive statement of the US is no answer.
    said(ActorFactory(party=united_states), 4, N, topic, day(13), source=article)
    row = row_for(topic, [russia, united_states])
    assert row.agreement == Agreement.UNANSWERED
    assert [c.position for c in row.cells] == [Position.SUPPORTS, Position.NEUTRAL]
    assert row.reason == (
        "Russia supports (3 statements, latest 13 August 2001); "
        "United States has stated no position."
    )


@pytest.mark.django_db
def test_a_change_of_position_is_shown_and_a_move_out_of_divergence_is_converging(
    article, russia, united_states
):
    topic = TopicFactory()
    ivanov, rumsfeld = ActorFactory(party=russia), ActorFactory(party=united_states)
    said(ivanov, 1, S, topic, day(1, 6), source=article)
    said(rumsfeld, 2, OPP, topic, day(2, 6), source=article)
    condition = sentence(4)
    said(rumsfeld, 3, C, topic, day(13), source=article, condition_quote=condition)
    row = row_for(topic, [russia, united_states])
    us = row.cells[1]
    assert us.position == Position.CONDITIONAL
    assert us.changed and us.previous == Position.OPPOSES
    assert row.agreement == Agreement.CONVERGING
    assert "changed from opposes (2 June 2001)" in row.reason


@pytest.mark.django_db
def test_a_newer_opposite_statement_changes_the_position_instead_of_mixing_it(
    article, russia, united_states
):
    topic = TopicFactory()
    ivanov = ActorFactory(party=russia)
    said(ivanov, 1, S, topic, day(1, 6), source=article)
    said(ivanov, 2, OPP, topic, day(13), source=article)
    row = row_for(topic, [russia, united_states])
    assert row.cells[0].position == Position.OPPOSES
    assert [s.position for s in row.cells[0].stages] == [Position.OPPOSES, Position.SUPPORTS]


@pytest.mark.django_db
def test_a_joint_claim_is_listed_but_is_neither_sides_position(article, russia, united_states):
    topic = TopicFactory()
    ivanov = ActorFactory(party=russia)
    claim = said(ivanov, 1, S, topic, day(13), source=article, joint=True)
    row = row_for(topic, [russia, united_states])
    assert row.cells[0].statements == [claim]
    assert row.cells[0].position == Position.NEUTRAL
    assert row.agreement == Agreement.NO_DATA
    assert (
        row.reason == "No side has stated a position; 1 joint claim about both sides, not counted."
    )


@pytest.mark.django_db
def test_a_topic_stance_of_its_own_counts_on_that_topic(article, russia, united_states):
    abm, nmd = TopicFactory(), TopicFactory()
    statement = StatementFactory(
        actor=ActorFactory(party=russia),
        source=article,
        quote=sentence(1),
        stance=S,
        topics=[abm, nmd],
        stated_on=day(13),
    )
    link = statement.topic_links.get(topic=nmd)
    link.stance_override = OPP
    link.save()
    rows = compare(Statement.objects.all(), [abm, nmd], [russia, united_states])
    assert [row.cells[0].position for row in rows] == [Position.SUPPORTS, Position.OPPOSES]


@pytest.mark.django_db
def test_the_evidence_that_carries_a_position_leads_a_cell_newest_first(
    article, russia, united_states
):
    topic = TopicFactory()
    ivanov = ActorFactory(party=russia)
    old_quote = said(ivanov, 1, S, topic, day(1, 6), source=article)
    description = said(ivanov, 2, N, topic, day(20), source=article, kind="reported")
    relayed = said(ivanov, 3, S, topic, day(14), source=article, kind="media_report")
    new_quote = said(ivanov, 4, OPP, topic, day(13), source=article)
    undated = said(ivanov, 5, S, topic, None, source=article)
    (row,) = compare(Statement.objects.all(), [topic], [russia, united_states], limit=2)
    assert row.cells[0].statements == [new_quote, old_quote]
    (row,) = compare(Statement.objects.all(), [topic], [russia, united_states])
    assert row.cells[0].statements == [new_quote, old_quote, relayed, undated, description]


@pytest.mark.django_db
def test_compare_keeps_the_authors_words_out_of_every_sides_cell(russia, united_states):
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
    narration = StatementFactory(
        source=source, actor=author, quote="Rumsfeld", kind="narration", stance=N, topics=[topic]
    )
    (row,) = compare(Statement.objects.all(), [topic], [russia, united_states])
    assert set(row.analysis) == {analysis, narration}
    assert all(analysis not in cell.statements for cell in row.cells)
    assert [cell.position for cell in row.cells] == [Position.SUPPORTS, Position.NO_DATA]
    # The author's "opposes" does not make the topic look contested.
    assert row.agreement == Agreement.UNANSWERED


@pytest.mark.django_db
def test_compare_orders_cells_by_party_and_gives_a_third_party_its_own(russia, united_states):
    from positions.models import Party

    china = Party.objects.create(code="CN", name="China", sort_order=3)
    topic = TopicFactory()
    StatementFactory(actor=ActorFactory(party=china), topics=[topic])
    (row,) = compare(Statement.objects.all(), [topic], Party.objects.all())
    assert [cell.party.code for cell in row.cells] == ["RU", "US", "CN"]
    assert [len(cell.statements) for cell in row.cells] == [0, 0, 1]


@pytest.mark.django_db
def test_the_exchange_threads_proposals_with_the_other_sides_answers(
    article, russia, united_states
):
    topic = TopicFactory()
    ivanov, rumsfeld = ActorFactory(party=russia), ActorFactory(party=united_states)
    first = ProposalFactory(party=russia, proposed_on=day(7), source=article)
    second = ProposalFactory(party=united_states, proposed_on=day(13), source=article)
    for proposal in (first, second):
        proposal.topics.set([topic])
    put = said(
        ivanov, 1, S, topic, day(7), source=article, proposal=first, proposal_stance="puts_forward"
    )
    answer = said(
        ivanov, 2, OPP, topic, day(13), source=article, proposal=second, proposal_stance="rejects"
    )
    said(
        rumsfeld,
        3,
        S,
        topic,
        day(13),
        source=article,
        proposal=second,
        proposal_stance="puts_forward",
    )
    threads = exchange(topic)
    assert [t.proposal for t in threads] == [first, second]
    assert threads[0].put_forward == [put] and threads[0].responses == []
    assert not threads[0].answered
    assert threads[1].responses == [answer]
