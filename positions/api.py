"""
REST API v1. Reads are public; writes need an editor's model permissions; every update
names the version it was based on (If-Match), and nothing is saved over a newer one.
"""

import csv
import re
from collections import defaultdict

import orjson
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.db.models.deletion import ProtectedError
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django_filters import utils as filter_utils
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, filters, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.response import Response

from positions import caching
from positions.comparison import (
    STATEMENT_ONLY_FILTERS,
    Agreement,
    Position,
    compare_filtered,
    exchange,
)
from positions.filters import (
    NO_MATCH,
    ActorFilter,
    ApiStatementFilter,
    MeetingFilter,
    ProposalFilter,
)
from positions.models import (
    Actor,
    AttributionKind,
    Certainty,
    DatePrecision,
    Meeting,
    MeetingRelation,
    Party,
    Proposal,
    ProposalKind,
    ProposalStatus,
    Source,
    StaleVersion,
    Stance,
    Statement,
    StatementTopic,
    Topic,
)
from positions.rest import (
    MAX_PAGE_SIZE,
    SEARCH_COUNT_CAP,
    CappedCount,
    Conflict,
    PreconditionFailed,
    PreconditionRequired,
)
from positions.serializers import (
    ActorSerializer,
    MeetingSerializer,
    PartySerializer,
    ProposalSerializer,
    SourceDetailSerializer,
    SourceSerializer,
    StatementSerializer,
    TopicSerializer,
)


