"""
The side-by-side comparison: for each topic, each party's statements and proposals, what
position they add up to, and whether the parties agree.

The dashboard and the API both call ``compare()``, so the page and the data always say
the same thing. It is a module of its own rather than a QuerySet method because it joins
topics, parties, statements and proposals into one structure.

The rule (docs/codebook.md, "Positions and agreement", says the same for readers):

A side's *evidence* on a topic is its statements there that take a stance (supports,
conditional, undecided, opposes): not its descriptive (neutral) statements, not its joint
claims about both sides, never the author's words. Silence is never a stance.

A side's position is **time-aware**: the latest evidence leads. Each statement covers the
days of its date (a month-precision date covers the month, a range its days); the
*current* evidence is the statements whose days reach the latest start date among them,
so statements that may be as late as the latest one count with it, and those wholly
before it are history. Undated evidence counts only while there is no dated evidence.
The current evidence adds up to a position:

- for (supports or conditional) and against (opposes): ``mixed``;
- against only: ``opposes``;
- for: ``conditional`` if at least as many of them are conditional as plain support,
  else ``supports`` (one conditional statement does not outweigh four without one);
- otherwise undecided: ``undecided``.

Earlier evidence, period by period in the same way, is the side's history; where its last
earlier position differs from the current one, the cell shows the change. A side with
statements or proposals but no evidence has ``neutral`` ("no stated position"); one with
nothing has ``no_data``.

The agreement label compares the current positions of the sides that have one:

- none: ``no_data``;
- one: ``unanswered`` (one side has spoken, the other has not answered);
- one for and another against: ``diverge``;
- all plain ``supports``, or all ``opposes``: ``agree``;
- otherwise (conditions, mixed or undecided), ``converging`` if the sides diverged before
  the latest change of position, else ``partly_agree``.

Each label carries a one-line reason built from the evidence.
"""

import calendar
import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import Count, Q

from positions.models import (
    DatePrecision,
    Party,
    Proposal,
    Stance,
    Statement,
    StatementTopic,
    Topic,
    format_date_range,
)


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
    CONVERGING = "converging", "Converging"
    PARTLY_AGREE = "partly_agree", "Partly agree"
    DIVERGE = "diverge", "Diverge"
    UNANSWERED = "unanswered", "Unanswered"
    NO_DATA = "no_data", "No data"


FOR = {Position.SUPPORTS, Position.CONDITIONAL}
TAKEN = {
    Position.SUPPORTS,
    Position.CONDITIONAL,
    Position.MIXED,
    Position.UNDECIDED,
    Position.OPPOSES,
}
# The stances that are evidence of a position.
EVIDENCE_STANCES = (Stance.SUPPORTS, Stance.CONDITIONAL, Stance.UNDECIDED, Stance.OPPOSES)


def summarise(stances):
    """The position that stance-bearing evidence adds up to: ``stances`` counts them by
    stance (a Counter, or any iterable of stances). None for no evidence."""
    counts = Counter(stances) if not isinstance(stances, Counter) else stances
    supports, conditional = counts[Stance.SUPPORTS], counts[Stance.CONDITIONAL]
    against = counts[Stance.OPPOSES]
    if supports + conditional and against:
        return Position.MIXED
    if against:
        return Position.OPPOSES
    if supports + conditional:
        return Position.CONDITIONAL if conditional >= supports else Position.SUPPORTS
    if counts[Stance.UNDECIDED]:
        return Position.UNDECIDED
    return None


def last_day(day, precision):
    """The last day a partial date covers: the month's last for month precision."""
    if precision == DatePrecision.MONTH:
        return day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if precision == DatePrecision.YEAR:
        return day.replace(month=12, day=31)
    return day


@dataclass
class Evidence:
    """Statements of one side on one topic with the same dates and stance."""

    stance: str
    count: int
    first: datetime.date | None = None  # None: undated
    last: datetime.date | None = None
    shown: str = "date unknown"

    @classmethod
    def of(cls, stance, count, stated_on, precision, until, until_precision, inferred=False):
        if stated_on is None:
            return cls(stance, count)
        last = last_day(until, until_precision) if until else last_day(stated_on, precision)
        shown = format_date_range(stated_on, precision, until, until_precision)
        return cls(stance, count, stated_on, last, shown + (" (inferred)" if inferred else ""))


@dataclass
class Stage:
    """A side's position over one period: the latest first in Cell.stages."""

    position: str
    count: int
    first: datetime.date | None
    last: datetime.date | None
    shown: str

    @property
    def position_label(self):
        return Position(self.position).label


