from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from positions import caching, charts
from positions.comparison import (
    STATEMENT_ONLY_FILTERS,
    by_pk,
    compare,
    compare_filtered,
    exchange,
    filtered_proposals,
    first_per_cell,
)
from positions.editorial import visible_statements
from positions.filters import StatementFilter
from positions.models import (
    Actor,
    Meeting,
    MeetingRelation,
    Party,
    Proposal,
    Source,
    Statement,
    Topic,
)
from positions.paging import page_holding, page_of

CELL_LIMIT = 4  # statements shown per dashboard cell before "all N statements"
SOURCES_PER_PAGE = 50
MEETINGS_PER_PAGE = 20
PROPOSALS_PER_PAGE = 30
STATEMENTS_PER_PAGE = 50
LISTED_PER_ACTOR = 50  # meetings and proposals listed on an actor's page
TOPIC_PAGE_SIZE = 50  # statements of each side on a topic's page
STATEMENTS_PER_MEETING = 10


@require_safe
@vary_on_headers("HX-Request")
def dashboard(request):
    filterset = StatementFilter(request.GET, queryset=Statement.objects.all())
    active = filterset.active
    valid = filterset.is_valid()
    # Computed only when the cached fragments that show them are not in the cache.
    comparison = caching.lazy(
        lambda: compare_filtered(filterset, limit=CELL_LIMIT) if valid else ([], [])
    )
    context = {
        "filterset": filterset,
        "active": active,
        "rows": caching.lazy(lambda: comparison[0]),
        "statement_total": caching.lazy(lambda: filterset.qs.count() if valid else 0),
        "parties": caching.lazy(lambda: comparison[1]),
        "proposals_hidden": bool(STATEMENT_ONLY_FILTERS & active.keys()),
        "fragment_key": caching.fragment_key(request),
        "fragment_seconds": caching.FRAGMENT_SECONDS,
    }
    template = "positions/dashboard.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context, status=200 if valid else 400)


@require_safe
def statement_detail(request, pk):
    statement = get_object_or_404(
        Statement.objects.select_related(
            "actor",
            "party",
            "holder",
            "source__original",
            "meeting__parent",
            "proposal__party",
            "condition_topic",
            "condition_proposal",
        ).prefetch_related("topics"),
        pk=pk,
    )
    paragraph_start, paragraph_end = statement.paragraph_bounds
    text = statement.source.text
    neighbours = [
        (topic, statement.neighbour_on(topic, -1), statement.neighbour_on(topic, +1))
        for topic in statement.topics.all()
    ]
    context = {
        "statement": statement,
        "before": text[paragraph_start : statement.start],
        "after": text[statement.end : paragraph_end],
        "neighbours": neighbours,
        "topic_stances": statement.topic_links.exclude(stance_override="").select_related("topic"),
        "citation": statement.citation(request.build_absolute_uri(statement.get_absolute_url())),
    }
    return render(request, "positions/statement_detail.html", context)


@require_safe
def source_list(request):
    sources = (
        Source.objects.defer("text")
        .annotate(statement_count=Count("statements"))
        .order_by(*Source._meta.ordering)
    )
    page = page_of(request, sources, SOURCES_PER_PAGE)
    return render(request, "positions/source_list.html", {"sources": page, "page": page})


@require_safe
def source_detail(request, pk):
    source = get_object_or_404(Source, pk=pk)
    statements = visible_statements(source)
    context = {
        "source": source,
        "paragraphs": source.highlighted_paragraphs(statements),
        "statements": statements,
        "awaiting_review": source.statements.filter(needs_review=True).count(),
    }
    return render(request, "positions/source_detail.html", context)


@require_safe
def meeting_list(request):
    """Top-level meetings a page at a time, each with what it contained, in date order."""
    meetings = Meeting.objects.filter(parent=None).order_by("starts_on", "pk")
    ids = meetings.values_list("pk", flat=True)
    number = None
    if "at" in request.GET:  # a link to one meeting: the page that shows it
        meeting = get_object_or_404(Meeting, slug=request.GET["at"])
        while meeting.parent_id:
            meeting = meeting.parent
        number = page_holding(ids, meeting.pk, MEETINGS_PER_PAGE)
    page = page_of(request, ids, MEETINGS_PER_PAGE, number=number)
    level = meetings_with_details(Meeting.objects.filter(pk__in=list(page)))
    top, everything = level, list(level)
    while level:  # the meetings within them, a level at a time
        level = meetings_with_details(Meeting.objects.filter(parent__in=level))
        everything += level
    children = {}
    for meeting in everything:
        children.setdefault(meeting.parent_id, []).append(meeting)
    for meeting in everything:
        meeting.nested = children.get(meeting.pk, [])
    context = {
        "meetings": top,
        "page": page,
        "longest": max((m.longest_minutes for m in everything), default=0),
    }
    return render(request, "positions/meeting_list.html", context)