class StrictOrderingFilter(filters.OrderingFilter):
    """Ordering by an allowlist; an unknown field is a 400, not silently ignored."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if not raw:
            return self.get_default_ordering(view)
        allowed = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
        fields = raw.split(",")
        unknown = [term for term in fields if term.lstrip("-") not in allowed]
        if unknown:
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot order by {', '.join(unknown)}; use one of "
                        f"{', '.join(sorted(allowed))}, with - for descending."
                    ]
                }
            )
        return fields + ["pk"]

    def get_schema_operation_parameters(self, view):
        names = sorted(getattr(view, "ordering_fields", None) or [])
        term = f"-?({'|'.join(map(re.escape, names))})"
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Sort by {', '.join(names)}: one or more, comma-separated, each with - "
                    "for descending. Any other field is a 400."
                ),
                "schema": {"type": "string", "pattern": f"^({term}(,{term})*)?$"},
            }
        ]


# Versions


# "3" as sent back from the ETag; W/"3" and a bare 3 are taken too.
ETAG = re.compile(r'^(?:W/)?(?:"([0-9]{1,18})"|([0-9]{1,18}))$')


def etag(obj):
    return f'"{obj.version}"'


class VersionedModelViewSet(viewsets.ModelViewSet):
    """
    Updates need If-Match with the ETag (the version) the change is based on: without it,
    428; with an older one, 412 and the current record. Deleting a record that statements
    cite answers 409.
    """

    permission_classes = [permissions.DjangoModelPermissionsOrAnonReadOnly]
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]

    def expected_version(self):
        header = self.request.headers.get("If-Match")
        if header is None:
            raise PreconditionRequired()
        match = ETAG.match(header.strip())
        if not match:
            raise exceptions.ValidationError(
                {"If-Match": ['Give one version as a quoted number, e.g. "3".']}
            )
        return int(match.group(1) or match.group(2))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action in ("update", "partial_update"):
            context["expected_version"] = self.expected_version()
        return context

    def filter_queryset(self, queryset):
        # The list's filters narrow the list; one record is found by its id alone.
        return queryset if self.detail else super().filter_queryset(queryset)

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = f'"{response.data["version"]}"'
        return response

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response["ETag"] = f'"{response.data["version"]}"'
        return response

    def update(self, request, *args, **kwargs):
        self.expected_version()  # 428 before any validation work
        try:
            response = super().update(request, *args, **kwargs)
        except StaleVersion as stale:
            current = self.get_object()
            raise PreconditionFailed(
                f"Someone saved this record after the version you edited; it is now at "
                f"version {current.version}. Re-read it, reapply your change and send it "
                "with the new ETag.",
                current=self.get_serializer(current).data,
                etag=etag(current),
            ) from stale
        instance = self.get_object()
        response.data = self.get_serializer(instance).data
        response["ETag"] = etag(instance)
        return response

    def perform_destroy(self, instance):
        header = self.request.headers.get("If-Match")
        with transaction.atomic():
            instance.lock_before_edit()
            if header is not None:
                expected = self.expected_version()
                # Locked until the delete commits, so that no save can slip in between.
                current = (
                    type(instance)
                    ._base_manager.select_for_update()
                    .filter(pk=instance.pk)
                    .values_list("version", flat=True)
                    .first()
                )
                if current != expected:
                    raise PreconditionFailed(
                        f"This record is at version {current}, not {expected}, the one you "
                        "sent; re-read it before deleting it."
                    )
            try:
                instance.delete()
            except ProtectedError as error:
                raise Conflict(
                    f"“{instance}” cannot be deleted: {citations(error)} refer to it. Change "
                    "or delete them first."
                ) from error


def citations(error):
    """What a ProtectedError says still refers to the record, counted by kind."""
    counts = {}
    for obj in error.protected_objects:
        # A topic is cited through its links to statements: count the statements.
        meta = Statement._meta if isinstance(obj, StatementTopic) else obj._meta
        names = (str(meta.verbose_name), str(meta.verbose_name_plural))
        counts[names] = counts.get(names, 0) + 1
    return ", ".join(
        f"{count} {plural if count > 1 else singular}"
        for (singular, plural), count in sorted(counts.items())
    )


# Exports


# What a spreadsheet may take for the start of a formula, full-width forms included
# (some East Asian input methods type those, and some spreadsheets accept them).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value):
    """Spreadsheets run a cell that starts like a formula, also after leading spaces; an
    apostrophe stops that."""
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_START) else text


class Echo:
    def write(self, value):
        return value


def csv_response(filename, header, rows):
    writer = csv.writer(Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([safe_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


ANNOTATION_CONTEXT = "http://www.w3.org/ns/anno.jsonld"


def annotation(statement, request):
    """A statement as a W3C Web Annotation whose target is the exact span of its source."""
    topics = [topic.slug for topic in statement.topics.all()]
    side = (
        statement.party.name
        if statement.party_id
        else f"no side ({statement.get_kind_display().lower()})"
    )
    description = (
        f"{statement.actor.name} ({side}): {statement.get_kind_display().lower()}, "
        f"stance {statement.get_stance_display().lower()}"
    )
    if statement.certainty != Certainty.FIRM:
        description += f" ({statement.get_certainty_display().lower()})"
    if statement.condition_quote:
        description += f"; condition: “{statement.condition_quote}”"
    if statement.holder_id:
        description += f"; the position of {statement.holder.name}"
    if statement.joint:
        description += "; a joint claim about both sides"
    description += f"; {statement.stated_on_display}"
    if statement.meeting_id:
        description += f", {statement.meeting_display}"
    if statement.source.translated_from:
        description += f"; the source is {statement.source.translation_display}"
    return {
        "@context": ANNOTATION_CONTEXT,
        "id": request.build_absolute_uri(statement.get_absolute_url()),
        "type": "Annotation",
        "motivation": "describing",
        "created": statement.created_at.isoformat(),
        "modified": statement.updated_at.isoformat(),
        "body": [
            {
                "type": "TextualBody",
                "purpose": "describing",
                "value": description,
                "format": "text/plain",
                "language": "en",
            },
            *({"type": "TextualBody", "purpose": "tagging", "value": slug} for slug in topics),
        ],
        "target": {
            "source": request.build_absolute_uri(
                reverse("positions:source-detail", args=[statement.source_id])
            ),
            "selector": [
                {
                    "type": "TextQuoteSelector",
                    "exact": statement.quote,
                    "prefix": statement.prefix,
                    "suffix": statement.suffix,
                },
                {
                    "type": "TextPositionSelector",
                    "start": statement.start,
                    "end": statement.end,
                },
            ],
        },
    }


# Resources


class PartyViewSet(VersionedModelViewSet):
    """The sides in the talks."""

    queryset = Party.objects.all()
    serializer_class = PartySerializer
    ordering_fields = ["code", "name", "sort_order"]


class ActorViewSet(VersionedModelViewSet):
    """People and institutions, with their party and role as the source states it."""

    queryset = Actor.objects.select_related("party")
    serializer_class = ActorSerializer
    filterset_class = ActorFilter
    ordering_fields = ["name", "slug", "id"]


def exchange_statement(statement, request):
    return {
        "id": statement.pk,
        "party": statement.party.code,
        "actor": {"id": statement.actor_id, "name": statement.actor.name},
        "quote": statement.quote,
        "kind": statement.kind,
        "proposal_stance": statement.proposal_stance,
        "stated_on": statement.stated_on,
        "stated_on_precision": statement.stated_on_precision,
        "shown_date": statement.stated_on_display,
        "url": request.build_absolute_uri(statement.get_absolute_url()),
    }


EXCHANGE_STATEMENT_SCHEMA = {
    "type": "object",
    "required": ["id", "party", "actor", "quote", "kind", "proposal_stance", "url"],
    "properties": {
        "id": {"type": "integer"},
        "party": {"type": "string"},
        "actor": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "quote": {"type": "string"},
        "kind": {"type": "string", "enum": AttributionKind.values},
        "proposal_stance": {"type": "string"},
        "stated_on": {"type": "string", "format": "date", "nullable": True},
        "stated_on_precision": {"type": "string", "enum": DatePrecision.values},
        "shown_date": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
    },
}


class TopicViewSet(VersionedModelViewSet):
    """The issues; each description says what "supports" means on it."""

    queryset = Topic.objects.all()
    serializer_class = TopicSerializer
    ordering_fields = ["sort_order", "name", "slug"]

    @extend_schema(
        responses={
            200: {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["proposal", "put_forward", "responses", "answered"],
                    "properties": {
                        "proposal": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "title": {"type": "string"},
                                "kind": {"type": "string", "enum": ProposalKind.values},
                                "party": {"type": "string"},
                                "status": {"type": "string", "enum": ProposalStatus.values},
                                "proposed_on": {
                                    "type": "string",
                                    "format": "date",
                                    "nullable": True,
                                },
                                "shown_date": {"type": "string"},
                                "timing": {"type": "string"},
                                "condition": {"type": "string"},
                            },
                        },
                        "put_forward": {"type": "array", "items": EXCHANGE_STATEMENT_SCHEMA},
                        "responses": {"type": "array", "items": EXCHANGE_STATEMENT_SCHEMA},
                        "answered": {"type": "boolean"},
                    },
                },
            }
        }
    )
    @action(detail=True, url_path="exchange", pagination_class=None, filter_backends=[])
    def exchange(self, request, pk=None):
        """The topic's proposals and declared intentions in time order, each with the
        statements that put it forward and the other side's answers (none: no answer yet)."""
        topic = self.get_object()
        return Response(
            [
                {
                    "proposal": {
                        "id": t.proposal.pk,
                        "title": t.proposal.title,
                        "kind": t.proposal.kind,
                        "party": t.proposal.party.code,
                        "status": t.proposal.status,
                        "proposed_on": t.proposal.proposed_on,
                        "shown_date": t.proposal.dates_display,
                        "timing": t.proposal.timing,
                        "condition": t.proposal.condition,
                    },
                    "put_forward": [exchange_statement(s, request) for s in t.put_forward],
                    "responses": [exchange_statement(s, request) for s in t.responses],
                    "answered": t.answered,
                }
                for t in exchange(topic, limit=EXCHANGE_LIMIT)
            ]
        )