def stages(evidence):
    """
    A side's positions in time, newest first: the current one, then each earlier period.
    A period is the evidence whose days reach the latest start date among what is left;
    the periods before are cut off the same way. Undated evidence makes a stage of its own
    only when there is no dated evidence.
    """
    dated = [e for e in evidence if e.first is not None]
    if not dated:
        counts = Counter()
        for e in evidence:
            counts[e.stance] += e.count
        position = summarise(counts)
        if position is None:
            return []
        return [Stage(position, sum(counts.values()), None, None, "undated")]
    found, left = [], sorted(dated, key=lambda e: (e.first, e.last))
    while left:
        latest = left[-1]
        current = [e for e in left if e.last >= latest.first]
        left = [e for e in left if e.last < latest.first]
        counts = Counter()
        for e in current:
            counts[e.stance] += e.count
        shown = max(current, key=lambda e: (e.first, e.last)).shown
        stage = Stage(
            summarise(counts),
            sum(counts.values()),
            min(e.first for e in current),
            max(e.last for e in current),
            shown,
        )
        if found and found[-1].position == stage.position:
            # The same position over two periods is one stage.
            merged = found[-1]
            merged.count += stage.count
            merged.first = stage.first
        else:
            found.append(stage)
    return found


def agreement(positions):
    """The agreement label for the current positions of all parties on one topic."""
    taken = [p for p in positions if p in TAKEN]
    if not taken:
        return Agreement.NO_DATA
    if len(taken) == 1:
        return Agreement.UNANSWERED
    if any(p in FOR for p in taken) and Position.OPPOSES in taken:
        return Agreement.DIVERGE
    if all(p == Position.SUPPORTS for p in taken) or all(p == Position.OPPOSES for p in taken):
        return Agreement.AGREE
    return Agreement.PARTLY_AGREE


def agreement_in_time(cells):
    """The label for the cells' current positions, ``converging`` where the sides
    diverged before the latest change."""
    label = agreement([cell.position for cell in cells])
    if label == Agreement.PARTLY_AGREE and any(cell.changed for cell in cells):
        before = [cell.previous or cell.position for cell in cells]
        if agreement(before) == Agreement.DIVERGE:
            return Agreement.CONVERGING
    return label


def plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# A position as said of a side: "Russia supports", "the US is undecided".
STATED = {
    Position.SUPPORTS: "supports",
    Position.CONDITIONAL: "supports with conditions",
    Position.MIXED: "is mixed (for and against)",
    Position.UNDECIDED: "is undecided",
    Position.OPPOSES: "opposes",
}


