"""
Synthetic data for benchmarks and scale tests: deterministic, realistic in shape, and
always valid (every quote is the exact text of its source at its offsets).

Scale 1 is 200,000 statements on 5,000 sources of about 8 KB each, by 500 actors, on 50
topics (the number of topics stays the same at every scale, so that a page's queries can
be compared across scales), with proposals (and their numbers) and meetings.

Generated records are marked: sources by their URL (GENERATED_URL), everything else by a
"gen-" slug or a source among the generated ones. The generator refuses to run on a
database that holds anything else unless told to, and never changes what is there: the
seed article's data stays as it was. Rows are written in bulk, without history rows (they
are not editorial work), through plain QuerySets.
"""

import datetime
import hashlib
import random
import sys
from dataclasses import dataclass

from django.db import models, transaction

from positions import caching, quotes
from positions.models import (
    UNDATED,
    Actor,
    ActorKind,
    AppliesTo,
    AttributionKind,
    DatePrecision,
    DismissedSuggestion,
    Limit,
    Meeting,
    MeetingKind,
    MeetingRelation,
    MeetingStatus,
    Party,
    ProposalParameter,
    ProposalStance,
    ProposalStatus,
    Source,
    Stance,
    Statement,
    StatementTopic,
    Topic,
    lead_rank,
)
from positions.models import (
    Proposal as ProposalModel,
)

GENERATED_URL = "https://generated.invalid/"
SLUG_PREFIX = "gen-"
TOPIC_COUNT = 50
BATCH = 2000

FIRST_NAMES = [
    "Sergei", "Igor", "Yuri", "Anatoly", "Nikolai", "Dmitri", "Viktor", "Pavel", "Oleg",
    "Andrei", "John", "Robert", "Condoleezza", "Colin", "Richard", "Stephen", "Thomas",
    "Linda", "Susan", "James", "Michael", "Elena", "Irina", "Ellen", "Rose",
]  # fmt: skip
LAST_NAMES = [
    "Ivanov", "Kozlov", "Mamedov", "Baluyevsky", "Sokolov", "Lavrov", "Rybkin", "Orlov",
    "Bolton", "Powell", "Armitage", "Hadley", "Feith", "Crouch", "Wolfowitz", "Gottemoeller",
    "Tauscher", "Kislyak", "Ryabkov", "Antonov", "Tarasov", "Volkov", "Morozov", "Grant",
]  # fmt: skip
ROLES = [
    "Defense Minister", "Foreign Minister", "Deputy Foreign Minister", "Chief of General Staff",
    "Secretary of Defense", "Secretary of State", "Under Secretary of State",
    "National Security Adviser", "Ambassador", "spokesman", "head of delegation",
]  # fmt: skip
SUBJECTS = [
    "missile defense", "the ABM Treaty", "strategic offensive arms", "warhead ceilings",
    "heavy bombers", "verification", "on-site inspections", "tactical nuclear weapons",
    "the START II treaty", "data exchange", "early warning", "space-based interceptors",
    "sea-launched cruise missiles", "test notifications", "counting rules", "upload capacity",
]  # fmt: skip
TOPIC_HEADS = [
    "Limits on", "Verification of", "Transparency on", "Reductions in", "Deployment of",
    "Testing of", "Notification of", "Dismantling of",
]  # fmt: skip
VERBS = [
    "said", "stressed", "noted", "insisted", "warned", "declared", "explained", "added",
]  # fmt: skip
CLAUSES = [
    "{subject} must remain the cornerstone of strategic stability",
    "the sides are still far apart on {subject}",
    "no agreement on {subject} is possible without reliable verification",
    "{subject} cannot be discussed separately from the other issues",
    "a compromise on {subject} could be reached before the end of the year",
    "the proposal on {subject} deserves careful study",
    "{subject} will be on the agenda of the next round of consultations",
    "there is no reason to hurry with {subject}",
    "experts should meet again to discuss {subject}",
    "the position on {subject} has not changed",
]  # fmt: skip
LOCATIONS = ["Moscow", "Washington", "Geneva", "Vienna", "Helsinki", "Brussels", "Genoa"]


@dataclass(frozen=True)
class Plan:
    statements: int
    sources: int
    actors: int
    topics: int
    meetings: int
    proposals: int

    @classmethod
    def for_scale(cls, scale, topics=TOPIC_COUNT):
        return cls(
            statements=max(20, round(200_000 * scale)),
            sources=max(2, round(5_000 * scale)),
            actors=max(6, round(500 * scale)),
            topics=topics,
            meetings=max(2, round(1_000 * scale)),
            proposals=max(2, round(2_000 * scale)),
        )