class SourceViewSet(VersionedModelViewSet):
    """Sources; the full text (the snapshot quotes anchor to) is in the detail only."""

    queryset = Source.objects.all()
    ordering_fields = ["published_on", "title", "id"]

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.defer("text") if self.action == "list" else queryset

    def get_serializer_class(self):
        return SourceSerializer if self.action == "list" else SourceDetailSerializer


STATEMENT_CSV_HEADER = [
    "id",
    "url",
    "actor",
    "actor_role",
    "party",
    "topics",
    "quote",
    "start",
    "end",
    "review_state",
    "stance",
    "topic_stances",
    "certainty",
    "condition",
    "condition_start",
    "condition_end",
    "kind",
    "holder",
    "joint",
    "stated_on",
    "stated_on_precision",
    "stated_until",
    "stated_until_precision",
    "date_inferred",
    "date_basis",
    "meeting",
    "meeting_relation",
    "proposal",
    "proposal_stance",
    "original_quote",
    "source_id",
    "source_title",
    "source_translated_from",
]


# What the statements list reads for each row, as plain values.
LIST_VALUES = (
    "id",
    "actor_id",
    "actor__name",
    "actor__party__code",
    "source_id",
    "quote",
    "stance",
    "certainty",
    "condition_quote",
    "condition_start",
    "condition_end",
    "condition_topic__slug",
    "condition_proposal_id",
    "kind",
    "holder_id",
    "holder__name",
    "holder__party__code",
    "joint",
    "stated_on",
    "stated_on_precision",
    "stated_until",
    "stated_until_precision",
    "date_inferred",
    "date_basis",
    "meeting_id",
    "meeting_relation",
    "proposal_id",
    "proposal__title",
    "proposal_stance",
    "original_quote",
    "original_start",
    "original_end",
    "note",
    "needs_review",
    "client_reference",
    "version",
    "start",
    "end",
    "prefix",
    "suffix",
)


def iso(day):
    return day.isoformat() if day else None


