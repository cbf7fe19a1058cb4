from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.db.models.functions import Length
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from positions.forms import SourceForm, VersionedModelForm
from positions.history_admin import AuditedAdmin
from positions.models import (
    Actor,
    Meeting,
    Party,
    Proposal,
    ProposalParameter,
    SeedEntry,
    Source,
    Statement,
    StatementTopic,
    Topic,
    format_partial_date,
)
from positions.quotes import excerpt


class PositionsAdminMedia:
    css = {"all": ["positions/admin.css"]}


@admin.register(Party)
class PartyAdmin(AuditedAdmin):
    form = VersionedModelForm
    list_display = ["code", "name", "sort_order", "actor_count", "statement_count"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                actor_count=Count("actors", distinct=True),
                statement_count=Count("statements", distinct=True),
            )
            .order_by(*Party._meta.ordering)
        )

    @admin.display(description="actors", ordering="actor_count")
    def actor_count(self, party):
        return party.actor_count

    @admin.display(description="statements", ordering="statement_count")
    def statement_count(self, party):
        return party.statement_count


@admin.register(Actor)
class ActorAdmin(AuditedAdmin):
    form = VersionedModelForm
    list_display = ["name", "honorific_prefix", "party", "kind", "role", "statement_count"]
    list_filter = ["party", "kind"]
    list_select_related = ["party"]
    search_fields = ["name", "slug", "role", "honorific_prefix"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["party"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        # Aggregation drops Meta.ordering; autocomplete pages need one.
        return (
            super()
            .get_queryset(request)
            .annotate(statement_count=Count("statements"))
            .order_by(*Actor._meta.ordering)
        )

    @admin.display(description="statements", ordering="statement_count")
    def statement_count(self, actor):
        return actor.statement_count


@admin.register(Source)
class SourceAdmin(AuditedAdmin):
    form = SourceForm
    list_display = ["title", "publisher", "published", "length", "statement_count", "short_hash"]
    list_filter = ["published_on_precision", "publisher"]
    search_fields = ["title", "publisher", "url", "sha256"]
    date_hierarchy = "published_on"
    readonly_fields = ["sha256", "created_at", "updated_at", "captured_quotes"]

    class Media(PositionsAdminMedia):
        pass

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .defer("text")
            .annotate(statement_count=Count("statements"), length=Length("text"))
            .order_by(*Source._meta.ordering)
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        report = obj.reanchoring
        if report is not None:
            level = messages.WARNING if report.flagged else messages.INFO
            self.message_user(request, f"The text changed: {report.summary()}.", level)

    @admin.display(description="published", ordering="published_on")
    def published(self, source):
        return source.published_on_display

    @admin.display(description="characters", ordering="length")
    def length(self, source):
        return source.length

    @admin.display(description="statements", ordering="statement_count")
    def statement_count(self, source):
        return source.statement_count

    @admin.display(description="SHA-256")
    def short_hash(self, source):
        return source.sha256[:12]

    @admin.display(description="text with captured quotes")
    def captured_quotes(self, source):
        if source.pk is None:
            return "—"
        pieces, position = [], 0
        # Those awaiting review have an old text's offsets: not shown on this one.
        placed = source.statements.filter(needs_review=False).order_by("start")
        for start, end, pk in placed.values_list("start", "end", "pk"):
            if start < position:
                continue  # an overlapping quote is already inside a highlight
            pieces.append(format_html("{}", source.text[position:start]))
            pieces.append(
                format_html(
                    '<mark><a href="{}">{}</a></mark>',
                    reverse("admin:positions_statement_change", args=[pk]),
                    source.text[start:end],
                )
            )
            position = end
        pieces.append(format_html("{}", source.text[position:]))
        return format_html(
            '<div class="source-text">{}</div>', format_html_join("", "{}", ((p,) for p in pieces))
        )


@admin.register(Topic)
class TopicAdmin(AuditedAdmin):
    form = VersionedModelForm
    list_display = ["name", "slug", "sort_order", "statement_count", "proposal_count"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                statement_count=Count("statement_links", distinct=True),
                proposal_count=Count("proposals", distinct=True),
            )
            .order_by(*Topic._meta.ordering)
        )

    @admin.display(description="statements", ordering="statement_count")
    def statement_count(self, topic):
        return topic.statement_count

    @admin.display(description="proposals", ordering="proposal_count")
    def proposal_count(self, topic):
        return topic.proposal_count


class ChildMeetingInline(admin.TabularInline):
    model = Meeting
    fk_name = "parent"
    fields = ["title", "kind", "status", "starts_on", "location"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "meetings within this one"

    def has_add_permission(self, request, obj):
        return False


@admin.register(Meeting)
class MeetingAdmin(AuditedAdmin):
    form = VersionedModelForm
    list_display = [
        "title",
        "kind",
        "status",
        "dates",
        "location",
        "parent",
        "planned_minutes",
        "actual_minutes",
    ]
    list_filter = ["status", "kind", "date_precision", ("parent", admin.EmptyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["title", "slug", "location", "summary"]
    autocomplete_fields = ["participants", "parent", "source"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "starts_on"
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ChildMeetingInline]

    @admin.display(description="dates", ordering="starts_on")
    def dates(self, meeting):
        return meeting.dates_display


class ProposalParameterRowForm(VersionedModelForm):
    """A number as a row of its proposal's form, refused if someone saved it since."""

    def report_conflict(self, current):
        try:
            super().report_conflict(current)
        except ValidationError as error:
            # Said in the row, where "this record" could be read as the proposal.
            raise ValidationError(f"The number “{current}”: {error.message}") from None


class ProposalParameterInline(admin.TabularInline):
    model = ProposalParameter
    form = ProposalParameterRowForm
    extra = 0
    fields = [
        "quantity",
        "limit",
        "value",
        "unit",
        "applies_to",
        "note",
        "sort_order",
        "based_on_version",
        "based_on_values",
    ]


class ResponseInline(admin.TabularInline):
    model = Statement
    fk_name = "proposal"
    fields = ["actor", "party", "proposal_stance", "kind", "quote"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "statement on this proposal"
    verbose_name_plural = "statements on this proposal (responses)"

    def has_add_permission(self, request, obj):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "party")


class ProposalForm(VersionedModelForm):
    # The source's own words, exactly.
    timing = forms.CharField(strip=False, required=False, max_length=300)
    condition = forms.CharField(strip=False, required=False, max_length=500)

    class Meta:
        model = Proposal
        fields = "__all__"


@admin.register(Proposal)
class ProposalAdmin(AuditedAdmin):
    form = ProposalForm
    list_display = ["title", "party", "status", "numbers", "actor", "meeting", "proposed"]
    list_filter = ["party", "kind", "status", "topics", "meeting"]
    list_select_related = ["party", "actor", "meeting"]
    search_fields = ["title", "slug", "description", "parameters__quantity"]
    autocomplete_fields = ["party", "actor", "reported_by", "meeting", "topics", "source"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ProposalParameterInline, ResponseInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("parameters").distinct()

    @admin.display(description="ceilings and levels")
    def numbers(self, proposal):
        return "; ".join(str(parameter) for parameter in proposal.parameters.all()) or "—"

    @admin.display(description="proposed", ordering="proposed_on")
    def proposed(self, proposal):
        return format_partial_date(proposal.proposed_on, proposal.proposed_on_precision)


class StatementTopicInline(admin.TabularInline):
    """Topics are a many-to-many with their own through model (so that a cited topic
    cannot be deleted), which the admin edits as an inline rather than as a field."""

    model = StatementTopic
    autocomplete_fields = ["topic"]
    fields = ["topic", "stance_override"]
    extra = 0
    min_num = 1
    verbose_name = "topic"
    verbose_name_plural = "topics"


class StatementForm(VersionedModelForm):
    # Quotes are stored exactly as published: no stripping, no normalising.
    quote = forms.CharField(
        strip=False,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"}),
        help_text=(
            "Verbatim, including curly quotes, dashes and spacing. Leave empty to take it from "
            "the offsets; leave the offsets empty to find it in the source."
        ),
    )

    # The condition and the original-language words are exact spans too.
    condition_quote = forms.CharField(
        strip=False,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}),
        help_text="Verbatim from the same source, as the quote; or give the offsets.",
    )
    original_quote = forms.CharField(
        strip=False,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}),
        help_text="Verbatim from the source's original-language text; or give the offsets.",
    )

    class Meta:
        model = Statement
        fields = [
            "source",
            "quote",
            "start",
            "end",
            "actor",
            "holder",
            "kind",
            "joint",
            "stance",
            "certainty",
            "condition_quote",
            "condition_start",
            "condition_end",
            "condition_topic",
            "condition_proposal",
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
            "original_start",
            "original_end",
            "note",
        ]

    def clean(self):
        # The sources first (the chosen one, and the stored one if it moves), as every
        # writer of statements takes them, and before the version check locks the row: the
        # quote is then checked against the text as the save will find it.
        chosen = self.cleaned_data.get("source")
        Source.locked({chosen.pk if chosen else None, self.instance.source_id} - {None})
        cleaned = super().clean()
        source, quote = cleaned.get("source"), cleaned.get("quote")
        if source and quote and "\r\n" in quote and "\r\n" not in source.text:
            # Browsers send every line break typed in a textarea as \r\n (the HTML spec's
            # form encoding); the source's own line breaks are \n, and so are the quote's.
            cleaned["quote"] = quote.replace("\r\n", "\n")
        return cleaned


@admin.register(Statement)
class StatementAdmin(AuditedAdmin):
    form = StatementForm
    list_display = [
        "short_quote",
        "actor",
        "party",
        "kind",
        "stance",
        "topic_list",
        "stated",
        "meeting",
        "source",
    ]
    list_filter = [
        "needs_review",
        "party",
        "topics",
        "stance",
        "kind",
        "source",
        "meeting",
        "proposal",
    ]
    list_select_related = ["actor", "party", "meeting", "source"]
    search_fields = ["quote", "actor__name", "note"]
    autocomplete_fields = [
        "actor",
        "holder",
        "source",
        "meeting",
        "proposal",
        "condition_topic",
        "condition_proposal",
    ]
    readonly_fields = [
        "quote_in_context",
        "party",
        "prefix",
        "suffix",
        "needs_review",
        "review_note",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "source",
                    "quote",
                    ("start", "end"),
                    "quote_in_context",
                    ("based_on_version", "based_on_values"),
                ]
            },
        ),
        ("Who and how", {"fields": ["actor", "party", "holder", "kind", "joint"]}),
        ("Stance", {"fields": ["stance", "certainty"]}),
        (
            "Condition (of a conditional stance)",
            {
                "fields": [
                    "condition_quote",
                    ("condition_start", "condition_end"),
                    ("condition_topic", "condition_proposal"),
                ]
            },
        ),
        (
            "When and where",
            {
                "fields": [
                    ("stated_on", "stated_on_precision"),
                    ("stated_until", "stated_until_precision"),
                    ("date_inferred", "date_basis"),
                    ("meeting", "meeting_relation"),
                ]
            },
        ),
        ("Proposal", {"fields": ["proposal", "proposal_stance"]}),
        (
            "Original-language words (when the source is a translation)",
            {"fields": ["original_quote", ("original_start", "original_end")]},
        ),
        (
            "Record",
            {
                "fields": [
                    "note",
                    "prefix",
                    "suffix",
                    "needs_review",
                    "review_note",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    inlines = [StatementTopicInline]

    class Media(PositionsAdminMedia):
        pass

    def get_queryset(self, request):
        # The actor is in every statement's label, autocomplete results included; the
        # changelist skips list_select_related once a queryset selects anything.
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .defer("source__text")
            .prefetch_related("topics")
        )

    @admin.display(description="quote", ordering="quote")
    def short_quote(self, statement):
        return excerpt(statement.quote, 90)

    @admin.display(description="topics")
    def topic_list(self, statement):
        return ", ".join(topic.name for topic in statement.topics.all())

    @admin.display(description="stated", ordering="stated_on")
    def stated(self, statement):
        return statement.stated_on_display

    @admin.display(description="in context")
    def quote_in_context(self, statement):
        if statement.pk is None:
            return "Shown after saving."
        if statement.needs_review:
            return format_html('<p class="errornote">Needs review: {}</p>', statement.review_note)
        text = statement.source.text
        start, end = statement.paragraph_bounds
        return format_html(
            '<div class="source-text">{}<mark>{}</mark>{}</div>',
            text[start : statement.start],
            statement.quote,
            text[statement.end : end],
        )


@admin.register(ProposalParameter)
class ProposalParameterAdmin(AuditedAdmin):
    """The numbers of all proposals side by side; each is edited with its proposal too."""

    form = VersionedModelForm
    list_display = ["proposal", "quantity", "limit", "value", "unit", "applies_to"]
    list_filter = ["applies_to", "limit", "unit", "proposal__party"]
    list_select_related = ["proposal"]
    search_fields = ["quantity", "unit", "note", "proposal__title"]
    autocomplete_fields = ["proposal"]


@admin.register(StatementTopic)
class StatementTopicAdmin(admin.ModelAdmin):
    """Which statements are tagged with which topic; usually edited from the statement."""

    list_display = ["topic", "statement"]
    list_filter = ["topic"]
    list_select_related = ["topic", "statement__actor"]
    search_fields = ["statement__quote", "topic__name"]
    autocomplete_fields = ["statement", "topic"]


@admin.register(SeedEntry)
class SeedEntryAdmin(admin.ModelAdmin):
    list_display = ["key", "loaded_at"]
    search_fields = ["key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
