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

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import Count, Q

from positions.models import Party, Proposal, Stance, Statement, StatementTopic, Topic


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
    statements: list = field(default_factory=list)  # the first ones, or all without a limit
    proposals: list = field(default_factory=list)
    position: str = Position.NO_DATA
    statement_count: int = 0
    proposal_count: int = 0

    @property
    def position_label(self):
        return Position(self.position).label

    @property
    def more_statements(self):
        return self.statement_count > len(self.statements)


@dataclass
class Row:
    topic: object
    cells: list
    analysis: list
    agreement: str
    analysis_count: int = 0

    @property
    def agreement_label(self):
        return Agreement(self.agreement).label

    @property
    def statement_count(self):
        return sum(cell.statement_count for cell in self.cells)

    @property
    def more_analysis(self):
        return self.analysis_count > len(self.analysis)

    @property
    def has_content(self):
        return bool(
            self.statement_count
            or self.analysis_count
            or any(cell.proposal_count for cell in self.cells)
        )


# SQLite allows at most 500 terms in a compound SELECT; each cell is one term.
CELLS_PER_QUERY = 400


def first_per_cell(querysets, limit, offset=0):
    """
    Run one LIMITed query per cell, as few round trips as the database allows: each
    ``(key, queryset)`` gives the values_list rows of its first ``limit`` rows, by key.
    Each cell reads a few index entries, however many rows the cell has.
    """
    found = defaultdict(list)
    querysets = list(querysets)
    for start in range(0, len(querysets), CELLS_PER_QUERY):
        chunk = querysets[start : start + CELLS_PER_QUERY]
        parts, params = [], []
        for number, (_, queryset) in enumerate(chunk):
            try:
                sql, cell_params = queryset[offset : offset + limit].query.sql_with_params()
            except EmptyResultSet:
                continue  # a filter that matches nothing: the cell stays empty
            parts.append(f"SELECT {number} AS cell, * FROM ({sql}) AS cell_{number}")
            params.extend(cell_params)
        if not parts:
            continue
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for cell, *values in cursor.fetchall():
                found[chunk[cell][0]].append(tuple(values))
    return found


def by_pk(queryset, pks):
    """The records with these pks, by pk, in one query however many there are (in_bulk
    would split a long list into several on SQLite)."""
    return {record.pk: record for record in queryset.filter(pk__in=pks)} if pks else {}


def compare(
    statements,
    topics,
    parties,
    proposals=None,
    *,
    limit=None,
    offset=0,
    filtered=True,
    analysis=True,
):
    """
    One Row per topic, with one Cell per party in the given order.

    ``statements`` is a Statement queryset, already filtered (``filtered=False`` says it is
    not, which spares the database a join). Each cell gets its statement count, its
    position from the stances of all its statements, and ``limit`` statements from
    ``offset`` on (all without a limit), in date order; proposals likewise. Every statement
    belongs to a cell only through its party: analysis has no party and goes to the row's
    analysis list, never to a side (``analysis=False`` leaves it out). The queries are the
    same however many statements there are.
    """
    topics, parties = list(topics), list(parties)
    if not topics:
        return []
    links = StatementTopic.objects.filter(topic__in=topics)
    # Only the parties shown, and the author's analysis (no party) unless left out.
    sides = Q(party__in=parties) | Q(party=None) if analysis else Q(party__in=parties)
    links = links.filter(sides)
    if filtered:
        links = links.filter(statement__in=statements.values("pk"))
    stances = defaultdict(lambda: defaultdict(int))
    for topic_id, party_id, stance, count in (
        links.values_list("topic_id", "party_id", "stance").annotate(n=Count("pk")).order_by()
    ):
        stances[topic_id, party_id][stance] += count

    party_ids = [party.pk for party in parties] + ([None] if analysis else [])
    ordered = links.order_by("sort_date", "statement_id").values_list("statement_id")
    cells = [
        ((topic.pk, party_id), ordered.filter(topic_id=topic.pk, party_id=party_id))
        for topic in topics
        for party_id in party_ids
    ]
    if limit is None:
        chosen = defaultdict(list)
        for topic_id, party_id, statement_id in links.order_by(
            "sort_date", "statement_id"
        ).values_list("topic_id", "party_id", "statement_id"):
            if party_id in party_ids:
                chosen[topic_id, party_id].append((statement_id,))
    else:
        chosen = first_per_cell(cells, limit, offset)
    by_id = by_pk(
        Statement.objects.select_related("actor", "party", "meeting", "proposal"),
        {row[0] for rows in chosen.values() for row in rows},
    )

    if proposals is None:
        proposals = Proposal.objects.all()
    proposal_counts = dict(
        ((topic_id, party_id), count)
        for topic_id, party_id, count in proposals.filter(topics__in=topics)
        .values_list("topics", "party_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    # Each cell filters on one topic, in one join: a second filter on topics would join
    # the link table again and list a proposal once per topic it has.
    proposal_order = proposals.order_by("proposed_on", "pk").values_list("pk")
    proposal_cells = [
        ((topic.pk, party.pk), proposal_order.filter(topics=topic.pk, party_id=party.pk))
        for topic in topics
        for party in parties
        if proposal_counts.get((topic.pk, party.pk))
    ]
    if limit is None:
        proposal_ids = defaultdict(list)
        for key, queryset in proposal_cells:
            proposal_ids[key] = list(queryset)
    else:
        proposal_ids = first_per_cell(proposal_cells, limit, offset)
    proposal_by_id = by_pk(
        Proposal.objects.select_related("party", "actor", "meeting").prefetch_related(
            "parameters"
        ),
        {row[0] for rows in proposal_ids.values() for row in rows},
    )

    rows = []
    for topic in topics:
        row_cells = []
        for party in parties:
            key = (topic.pk, party.pk)
            counted = stances[key]
            cell = Cell(
                party=party,
                statements=[by_id[row[0]] for row in chosen[key]],
                proposals=[proposal_by_id[row[0]] for row in proposal_ids[key]],
                statement_count=sum(counted.values()),
                proposal_count=proposal_counts.get(key, 0),
            )
            cell.position = summarise(
                (stance for stance, count in counted.items() if count),
                has_proposals=bool(cell.proposal_count),
            )
            row_cells.append(cell)
        rows.append(
            Row(
                topic=topic,
                cells=row_cells,
                analysis=[by_id[row[0]] for row in chosen[topic.pk, None]],
                analysis_count=sum(stances[topic.pk, None].values()),
                agreement=agreement([cell.position for cell in row_cells]),
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


def compare_filtered(filterset, limit=None):
    """
    The comparison for a valid statement filter, as the dashboard and the API show it:
    its topic and party narrow the rows and columns, its other filters the statements and
    proposals, and with any filter on, topics where nothing matches are left out.
    Returns (rows, parties).
    """
    active = filterset.active
    topics = [active["topic"]] if "topic" in active else list(Topic.objects.all())
    parties = [active["party"]] if "party" in active else list(Party.objects.all())
    rows = compare(
        filterset.qs,
        topics,
        parties,
        proposals=filtered_proposals(active),
        limit=limit,
        # The topic and party filters need no join: the topic links carry both. A party
        # filter also leaves out the author's analysis, which has no party.
        filtered=bool(active.keys() - {"topic", "party"}),
        analysis="party" not in active,
    )
    if active:
        rows = [row for row in rows if row.has_content]
    return rows, parties