def listed_statement(row, topics):
    """One statement of the list, as StatementSerializer represents it; ``topics`` is
    (slugs, {slug: stance} where the stance on a topic is its own)."""
    topics, topic_stances = topics
    return {
        "id": row["id"],
        "actor": {
            "id": row["actor_id"],
            "name": row["actor__name"],
            "party": row["actor__party__code"],
        },
        # A statement's party is its actor's (a constraint): one join fewer.
        "party": row["actor__party__code"],
        "topics": topics,
        "source": row["source_id"],
        "quote": row["quote"],
        "stance": row["stance"],
        "topic_stances": topic_stances,
        "certainty": row["certainty"],
        "condition_quote": row["condition_quote"],
        "condition_start": row["condition_start"],
        "condition_end": row["condition_end"],
        "condition_topic": row["condition_topic__slug"],
        "condition_proposal": row["condition_proposal_id"],
        "kind": row["kind"],
        "holder": {
            "id": row["holder_id"],
            "name": row["holder__name"],
            "party": row["holder__party__code"],
        }
        if row["holder_id"]
        else None,
        "joint": row["joint"],
        "stated_on": iso(row["stated_on"]),
        "stated_on_precision": row["stated_on_precision"],
        "stated_until": iso(row["stated_until"]),
        "stated_until_precision": row["stated_until_precision"],
        "date_inferred": row["date_inferred"],
        "date_basis": row["date_basis"],
        "meeting": row["meeting_id"],
        "meeting_relation": row["meeting_relation"],
        "proposal": {
            "id": row["proposal_id"],
            "title": row["proposal__title"],
            "stance": row["proposal_stance"],
        }
        if row["proposal_id"]
        else None,
        "original_quote": row["original_quote"],
        "original_start": row["original_start"],
        "original_end": row["original_end"],
        "note": row["note"],
        "needs_review": row["needs_review"],
        "client_reference": row["client_reference"],
        "version": row["version"],
        # Null while it awaits review: its offsets are then an old text's.
        "selector": None
        if row["needs_review"]
        else {
            "start": row["start"],
            "end": row["end"],
            "prefix": row["prefix"],
            "suffix": row["suffix"],
        },
    }


def topic_slugs(statement_ids):
    """The slugs of each statement's topics, in the topics' order, and its own stances on
    some of them, as (slugs, {slug: stance}) by statement id."""
    found = defaultdict(lambda: ([], {}))
    for statement_id, slug, stance in (
        StatementTopic.objects.filter(statement_id__in=statement_ids)
        .order_by("topic__sort_order", "topic__name")
        .values_list("statement_id", "topic__slug", "stance_override")
    ):
        slugs, stances = found[statement_id]
        slugs.append(slug)
        if stance:
            stances[slug] = stance
    return found


