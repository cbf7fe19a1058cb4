from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from positions import caching, charts
from positions.comparison import (
    STATEMENT_ONLY_FILTERS,
    compare,
    compare_filtered,
    filtered_proposals,
)
from positions.editorial import visible_statements
from positions.filters import StatementFilter
from positions.models import (
    Actor,
    Meeting,
    Party,
    Proposal,
    Source,
    Statement,
    Topic,
)

CELL_LIMIT = 4  # statements shown per dashboard cell before "all N statements"


@require_GET
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


@require_GET
def statement_detail(request, pk):
    statement = get_object_or_404(
        Statement.objects.select_related(
            "actor", "party", "source", "meeting__parent", "proposal__party"
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
        "citation": statement.citation(request.build_absolute_uri(statement.get_absolute_url())),
    }
    return render(request, "positions/statement_detail.html", context)


@require_GET
def source_list(request):
    sources = Source.objects.defer("text").annotate(statement_count=Count("statements"))
    return render(request, "positions/source_list.html", {"sources": sources})


@require_GET
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


@require_GET
def meeting_list(request):
    statements = Statement.objects.select_related("actor", "party").order_by("start", "pk")
    meetings = (
        Meeting.objects.prefetch_related(
            "participants__party", Prefetch("statements", queryset=statements)
        )
        .select_related("source")
        .defer("source__text")
        .order_by("starts_on", "pk")
    )
    children = {}
    for meeting in meetings:
        children.setdefault(meeting.parent_id, []).append(meeting)
    for meeting in meetings:
        meeting.nested = children.get(meeting.pk, [])
    context = {
        "meetings": children.get(None, []),
        "longest": max((m.longest_minutes for m in meetings), default=0),
    }
    return render(request, "positions/meeting_list.html", context)


@require_GET
def proposal_list(request):
    responses = Statement.objects.select_related("actor", "party").order_by("stated_on", "pk")
    proposals = (
        Proposal.objects.select_related("party", "actor", "meeting")
        .prefetch_related("parameters", "topics", Prefetch("statements", queryset=responses))
        .order_by("party__sort_order", "proposed_on", "pk")
    )
    parties = list(Party.objects.all())
    groups = [(party, [p for p in proposals if p.party_id == party.pk]) for party in parties]
    context = {
        "groups": groups,
        "chart": charts.ceilings_chart(proposals, parties),
    }
    return render(request, "positions/proposal_list.html", context)


@require_GET
def actor_list(request):
    actors = Actor.objects.select_related("party").annotate(statement_count=Count("statements"))
    return render(request, "positions/actor_list.html", {"actors": actors})


@require_GET
def actor_detail(request, slug):
    actor = get_object_or_404(Actor.objects.select_related("party"), slug=slug)
    statements = (
        actor.statements.select_related("meeting", "proposal", "party", "actor")
        .prefetch_related("topics")
        .order_by("stated_on", "source_id", "start", "pk")
    )
    by_topic = {}
    for statement in statements:
        for topic in statement.topics.all():
            by_topic.setdefault(topic, []).append(statement)
    context = {
        "actor": actor,
        "by_topic": sorted(by_topic.items(), key=lambda item: (item[0].sort_order, item[0].name)),
        "statement_count": len(statements),
        "meetings": actor.meetings.order_by("starts_on", "pk"),
        "proposals": actor.proposals.select_related("party").prefetch_related("parameters"),
    }
    return render(request, "positions/actor_detail.html", context)


@require_GET
@vary_on_headers("HX-Request")
def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    filterset = StatementFilter(request.GET, queryset=Statement.objects.all())
    valid = filterset.is_valid()
    parties = list(Party.objects.all())
    statements = filterset.qs if valid else Statement.objects.none()
    active = filterset.active if valid else {}
    (row,) = compare(
        statements,
        [topic],
        parties,
        proposals=filtered_proposals(active),
        # The page shows every party: a party filter narrows the statements.
        filtered=not valid or bool(active.keys() - {"topic"}),
    )
    context = {
        "topic": topic,
        "row": row,
        "filterset": filterset,
        "active": filterset.active,
        "timeline": charts.stance_timeline(row),
    }
    template = "positions/topic_detail.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context, status=200 if valid else 400)