def meetings_with_details(meetings):
    """Meetings with their participants, statement count and first statements."""
    meetings = list(
        meetings.prefetch_related("participants__party")
        .annotate(
            statement_count=Count("statements"),
            said_count=Count(
                "statements", filter=Q(statements__meeting_relation=MeetingRelation.SAID_AT)
            ),
            about_count=Count(
                "statements", filter=Q(statements__meeting_relation=MeetingRelation.ABOUT)
            ),
        )
        .select_related("source")
        .defer("source__text")
        .order_by("starts_on", "pk")
    )
    # What was said at the meeting first ("said_at" sorts before "about"), then what is
    # said about it, each in the order of the source.
    ordered = Statement.objects.order_by("-meeting_relation", "start", "pk").values_list("pk")
    first = first_per_cell(
        [
            (meeting.pk, ordered.filter(meeting=meeting.pk))
            for meeting in meetings
            if meeting.statement_count
        ],
        STATEMENTS_PER_MEETING,
    )
    statements = by_pk(
        Statement.objects.select_related("actor", "party"),
        [row[0] for rows in first.values() for row in rows],
    )
    for meeting in meetings:
        meeting.first_statements = [statements[row[0]] for row in first.get(meeting.pk, [])]
    return meetings


@require_safe
def proposal_list(request):
    responses = Statement.objects.select_related("actor", "party").order_by("stated_on", "pk")
    proposals = (
        Proposal.objects.select_related("party", "actor", "reported_by", "meeting")
        .prefetch_related("parameters", "topics", Prefetch("statements", queryset=responses))
        .order_by("party__sort_order", "proposed_on", "pk")
    )
    number = None
    if "at" in request.GET:  # a link to one proposal: the page that shows it
        proposal = get_object_or_404(Proposal, slug=request.GET["at"])
        ids = proposals.values_list("pk", flat=True)
        number = page_holding(ids, proposal.pk, PROPOSALS_PER_PAGE)
    page = page_of(request, proposals, PROPOSALS_PER_PAGE, number=number)
    proposals = list(page)
    parties = list(Party.objects.all())
    groups = [(party, [p for p in proposals if p.party_id == party.pk]) for party in parties]
    context = {
        "groups": groups,
        "chart": charts.ceilings_chart(proposals, parties),
        "page": page,
    }
    return render(request, "positions/proposal_list.html", context)


@require_safe
def actor_list(request):
    actors = Actor.objects.select_related("party").annotate(statement_count=Count("statements"))
    return render(request, "positions/actor_list.html", {"actors": actors})


@require_safe
def actor_detail(request, slug):
    actor = get_object_or_404(Actor.objects.select_related("party"), slug=slug)
    statements = (
        actor.statements.select_related(
            "meeting", "proposal", "party", "actor", "holder", "source"
        )
        .defer("source__text")
        .prefetch_related("topics")
        .order_by("stated_on", "source_id", "start", "pk")
    )
    page = page_of(request, statements, STATEMENTS_PER_PAGE)
    by_topic = {}
    for statement in page:
        for topic in statement.topics.all():
            by_topic.setdefault(topic, []).append(statement)
    context = {
        "actor": actor,
        "by_topic": sorted(by_topic.items(), key=lambda item: (item[0].sort_order, item[0].name)),
        "statement_count": page.paginator.count,
        "page": page,
        "meetings": actor.meetings.order_by("starts_on", "pk")[:LISTED_PER_ACTOR],
        "meeting_count": actor.meetings.count(),
        "proposals": actor.proposals.select_related("party").prefetch_related("parameters")[
            :LISTED_PER_ACTOR
        ],
        "proposal_count": actor.proposals.count(),
    }
    return render(request, "positions/actor_detail.html", context)


@require_safe
@vary_on_headers("HX-Request")
def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    filterset = StatementFilter(request.GET, queryset=Statement.objects.all())
    valid = filterset.is_valid()
    parties = list(Party.objects.all())
    statements = filterset.qs if valid else Statement.objects.none()
    active = filterset.active if valid else {}
    raw = request.GET.get("page", "1")
    if not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
        raise Http404("A page number is a whole number from 1.")
    number = int(raw)
    (row,) = compare(
        statements,
        [topic],
        parties,
        proposals=filtered_proposals(active),
        # Each side's statements a page at a time, side by side.
        limit=TOPIC_PAGE_SIZE,
        offset=(number - 1) * TOPIC_PAGE_SIZE,
        # The page shows every party: a party filter narrows the statements.
        filtered=not valid or bool(active.keys() - {"topic"}),
    )
    largest = max([cell.statement_count for cell in row.cells] + [row.analysis_count, 1])
    page = Paginator(range(largest), TOPIC_PAGE_SIZE)
    if number > page.num_pages:
        raise Http404(f"There are {page.num_pages} page(s).")
    context = {
        "topic": topic,
        "row": row,
        "filterset": filterset,
        "active": filterset.active,
        "timeline": charts.stance_timeline(row),
        "exchange": exchange(topic),
        "page": page.page(number),
    }
    template = "positions/topic_detail.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context, status=200 if valid else 400)