class StatementViewSet(VersionedModelViewSet):
    """Who said what, verbatim, with its place in the source."""

    serializer_class = StatementSerializer
    filterset_class = ApiStatementFilter
    ordering_fields = ["stated_on", "id", "start", "created_at", "updated_at"]
    ordering = ["stated_on", "source_id", "start", "id"]

    def get_queryset(self):
        return (
            Statement.objects.select_related("actor__party", "party", "proposal", "source")
            .defer("source__text")
            .prefetch_related(
                Prefetch("topics", queryset=Topic.objects.only("slug", "sort_order", "name"))
            )
        )

    def list(self, request, *args, **kwargs):
        """
        The page's rows as plain values in one query and their topics in another: the same
        JSON as StatementSerializer gives (a test compares them), at a fraction of the cost
        of building model instances and serializer fields per row. The filters are read
        once, and the count is taken without the joins the rows need.
        """
        filterset = DjangoFilterBackend().get_filterset(request, Statement.objects.all(), self)
        if not filterset.is_valid():
            raise filter_utils.translate_validation(filterset.errors)
        ordering = StrictOrderingFilter()
        topic = filterset.active.get("topic")
        if filterset.active.keys() == {"topic"} and topic is not NO_MATCH:
            # A topic alone: its statements are counted, and read in list order, from its
            # links, which copy what the order needs (one index walk, then 50 joins).
            links = StatementTopic.objects.filter(topic=topic)
            if ordering.ordering_param in request.query_params:
                rows, prefix = self.ordered_rows(ordering, filterset), ""
            else:
                prefix = "statement__"
                rows = links.order_by("stated_on", "source_id", "start", "statement_id").values(
                    *(prefix + name for name in LIST_VALUES)
                )
            rows.count_hint = links.count
        else:
            rows, prefix = self.ordered_rows(ordering, filterset), ""
        page = self.paginate_queryset(rows)
        if prefix:
            page = [{name[len(prefix) :]: value for name, value in row.items()} for row in page]
        topics = topic_slugs([row["id"] for row in page])
        return self.get_paginated_response(
            [listed_statement(row, topics[row["id"]]) for row in page]
        )

    def create(self, request, *args, **kwargs):
        """A new statement; one sent again with a stored client_reference answers 200
        with the stored one (Idempotent-Replay: true) instead of storing it twice, also
        when the two arrive at the same moment."""
        data = request.data if isinstance(request.data, dict) else {}
        reference = data.get("client_reference")
        if not isinstance(reference, str) or not reference:
            return super().create(request, *args, **kwargs)
        stored = Statement.objects.filter(client_reference=reference).first()
        if stored is None:
            try:
                return super().create(request, *args, **kwargs)
            except (IntegrityError, exceptions.ValidationError):
                # The same reference committed in between (the unique check or the
                # constraint saw it): answer with that one; any other error stands.
                stored = Statement.objects.filter(client_reference=reference).first()
                if stored is None:
                    raise
        response = Response(self.get_serializer(stored).data, status=200)
        response["ETag"] = etag(stored)
        response["Idempotent-Replay"] = "true"
        return response

    def retrieve(self, request, *args, **kwargs):
        """One statement, built like the list's rows (a test compares it with the
        serializer's): two small queries instead of model instances and serializer fields."""
        row = get_object_or_404(Statement.objects.values(*LIST_VALUES), pk=kwargs["pk"])
        response = Response(listed_statement(row, topic_slugs([row["id"]])[row["id"]]))
        response["ETag"] = f'"{row["version"]}"'
        return response

    def ordered_rows(self, ordering, filterset):
        statements = ordering.filter_queryset(self.request, filterset.qs, self)
        rows = statements.values(*LIST_VALUES)
        if "q" in filterset.active:
            rows.count_hint = CappedCount(statements, SEARCH_COUNT_CAP)
        else:
            rows.count_hint = statements.order_by().count
        return rows

    @extend_schema(responses={(200, "text/csv"): str})
    @action(detail=False, url_path="csv", pagination_class=None)
    def export_csv(self, request):
        """The filtered statements as CSV (formula-like cells are prefixed with ')."""
        statements = (
            self.filter_queryset(self.get_queryset())
            .select_related("meeting", "holder")
            .prefetch_related(
                Prefetch("topic_links", queryset=StatementTopic.objects.select_related("topic"))
            )
        )
        rows = (
            [
                s.pk,
                request.build_absolute_uri(s.get_absolute_url()),
                s.actor.name,
                s.actor.role,
                s.party.code if s.party_id else "",
                " ".join(t.slug for t in s.topics.all()),
                s.quote,
                # A statement awaiting review has only an old text's offsets: none given.
                "" if s.needs_review else s.start,
                "" if s.needs_review else s.end,
                "awaiting review" if s.needs_review else "placed",
                s.stance,
                " ".join(
                    f"{link.topic.slug}={link.stance_override}"
                    for link in s.topic_links.all()
                    if link.stance_override
                ),
                s.certainty,
                s.condition_quote,
                "" if s.needs_review or s.condition_start is None else s.condition_start,
                "" if s.needs_review or s.condition_end is None else s.condition_end,
                s.kind,
                s.holder.name if s.holder_id else "",
                "yes" if s.joint else "no",
                s.stated_on,
                s.stated_on_precision,
                s.stated_until or "",
                s.stated_until_precision if s.stated_until else "",
                "yes" if s.date_inferred else "no",
                s.date_basis,
                s.meeting.title if s.meeting_id else "",
                s.meeting_relation,
                s.proposal.title if s.proposal_id else "",
                s.proposal_stance,
                s.original_quote,
                s.source_id,
                s.source.title,
                s.source.translated_from,
            ]
            for s in statements.iterator(chunk_size=1000)
        )
        return csv_response("statements.csv", STATEMENT_CSV_HEADER, rows)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "page",
                {"type": "integer", "minimum": 1},
                description=f"Page of the collection, {MAX_PAGE_SIZE} annotations a page; a "
                "page past the last is a 404.",
            )
        ],
        responses={(200, "application/ld+json"): dict},
    )
    @action(detail=False, url_path="annotations", pagination_class=None)
    def annotations(self, request):
        """The filtered statements as W3C Web Annotations (JSON-LD), a page at a time."""
        # A statement awaiting review has offsets that no longer point at its words.
        statements = (
            self.filter_queryset(self.get_queryset())
            .filter(needs_review=False)
            .select_related("holder", "meeting")
        )
        paginator = Paginator(statements, MAX_PAGE_SIZE)
        raw = request.query_params.get("page", "1")
        if not (raw.isascii() and raw.isdigit()):
            raise exceptions.ValidationError({"page": ["Give a page number: a whole number."]})
        if not 1 <= int(raw) <= max(paginator.num_pages, 1):
            raise exceptions.NotFound(f"There are {max(paginator.num_pages, 1)} page(s).")
        page = paginator.page(int(raw))
        base = request.build_absolute_uri(request.path)
        query = request.query_params.copy()

        def page_url(number):
            query["page"] = number
            return f"{base}?{query.urlencode()}"

        collection = query.copy()
        collection.pop("page", None)
        data = {
            "@context": ANNOTATION_CONTEXT,
            "id": page_url(page.number),
            "type": "AnnotationPage",
            "partOf": {
                "id": f"{base}?{collection.urlencode()}" if collection else base,
                "type": "AnnotationCollection",
                "total": paginator.count,
            },
            "startIndex": page.start_index() - 1 if paginator.count else 0,
            "items": [annotation(statement, request) for statement in page],
        }
        if page.has_next():
            data["next"] = page_url(page.next_page_number())
        if page.has_previous():
            data["prev"] = page_url(page.previous_page_number())
        return Response(data, content_type=f'application/ld+json; profile="{ANNOTATION_CONTEXT}"')