class GenerationRefused(Exception):
    pass


class Progress:
    """A progress bar on a terminal; a line per tenth otherwise."""

    def __init__(self, stream, total):
        self.stream, self.total, self.done, self.shown = stream, max(total, 1), 0, -1
        self.tty = getattr(stream, "isatty", lambda: False)()

    def advance(self, label, count):
        self.done += count
        share = min(self.done / self.total, 1)
        if self.tty:
            bar = "#" * int(share * 30)
            self.stream.write(f"\r{label:<12} [{bar:<30}] {share:4.0%}")
            if share >= 1:
                self.stream.write("\n")
            self.stream.flush()
        elif int(share * 10) > self.shown:
            self.shown = int(share * 10)
            self.stream.write(f"{label}: {share:.0%}\n")


def generated_sources():
    return Source.objects.filter(url__startswith=GENERATED_URL)


def check_database(allow_existing):
    if generated_sources().exists():
        raise GenerationRefused(
            "This database already holds generated data; remove it first (--reset)."
        )
    other = Source.objects.exclude(url__startswith=GENERATED_URL).exists()
    if other and not allow_existing:
        raise GenerationRefused(
            "This database holds data that was not generated (such as the seed article). "
            "Generate into an empty database, or pass --allow-existing to add the generated "
            "data beside it; nothing already there is changed."
        )


def reset():
    """
    Remove all generated data, and nothing else: in plain DELETEs, without the per-row
    signals and history rows of an ORM delete (generated rows have no history), children
    before parents.
    """
    sources = list(generated_sources().values_list("pk", flat=True))
    proposals = list(
        models.QuerySet(ProposalModel)
        .filter(slug__startswith=SLUG_PREFIX)
        .values_list("pk", flat=True)
    )
    meetings = list(
        models.QuerySet(Meeting).filter(slug__startswith=SLUG_PREFIX).values_list("pk", flat=True)
    )
    statements = models.QuerySet(Statement).filter(source__in=sources)
    steps = [
        models.QuerySet(StatementTopic).filter(statement__source__in=sources),
        models.QuerySet(DismissedSuggestion).filter(source__in=sources),
        statements,
        models.QuerySet(ProposalParameter).filter(proposal__in=proposals),
        models.QuerySet(ProposalModel.topics.through).filter(proposal__in=proposals),
        models.QuerySet(ProposalModel).filter(pk__in=proposals),
        models.QuerySet(Meeting.participants.through).filter(meeting__in=meetings),
        models.QuerySet(Meeting).filter(pk__in=meetings),
        models.QuerySet(Source).filter(pk__in=sources),
        models.QuerySet(Actor).filter(slug__startswith=SLUG_PREFIX),
        models.QuerySet(Topic).filter(slug__startswith=SLUG_PREFIX),
    ]
    with transaction.atomic():
        for queryset in steps:
            queryset._raw_delete(queryset.db)
        caching.bump()


def generate(scale, seed, *, topics=TOPIC_COUNT, allow_existing=False, stream=sys.stderr):
    """Generate the data for ``scale``; return the Plan that was carried out."""
    check_database(allow_existing)
    plan = Plan.for_scale(scale, topics)
    rng = random.Random(seed)
    progress = Progress(stream, plan.sources + plan.statements)
    with transaction.atomic():
        parties = parties_for_generation()
        topics = make_topics(plan, rng)
        actors = make_actors(plan, rng, parties)
        sources = make_sources(plan, rng, progress)
        meetings = make_meetings(plan, rng, actors, sources)
        proposals = make_proposals(plan, rng, parties, actors, meetings, topics)
        make_statements(plan, rng, sources, actors, topics, meetings, proposals, progress)
        caching.bump()
    return plan


def plain(model):
    """A QuerySet without the audit trail's bulk hooks: generated rows are not edits."""
    return models.QuerySet(model)


def parties_for_generation():
    parties = list(Party.objects.order_by("sort_order", "code")[:2])
    for code, name, order in (("RU", "Russia", 1), ("US", "United States", 2)):
        if len(parties) >= 2:
            break
        if not any(party.code == code for party in parties):
            parties.append(Party.objects.create(code=code, name=name, sort_order=order))
    return parties