@dataclass
class Cell:
    party: object
    statements: list = field(default_factory=list)  # the first ones, or all without a limit
    proposals: list = field(default_factory=list)
    position: str = Position.NO_DATA
    statement_count: int = 0
    proposal_count: int = 0
    stages: list = field(default_factory=list)  # Stage, newest first: current, then history
    joint_count: int = 0  # joint claims about both sides, not counted in the position

    @property
    def position_label(self):
        return Position(self.position).label

    @property
    def more_statements(self):
        return self.statement_count > len(self.statements)

    @property
    def current(self):
        return self.stages[0] if self.stages else None

    @property
    def history(self):
        return self.stages[1:]

    @property
    def previous(self):
        return self.stages[1].position if len(self.stages) > 1 else None

    @property
    def changed(self):
        return self.previous is not None

    @property
    def reason(self):
        """One line on this side, from its evidence."""
        name = self.party.name
        current = self.current
        if current is None:
            if self.statement_count or self.proposal_count:
                return f"{name} has stated no position"
            return f"{name} has not answered"
        evidence = plural(current.count, "statement")
        when = f"latest {current.shown}" if current.first else "undated"
        line = f"{name} {STATED[current.position]} ({evidence}, {when})"
        if self.changed:
            before = self.stages[1]
            line += f", changed from {STATED[before.position]} ({before.shown})"
        return line


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
    def reason(self):
        """One line saying why the label is what it is."""
        if self.agreement == Agreement.NO_DATA:
            lines = ["No side has stated a position"]
        else:
            lines = [cell.reason for cell in self.cells]
        joint = sum(cell.joint_count for cell in self.cells)
        if joint:
            lines.append(f"{plural(joint, 'joint claim')} about both sides, not counted")
        return "; ".join(lines) + "."

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
    ``offset`` on (all without a limit), the evidence that carries its position first and
    newest first (see models.lead_rank); proposals in date order. Every statement
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
    counts = defaultdict(int)  # every statement, by cell
    joint = defaultdict(int)
    evidence = defaultdict(list)
    for (
        topic_id,
        party_id,
        stance,
        is_joint,
        stated_on,
        precision,
        until,
        until_precision,
        inferred,
        count,
    ) in (
        links.values_list(
            "topic_id",
            "party_id",
            "stance",
            "joint",
            "stated_on",
            "stated_on_precision",
            "stated_until",
            "stated_until_precision",
            "date_inferred",
        )
        .annotate(n=Count("pk"))
        .order_by()
    ):
        key = (topic_id, party_id)
        counts[key] += count
        if is_joint:
            joint[key] += count
        elif stance in EVIDENCE_STANCES:
            evidence[key].append(
                Evidence.of(stance, count, stated_on, precision, until, until_precision, inferred)
            )

    party_ids = [party.pk for party in parties] + ([None] if analysis else [])
    # The evidence that carries each side's position first, newest first (lead_rank()).
    lead = ("lead_rank", "-sort_date", "-statement_id")
    ordered = links.order_by(*lead).values_list("statement_id")
    cells = [
        ((topic.pk, party_id), ordered.filter(topic_id=topic.pk, party_id=party_id))
        for topic in topics
        for party_id in party_ids
    ]
    if limit is None:
        chosen = defaultdict(list)
        for topic_id, party_id, statement_id in links.order_by(*lead).values_list(
            "topic_id", "party_id", "statement_id"
        ):
            if party_id in party_ids:
                chosen[topic_id, party_id].append((statement_id,))
    else:
        chosen = first_per_cell(cells, limit, offset)
    by_id = by_pk(
        Statement.objects.select_related(
            "actor", "party", "meeting", "proposal", "holder", "source"
        ).defer("source__text"),
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
        Proposal.objects.select_related(
            "party", "actor", "reported_by", "meeting"
        ).prefetch_related("parameters"),
        {row[0] for rows in proposal_ids.values() for row in rows},
    )

    rows = []
    for topic in topics:
        row_cells = []
        for party in parties:
            key = (topic.pk, party.pk)
            cell = Cell(
                party=party,
                statements=[by_id[row[0]] for row in chosen[key]],
                proposals=[proposal_by_id[row[0]] for row in proposal_ids[key]],
                statement_count=counts[key],
                proposal_count=proposal_counts.get(key, 0),
                stages=stages(evidence[key]),
                joint_count=joint[key],
            )
            if cell.stages:
                cell.position = cell.stages[0].position
            elif cell.statement_count or cell.proposal_count:
                cell.position = Position.NEUTRAL
            row_cells.append(cell)
        rows.append(
            Row(
                topic=topic,
                cells=row_cells,
                analysis=[by_id[row[0]] for row in chosen[topic.pk, None]],
                analysis_count=counts[topic.pk, None],
                agreement=agreement_in_time(row_cells),
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


@dataclass
class Thread:
    """One proposal or declared intention on a topic, and what each side said to it."""

    proposal: object
    put_forward: list  # the proposing side's statements on it, in time order
    responses: list  # the other side's, in time order

    @property
    def answered(self):
        return bool(self.responses)


def exchange(topic, limit=None):
    """
    The thread of proposals and responses on a topic in time order: each proposal (or
    declared intention) with the statements that put it forward and the other side's
    answers, "no answer yet" where there is none. Two queries, however many there are.
    """
    proposals = list(
        Proposal.objects.filter(topics=topic)
        .select_related("party", "actor", "reported_by", "meeting")
        .order_by(models.F("proposed_on").asc(nulls_last=True), "pk")[:limit]
    )
    said = defaultdict(list)
    for statement in (
        Statement.objects.filter(proposal__in=proposals)
        .select_related("actor", "party", "holder", "source", "meeting")
        .defer("source__text")
        .order_by(models.F("stated_on").asc(nulls_last=True), "source_id", "start", "pk")
    ):
        said[statement.proposal_id].append(statement)
    return [
        Thread(
            proposal=proposal,
            put_forward=[s for s in said[proposal.pk] if s.party_id == proposal.party_id],
            responses=[
                s for s in said[proposal.pk] if s.party_id and s.party_id != proposal.party_id
            ],
        )
        for proposal in proposals
    ]