class ProposalViewSet(VersionedModelViewSet):
    """What each side put forward, with its numbers, status and the responses to it."""

    serializer_class = ProposalSerializer
    filterset_class = ProposalFilter
    ordering_fields = ["proposed_on", "title", "id", "status"]

    def get_queryset(self):
        responses = Statement.objects.select_related("party").only(
            "proposal_id", "party__code", "proposal_stance"
        )
        return Proposal.objects.select_related("party").prefetch_related(
            "parameters",
            Prefetch("topics", queryset=Topic.objects.only("slug")),
            Prefetch("statements", queryset=responses),
        )

    @extend_schema(responses={(200, "text/csv"): str})
    @action(detail=False, url_path="csv", pagination_class=None)
    def export_csv(self, request):
        """The filtered proposals as CSV, one row per number (or one row if none)."""
        header = [
            "id",
            "slug",
            "title",
            "kind",
            "party",
            "actor",
            "reported_by",
            "status",
            "timing",
            "condition",
            "proposed_on",
            "proposed_on_precision",
            "proposed_until",
            "date_inferred",
            "date_basis",
            "topics",
            "quantity",
            "limit",
            "value",
            "unit",
            "applies_to",
        ]

        # Filtered here, not in the generator: a bad filter is a 400 before any row is sent.
        proposals = self.filter_queryset(self.get_queryset()).select_related(
            "actor", "reported_by"
        )

        def rows():
            for proposal in proposals:
                common = [
                    proposal.pk,
                    proposal.slug,
                    proposal.title,
                    proposal.kind,
                    proposal.party.code,
                    proposal.actor.name if proposal.actor_id else "",
                    proposal.reported_by.name if proposal.reported_by_id else "",
                    proposal.status,
                    proposal.timing,
                    proposal.condition,
                    proposal.proposed_on,
                    proposal.proposed_on_precision,
                    proposal.proposed_until or "",
                    "yes" if proposal.date_inferred else "no",
                    proposal.date_basis,
                    " ".join(t.slug for t in proposal.topics.all()),
                ]
                parameters = list(proposal.parameters.all())
                if not parameters:
                    yield common + ["", "", "", "", ""]
                for p in parameters:
                    yield common + [p.quantity, p.limit, p.value, p.unit, p.applies_to]

        return csv_response("proposals.csv", header, rows())


class MeetingViewSet(VersionedModelViewSet):
    """Meetings held or announced, nested by parent, with planned and actual duration."""

    serializer_class = MeetingSerializer
    filterset_class = MeetingFilter
    ordering_fields = ["starts_on", "title", "id"]

    def get_queryset(self):
        return Meeting.objects.prefetch_related(Prefetch("participants", Actor.objects.only("id")))

    @extend_schema(responses={(200, "text/csv"): str})
    @action(detail=False, url_path="csv", pagination_class=None)
    def export_csv(self, request):
        """The filtered meetings as CSV."""
        header = [
            "id",
            "slug",
            "title",
            "kind",
            "status",
            "starts_on",
            "ends_on",
            "date_precision",
            "date_inferred",
            "date_basis",
            "location",
            "parent",
            "planned_minutes",
            "actual_minutes",
            "participants",
            "summary",
        ]
        meetings = self.filter_queryset(self.get_queryset()).select_related("parent")
        rows = (
            [
                m.pk,
                m.slug,
                m.title,
                m.kind,
                m.status,
                m.starts_on,
                m.ends_on,
                m.date_precision,
                "yes" if m.date_inferred else "no",
                m.date_basis,
                m.location,
                m.parent.slug if m.parent_id else "",
                m.planned_minutes,
                m.actual_minutes,
                " ".join(str(a.pk) for a in m.participants.all()),
                m.summary,
            ]
            for m in meetings
        )
        return csv_response("meetings.csv", header, rows)