def make_topics(plan, rng):
    topics = [
        Topic(
            slug=f"{SLUG_PREFIX}topic-{number}",
            name=f"{TOPIC_HEADS[number % len(TOPIC_HEADS)]} {SUBJECTS[number % len(SUBJECTS)]}"
            f" ({number + 1})",
            description="Generated for benchmarks.",
            sort_order=1000 + number,
        )
        for number in range(plan.topics)
    ]
    return plain(Topic).bulk_create(topics)


def make_actors(plan, rng, parties):
    actors = []
    for number in range(plan.actors):
        author = number % 50 == 0  # an article's author: no side
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        actors.append(
            Actor(
                slug=f"{SLUG_PREFIX}actor-{number}",
                kind=ActorKind.PERSON,
                name=f"{name} {number}",
                party=None if author else parties[number % len(parties)],
                role="correspondent" if author else rng.choice(ROLES),
            )
        )
    return plain(Actor).bulk_create(actors)


# A clause about one sentence in a thousand has: a rare word, for benchmarking search.
RARE_CLAUSE = "the exchange of telemetry on {subject} should be resumed"


def sentence(rng, actor_name):
    template = RARE_CLAUSE if rng.random() < 0.001 else rng.choice(CLAUSES)
    clause = template.format(subject=rng.choice(SUBJECTS))
    if rng.random() < 0.4:
        return f"{actor_name} {rng.choice(VERBS)}, “{clause[0].upper()}{clause[1:]}.”"
    return f"{actor_name} {rng.choice(VERBS)} that {clause}."


def make_sources(plan, rng, progress):
    start_date = datetime.date(1995, 1, 1)
    sources = []
    for number in range(plan.sources):
        paragraphs = []
        while sum(len(p) + 1 for p in paragraphs) < 8000:
            names = [rng.choice(LAST_NAMES) for _ in range(5)]
            paragraphs.append(" ".join(sentence(rng, name) for name in names))
        text = "\n".join(paragraphs) + f"\n[Generated source {number}.]"
        sources.append(
            Source(
                title=f"Generated report {number}: {rng.choice(SUBJECTS)}",
                publisher=rng.choice(["Generated Wire", "Synthetic Daily", "Test Gazette"]),
                published_on=start_date + datetime.timedelta(days=rng.randrange(15 * 365)),
                published_on_precision=DatePrecision.DAY,
                url=f"{GENERATED_URL}{number}",
                text=text,
                sha256=hashlib.sha256(text.encode()).hexdigest(),
            )
        )
        if len(sources) % BATCH == 0:
            progress.advance("sources", BATCH)
    created = []
    for start in range(0, len(sources), 500):
        created += plain(Source).bulk_create(sources[start : start + 500])
    progress.advance("sources", len(sources) % BATCH)
    return created


def make_meetings(plan, rng, actors, sources):
    meetings = []
    for number in range(plan.meetings):
        source = sources[number % len(sources)]
        planned = rng.choice([None, 30, 60, 90, 120])
        meetings.append(
            Meeting(
                slug=f"{SLUG_PREFIX}meeting-{number}",
                title=f"Consultations on {rng.choice(SUBJECTS)} ({number})",
                kind=rng.choice(MeetingKind.values),
                status=rng.choice([MeetingStatus.HELD] * 4 + [MeetingStatus.SCHEDULED]),
                starts_on=source.published_on,
                date_precision=DatePrecision.DAY,
                location=rng.choice(LOCATIONS),
                planned_minutes=planned,
                actual_minutes=planned and planned + rng.choice([-15, 0, 0, 30, 45]),
                source=source,
            )
        )
    meetings = plain(Meeting).bulk_create(meetings)
    Participants = Meeting.participants.through
    links = [
        Participants(meeting_id=meeting.pk, actor_id=actor.pk)
        for meeting in meetings
        for actor in rng.sample(actors, min(3, len(actors)))
    ]
    plain(Participants).bulk_create(links, batch_size=BATCH)
    return meetings


