"""
The side-by-side comparison: for each topic, each party's statements and proposals, what
position they add up to, and whether the parties agree.

The dashboard and the API both call ``compare()``, so the page and the data always say
the same thing. It is a module of its own rather than a QuerySet method because it joins
topics, parties, statements and proposals into one structure.

The rule (docs/codebook.md, "Agreement", says the same for readers):

A side's position on a topic is summarised from the stances of its statements on that
topic (the author's analysis never counts, neutral statements take no position):

- opposes together with supports or conditional: ``mixed``;
- otherwise opposes: ``opposes``;
- supports with no conditional: ``supports``;
- any conditional: ``conditional``;
- otherwise undecided: ``undecided``;
- otherwise (only neutral statements, or only proposals): ``neutral``.

The agreement label of a topic compares the sides that take a position (anything but
``neutral`` and no data):

- no side takes a position: ``no_data``;
- one side does: ``one_side``;
- one side is for (supports or conditional) and another against (opposes): ``diverge``;
- all are for with no conditions (all ``supports``), or all ``opposes``: ``agree``;
- anything else (conditions, mixed or undecided positions): ``partly_agree``.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import models

from positions.models import AttributionKind, Party, Proposal, Stance, StatementTopic, Topic


class Position(models.TextChoices):
    SUPPORTS = "supports", "Supports"
    CONDITIONAL = "conditional", "Supports with conditions"
    MIXED = "mixed", "Mixed"
    UNDECIDED = "undecided", "Undecided"
    OPPOSES = "opposes", "Opposes"
    NEUTRAL = "neutral", "No stated position"
    NO_DATA = "no_data", "No data"


class Agreement(models.TextChoices):
    AGREE = "agree", "Agree"
    PARTLY_AGREE = "partly_agree", "Partly agree"
    DIVERGE = "diverge", "Diverge"
    ONE_SIDE = "one_side", "One side only"
    NO_DATA = "no_data", "No data"


FOR = {Position.SUPPORTS, Position.CONDITIONAL}


def summarise(stances, has_proposals=False):
    """A side's position on a topic from the stances of its statements."""
    stances = set(stances)
    if not stances and not has_proposals:
        return Position.NO_DATA
    supports = Stance.SUPPORTS in stances
    conditional = Stance.CONDITIONAL in stances
    if Stance.OPPOSES in stances:
        return Position.MIXED if supports or conditional else Position.OPPOSES
    if conditional:
        return Position.CONDITIONAL
    if supports:
        return Position.SUPPORTS
    if Stance.UNDECIDED in stances:
        return Position.UNDECIDED
    return Position.NEUTRAL


def agreement(positions):
    """The agreement label for the positions of all parties on one topic."""
    taken = [p for p in positions if p not in (Position.NO_DATA, Position.NEUTRAL)]
    if not taken:
        return Agreement.NO_DATA
    if len(taken) == 1:
        return Agreement.ONE_SIDE
    if any(p in FOR for p in taken) and Position.OPPOSES in taken:
        return Agreement.DIVERGE
    if all(p == Position.SUPPORTS for p in taken) or all(p == Position.OPPOSES for p in taken):
        return Agreement.AGREE
    return Agreement.PARTLY_AGREE


@dataclass
class Cell:
    party: object
    statements: list = field(default_factory=list)
    proposals: list = field(default_factory=list)
    position: str = Position.NO_DATA

    @property
    def position_label(self):
        return Position(self.position).label


@dataclass
class Row:
    topic: object
    cells: list
    analysis: list
    agreement: str

    @property
    def agreement_label(self):
        return Agreement(self.agreement).label

    @property
    def statement_count(self):
        return sum(len(cell.statements) for cell in self.cells)

    @property
    def has_content(self):
        return bool(
            self.statement_count or self.analysis or any(cell.proposals for cell in self.cells)
        )


def compare(statements, topics, parties, proposals=None):
    """
    One Row per topic, with one Cell per party in the given order.

    ``statements`` is a Statement queryset, already filtered; it is read in one query
    through the topic links. ``proposals`` defaults to every proposal on these topics.
    Every statement belongs to a cell only through its party: analysis has no party and
    goes to the row's analysis list, never to a side.
    """
    topics, parties = list(topics), list(parties)
    links = (
        StatementTopic.objects.filter(statement__in=statements, topic__in=topics)
        .select_related(
            "statement__actor",
            "statement__party",
            "statement__meeting",
            "statement__proposal",
        )
        .defer("statement__source__text")
        .order_by("statement__stated_on", "statement__source_id", "statement__start", "pk")
    )
    by_topic_party = defaultdict(list)
    analysis = defaultdict(list)
    for link in links:
        statement = link.statement
        if statement.kind == AttributionKind.ANALYSIS:
            analysis[link.topic_id].append(statement)
        else:
            by_topic_party[link.topic_id, statement.party_id].append(statement)

    if proposals is None:
        proposals = Proposal.objects.all()
    proposals_by = defaultdict(list)
    for proposal in (
        proposals.filter(topics__in=topics)
        .select_related("party", "actor", "meeting")
        .prefetch_related("parameters")
        .annotate(topic_id=models.F("topics"))
        .order_by("proposed_on", "pk")
    ):
        proposals_by[proposal.topic_id, proposal.party_id].append(proposal)

    rows = []
    for topic in topics:
        cells = []
        for party in parties:
            cell = Cell(
                party=party,
                statements=by_topic_party[topic.pk, party.pk],
                proposals=proposals_by[topic.pk, party.pk],
            )
            cell.position = summarise(
                (s.stance for s in cell.statements), has_proposals=bool(cell.proposals)
            )
            cells.append(cell)
        rows.append(
            Row(
                topic=topic,
                cells=cells,
                analysis=analysis[topic.pk],
                agreement=agreement([cell.position for cell in cells]),
            )
        )
    return rows


# Filters that proposals have no equivalent for: while one is on, proposals are hidden.
STATEMENT_ONLY_FILTERS = {"stance", "kind", "q"}


def filtered_proposals(active):
    """The proposals that match the dashboard's filters, or None to hide them."""
    if STATEMENT_ONLY_FILTERS & active.keys():
        return Proposal.objects.none()
    proposals = Proposal.objects.all()
    if "actor" in active:
        proposals = proposals.filter(actor=active["actor"])
    if "meeting" in active:
        proposals = proposals.filter(meeting=active["meeting"])
    if "proposal" in active:
        proposals = proposals.filter(pk=active["proposal"].pk)
    if "since" in active:
        proposals = proposals.filter(proposed_on__gte=active["since"])
    if "until" in active:
        proposals = proposals.filter(proposed_on__lte=active["until"])
    return proposals


def compare_filtered(filterset):
    """
    The comparison for a valid statement filter, as the dashboard and the API show it:
    its topic and party narrow the rows and columns, its other filters the statements and
    proposals, and with any filter on, topics where nothing matches are left out.
    Returns (rows, parties).
    """
    active = filterset.active
    topics = [active["topic"]] if "topic" in active else list(Topic.objects.all())
    parties = [active["party"]] if "party" in active else list(Party.objects.all())
    rows = compare(filterset.qs, topics, parties, proposals=filtered_proposals(active))
    if active:
        rows = [row for row in rows if row.has_content]
    return rows, parties