# Proposals in a topic's exchange.
EXCHANGE_LIMIT = 500

# Statements (and proposals) listed per side and topic in the comparison; the counts say
# how many there are in all, and the statements list (?topic=&party=) pages through them.
COMPARISON_LIMIT = 20


def comparison_statement_schema():
    return {
        "type": "object",
        "required": ["id", "actor", "quote", "stance", "kind", "url"],
        "properties": {
            "id": {"type": "integer"},
            "actor": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            },
            "quote": {"type": "string"},
            "stance": {"type": "string", "enum": Stance.values},
            "kind": {"type": "string", "enum": AttributionKind.values},
            "stated_on": {"type": "string", "format": "date", "nullable": True},
            "stated_on_precision": {"type": "string", "enum": DatePrecision.values},
            "stated_until": {"type": "string", "format": "date", "nullable": True},
            "stated_until_precision": {"type": "string", "enum": DatePrecision.values},
            "date_inferred": {"type": "boolean"},
            "date_basis": {"type": "string"},
            "certainty": {"type": "string", "enum": Certainty.values},
            "condition_quote": {"type": "string"},
            "joint": {"type": "boolean"},
            "holder": {"type": "integer", "nullable": True},
            "meeting": {"type": "integer", "nullable": True},
            "meeting_relation": {"type": "string", "enum": ["", *MeetingRelation.values]},
            "proposal": {"type": "integer", "nullable": True},
            "source": {"type": "integer"},
            "url": {"type": "string", "format": "uri"},
        },
    }


COMPARISON_SCHEMA = {
    "type": "object",
    "required": ["topics", "proposals_hidden"],
    "properties": {
        "proposals_hidden": {
            "type": "boolean",
            "description": "True when a filter proposals have no equivalent for (stance, kind "
            "or q) is on: proposals are then left out, as on the dashboard.",
        },
        "topics": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "topic",
                    "agreement",
                    "agreement_label",
                    "reason",
                    "parties",
                    "analysis_count",
                    "analysis",
                ],
                "properties": {
                    "topic": {
                        "type": "object",
                        "required": ["slug", "name"],
                        "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
                    },
                    "agreement": {"type": "string", "enum": Agreement.values},
                    "agreement_label": {"type": "string"},
                    "reason": {
                        "type": "string",
                        "description": "One line on why the label is what it is, from the "
                        "evidence of each side.",
                    },
                    "parties": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "party",
                                "position",
                                "position_label",
                                "positions",
                                "changed",
                                "joint_count",
                                "statement_count",
                                "statements",
                                "proposal_count",
                                "proposals",
                            ],
                            "properties": {
                                "party": {"type": "string"},
                                "position": {"type": "string", "enum": Position.values},
                                "position_label": {"type": "string"},
                                "positions": {
                                    "type": "array",
                                    "description": "The side's positions in time, newest "
                                    "first: the current one, then earlier ones.",
                                    "items": {
                                        "type": "object",
                                        "required": [
                                            "position",
                                            "position_label",
                                            "statement_count",
                                            "from",
                                            "to",
                                            "shown",
                                        ],
                                        "properties": {
                                            "position": {
                                                "type": "string",
                                                "enum": Position.values,
                                            },
                                            "position_label": {"type": "string"},
                                            "statement_count": {"type": "integer"},
                                            "from": {
                                                "type": "string",
                                                "format": "date",
                                                "nullable": True,
                                            },
                                            "to": {
                                                "type": "string",
                                                "format": "date",
                                                "nullable": True,
                                            },
                                            "shown": {"type": "string"},
                                        },
                                    },
                                },
                                "changed": {"type": "boolean"},
                                "joint_count": {
                                    "type": "integer",
                                    "description": "Joint claims about both sides, listed but "
                                    "not counted in the position.",
                                },
                                "statement_count": {
                                    "type": "integer",
                                    "description": "All of this side's statements on the "
                                    "topic that match the filters; the first "
                                    f"{COMPARISON_LIMIT} are listed, by date.",
                                },
                                "proposal_count": {"type": "integer"},
                                "statements": {
                                    "type": "array",
                                    "items": comparison_statement_schema(),
                                },
                                "proposals": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["id", "title", "status", "parameters"],
                                        "properties": {
                                            "id": {"type": "integer"},
                                            "title": {"type": "string"},
                                            "kind": {
                                                "type": "string",
                                                "enum": ProposalKind.values,
                                            },
                                            "status": {
                                                "type": "string",
                                                "enum": ProposalStatus.values,
                                            },
                                            "parameters": {
                                                "type": "array",
                                                "items": {"type": "object"},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                    "analysis_count": {"type": "integer"},
                    "analysis": {"type": "array", "items": comparison_statement_schema()},
                },
            },
        },
    },
}