def make_proposals(plan, rng, parties, actors, meetings, topics):
    proposals = []
    for number in range(plan.proposals):
        party = parties[number % len(parties)]
        speakers = [a for a in actors[:50] if a.party_id == party.pk] or [None]
        proposals.append(
            ProposalModel(
                slug=f"{SLUG_PREFIX}proposal-{number}",
                title=f"Proposal on {rng.choice(SUBJECTS)} ({number})",
                party=party,
                actor=rng.choice(speakers),
                meeting=rng.choice(meetings),
                # A generated proposal asks the other side; only a declared intention
                # (never generated) has the status "declared".
                status=rng.choice(
                    [status for status in ProposalStatus.values if status != "declared"]
                ),
                proposed_on=datetime.date(1995, 1, 1)
                + datetime.timedelta(days=rng.randrange(15 * 365)),
            )
        )
    proposals = plain(ProposalModel).bulk_create(proposals)
    parameters = [
        ProposalParameter(
            proposal=proposal,
            quantity=rng.choice(["deployed warheads", "heavy bombers", "launchers"]),
            limit=rng.choice(Limit.values),
            value=rng.choice([0, 50, 100, 700, 1500, 2200, 3500]),
            unit="",
            applies_to=rng.choice(AppliesTo.values),
        )
        for proposal in proposals
        if rng.random() < 0.5
    ]
    plain(ProposalParameter).bulk_create(parameters, batch_size=BATCH)
    Topics = ProposalModel.topics.through
    links = [
        Topics(proposal_id=proposal.pk, topic_id=rng.choice(topics).pk) for proposal in proposals
    ]
    plain(Topics).bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
    return proposals


def sentence_spans(text):
    """(start, end) of every sentence of a generated text, closing quotation mark included."""
    spans, start = [], 0
    for index, character in enumerate(text):
        if character in ".”" and (index + 1 == len(text) or text[index + 1] in " \n"):
            if character == "." and index + 1 < len(text) and text[index + 1] == "”":
                continue
            spans.append((start, index + 1))
            start = index + 2
    return [(a, b) for a, b in spans if b - a > 20]


def make_statements(plan, rng, sources, actors, topics, meetings, proposals, progress):
    speakers = [actor for actor in actors if actor.party_id is not None]
    authors = [actor for actor in actors if actor.party_id is None]
    per_source, extra = divmod(plan.statements, len(sources))
    pending = []
    for index, source in enumerate(sources):
        spans = sentence_spans(source.text)
        wanted = min(per_source + (1 if index < extra else 0), len(spans))
        for start, end in rng.sample(spans, wanted):
            analysis = authors and rng.random() < 0.05
            actor = rng.choice(authors if analysis else speakers)
            anchor = quotes.anchor_at(source.text, start, end)
            quote = source.text[start:end]
            proposal = rng.choice(proposals) if rng.random() < 0.1 else None
            meeting = rng.choice(meetings) if rng.random() < 0.2 else None
            stance = rng.choice(Stance.values)
            # A conditional stance states its condition: here, the sentence's first words.
            condition = quote[: min(40, len(quote))] if stance == Stance.CONDITIONAL else ""
            pending.append(
                (
                    Statement(
                        actor=actor,
                        party_id=actor.party_id,
                        source=source,
                        quote=quote,
                        start=start,
                        end=end,
                        prefix=anchor.prefix,
                        suffix=anchor.suffix,
                        source_sha256=source.sha256,
                        stance=stance,
                        condition_quote=condition,
                        condition_start=start if condition else None,
                        condition_end=start + len(condition) if condition else None,
                        kind=AttributionKind.ANALYSIS
                        if analysis
                        else (
                            AttributionKind.DIRECT_QUOTE
                            if quote.endswith("”")
                            else AttributionKind.REPORTED
                        ),
                        stated_on=source.published_on,
                        stated_on_precision=DatePrecision.DAY,
                        meeting=meeting,
                        meeting_relation=MeetingRelation.SAID_AT if meeting else "",
                        proposal=proposal,
                        proposal_stance=rng.choice(ProposalStance.values) if proposal else "",
                    ),
                    rng.sample(topics, rng.choice([1, 1, 2])),
                )
            )
            if len(pending) >= BATCH:
                write_statements(pending)
                progress.advance("statements", len(pending))
                pending = []
    if pending:
        write_statements(pending)
        progress.advance("statements", len(pending))


def write_statements(pending):
    statements = plain(Statement).bulk_create([statement for statement, _ in pending])
    links = [
        StatementTopic(
            statement_id=statement.pk,
            topic_id=topic.pk,
            party_id=statement.party_id,
            stance=statement.stance,
            sort_date=statement.stated_on or UNDATED,
            stated_on=statement.stated_on,
            stated_on_precision=statement.stated_on_precision,
            stated_until=statement.stated_until,
            stated_until_precision=statement.stated_until_precision,
            date_inferred=statement.date_inferred,
            joint=statement.joint,
            kind=statement.kind,
            lead_rank=lead_rank(
                statement.stance, statement.kind, statement.joint, statement.stated_on
            ),
            source_id=statement.source_id,
            start=statement.start,
        )
        for statement, (_, chosen) in zip(statements, pending, strict=True)
        for topic in chosen
    ]
    plain(StatementTopic).bulk_create(links)