class ComparisonView(GenericAPIView):
    """
    Per topic and per party, the statements and proposals, each side's position and the
    agreement label: the dashboard's data, computed by the same code. With a filter on,
    topics with nothing left are left out, as on the dashboard.
    """

    permission_classes = [permissions.AllowAny]
    queryset = Statement.objects.all()
    filter_backends = [DjangoFilterBackend]
    filterset_class = ApiStatementFilter
    pagination_class = None

    @extend_schema(responses={200: COMPARISON_SCHEMA})
    def get(self, request):
        filterset = ApiStatementFilter(request.query_params, queryset=Statement.objects.all())
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        active = filterset.active
        if NO_MATCH in active.values():
            # A filter names a record that does not exist: nothing matches it.
            return Response({"topics": [], "proposals_hidden": False})
        # Cached as JSON, by content version (an edit makes it unreachable at once), filters
        # and host (its links are absolute).
        key = f"comparison:{caching.fragment_key(request)}:{request.get_host()}"
        body = cache.get(key)
        if body is None:
            body = orjson.dumps(self.comparison(request, filterset, active))
            cache.set(key, body, caching.FRAGMENT_SECONDS)
        if request.accepted_renderer.format == "json":
            return HttpResponse(body, content_type="application/json")
        return Response(orjson.loads(body))  # the browsable API renders it as a page

    def comparison(self, request, filterset, active):
        rows, _ = compare_filtered(filterset, limit=COMPARISON_LIMIT)

        def statement(s):
            return {
                "id": s.pk,
                "actor": {"id": s.actor_id, "name": s.actor.name},
                "quote": s.quote,
                "stance": s.stance,
                "kind": s.kind,
                "stated_on": s.stated_on,
                "stated_on_precision": s.stated_on_precision,
                "stated_until": s.stated_until,
                "stated_until_precision": s.stated_until_precision,
                "date_inferred": s.date_inferred,
                "date_basis": s.date_basis,
                "certainty": s.certainty,
                "condition_quote": s.condition_quote,
                "joint": s.joint,
                "holder": s.holder_id,
                "meeting": s.meeting_id,
                "meeting_relation": s.meeting_relation,
                "proposal": s.proposal_id,
                "source": s.source_id,
                "url": request.build_absolute_uri(s.get_absolute_url()),
            }

        def stage(st):
            return {
                "position": st.position,
                "position_label": st.position_label,
                "statement_count": st.count,
                "from": st.first,
                "to": st.last,
                "shown": st.shown,
            }

        def proposal(p):
            return {
                "id": p.pk,
                "title": p.title,
                "kind": p.kind,
                "status": p.status,
                "parameters": [
                    {
                        "quantity": x.quantity,
                        "limit": x.limit,
                        "value": x.value,
                        "unit": x.unit,
                        "applies_to": x.applies_to,
                    }
                    for x in p.parameters.all()
                ],
            }

        return {
            "proposals_hidden": bool(STATEMENT_ONLY_FILTERS & active.keys()),
            "topics": [
                {
                    "topic": {"slug": row.topic.slug, "name": row.topic.name},
                    "agreement": row.agreement,
                    "agreement_label": row.agreement_label,
                    "reason": row.reason,
                    "parties": [
                        {
                            "party": cell.party.code,
                            "position": cell.position,
                            "position_label": cell.position_label,
                            "positions": [stage(st) for st in cell.stages],
                            "changed": cell.changed,
                            "joint_count": cell.joint_count,
                            "statement_count": cell.statement_count,
                            "statements": [statement(s) for s in cell.statements],
                            "proposal_count": cell.proposal_count,
                            "proposals": [proposal(p) for p in cell.proposals],
                        }
                        for cell in row.cells
                    ],
                    "analysis_count": row.analysis_count,
                    "analysis": [statement(s) for s in row.analysis],
                }
                for row in rows
            ],
        }
