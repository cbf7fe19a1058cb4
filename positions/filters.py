"""
Filters for statements, shared by the HTML pages and the API, and the API's own filters.

The pages offer choices from a form, so an unknown value there is a mistake (400). The
API takes ids, codes and slugs typed by a script: a malformed one is a 400, a well-formed
one that names no record simply matches nothing, and its schema says exactly which
values are well-formed.
"""

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.utils import extend_schema_field

from positions.models import (
    Actor,
    ActorKind,
    AttributionKind,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Party,
    Proposal,
    ProposalStatus,
    Stance,
    Statement,
    StatementTopic,
    Topic,
)
from positions.search import search_quotes

SEARCH_MAX_LENGTH = 200


NO_NUL = "^[^\\x00]*$"


def reject_nul(value):
    # PostgreSQL cannot compare text containing NUL, and no source contains one.
    if "\x00" in value:
        raise ValidationError("The search text contains a NUL character.")


class SearchField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            max_length=SEARCH_MAX_LENGTH, validators=[reject_nul], strip=True, **kwargs
        )


class SearchFilter(django_filters.CharFilter):
    field_class = SearchField


def every_word_in(*fields):
    """A filter method: each word of the search occurs, in any case, in one of the fields."""

    def search(filterset, queryset, name, value):
        condition = Q()
        for word in value.split():
            in_any_field = Q()
            for field in fields:
                in_any_field |= Q(**{f"{field}__icontains": word})
            condition &= in_any_field
        return queryset.filter(condition)

    return search


class StatementFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the date range is before its start.")
        return cleaned


def on_topic(queryset, topic):
    """
    Statements tagged with ``topic``, as EXISTS on the topic links rather than a join: the
    database can then walk the statements in list order (statement_list_order) and stop
    once a page is full, instead of sorting every statement on the topic.
    """
    links = StatementTopic.objects.filter(statement=OuterRef("pk"), topic=topic)
    return queryset.filter(Exists(links))


class TopicFilter(django_filters.ModelChoiceFilter):
    def filter(self, queryset, value):
        return queryset if value in EMPTY_VALUES else on_topic(queryset, value)


class StatementFilter(django_filters.FilterSet):
    topic = TopicFilter(
        field_name="topics",
        to_field_name="slug",
        queryset=Topic.objects.all(),
        empty_label="All topics",
        label="Topic",
    )
    party = django_filters.ModelChoiceFilter(
        to_field_name="code",
        queryset=Party.objects.all(),
        empty_label="All sides",
        label="Side",
    )
    actor = django_filters.ModelChoiceFilter(
        queryset=Actor.objects.all(), empty_label="Anyone", label="Speaker"
    )
    meeting = django_filters.ModelChoiceFilter(
        queryset=Meeting.objects.all(), empty_label="Any meeting"
    )
    proposal = django_filters.ModelChoiceFilter(
        queryset=Proposal.objects.all(), empty_label="Any proposal"
    )
    stance = django_filters.ChoiceFilter(choices=Stance.choices, empty_label="Any stance")
    kind = django_filters.ChoiceFilter(
        choices=AttributionKind.choices, empty_label="Any attribution", label="Attribution"
    )
    since = django_filters.DateFilter(
        field_name="stated_on",
        lookup_expr="gte",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        field_name="stated_on",
        lookup_expr="lte",
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    q = SearchFilter(method="search", label="Search the quotes")

    class Meta:
        model = Statement
        fields = []
        form = StatementFilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels without per-row queries: a meeting's and an actor's own fields suffice.
        self.filters["meeting"].queryset = Meeting.objects.order_by("starts_on", "pk")
        self.filters["actor"].queryset = Actor.objects.order_by("name", "pk")

    def search(self, queryset, name, value):
        return search_quotes(queryset, value)

    @property
    def active(self):
        """The filters in use, by name, for showing what the results are limited to."""
        if not self.is_bound or not self.form.is_valid():
            return {}
        return {
            name: value
            for name, value in self.form.cleaned_data.items()
            if value not in (None, "", [])
        }


# The API's filters


class NoMatch:
    """A well-formed reference to a record that does not exist: the filter matches nothing."""

    def __repr__(self):
        return "NO_MATCH"


NO_MATCH = NoMatch()


class ReferenceField(forms.Field):
    """A record named by its id, code or slug: checked for form, then looked up."""

    def __init__(self, *, queryset, to_field_name, pattern, message, **kwargs):
        kwargs.pop("empty_label", None)
        super().__init__(**kwargs)
        self.queryset = queryset
        self.to_field_name = to_field_name
        self.pattern = re.compile(pattern)
        self.message = message

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value)
        if not self.pattern.fullmatch(value):
            raise ValidationError(self.message, code="invalid")
        if self.to_field_name == "pk":
            value = int(value)
        try:
            return self.queryset.get(**{self.to_field_name: value})
        except self.queryset.model.DoesNotExist:
            return NO_MATCH


class ReferenceFilter(django_filters.Filter):
    field_class = ReferenceField
    to_field_name = "pk"
    pattern = ""
    message = ""

    def __init__(self, *args, queryset, **kwargs):
        kwargs.setdefault("to_field_name", self.to_field_name)
        kwargs.setdefault("pattern", self.pattern)
        kwargs.setdefault("message", self.message)
        super().__init__(*args, queryset=queryset, **kwargs)

    def filter(self, queryset, value):
        if value is NO_MATCH:
            return queryset.none()
        return super().filter(queryset, value)


# Ids as PostgreSQL's bigint can hold them (any longer number names no record either).
ID_PATTERN = r"-?[0-9]{1,18}"


@extend_schema_field({"type": "integer", "minimum": -(10**18) + 1, "maximum": 10**18 - 1})
class IdFilter(ReferenceFilter):
    pattern = ID_PATTERN
    message = "Give the record's id, a whole number."


@extend_schema_field({"type": "string", "pattern": "^[A-Z]{2,8}$"})
class PartyCodeFilter(ReferenceFilter):
    to_field_name = "code"
    pattern = "[A-Z]{2,8}"
    message = "Give a party code: 2 to 8 upper-case letters, e.g. RU."


@extend_schema_field({"type": "string", "pattern": "^[-a-zA-Z0-9_]{1,100}$"})
class SlugFilter(ReferenceFilter):
    to_field_name = "slug"
    pattern = "[-a-zA-Z0-9_]{1,100}"
    message = "Give a slug: letters, digits, hyphens and underscores, e.g. abm-treaty."


class ApiTopicFilter(SlugFilter):
    def filter(self, queryset, value):
        if value is NO_MATCH:
            return queryset.none()
        return queryset if value in EMPTY_VALUES else on_topic(queryset, value)


@extend_schema_field({"type": "string", "maxLength": SEARCH_MAX_LENGTH, "pattern": NO_NUL})
class ApiSearchFilter(SearchFilter):
    pass


class ApiStatementFilter(StatementFilter):
    """
    The pages' statement filters, for scripts: references by id, code or slug, where one
    that names nothing matches nothing, and a date range that ends before it starts is
    simply empty.
    """

    topic = ApiTopicFilter(field_name="topics", queryset=Topic.objects.all(), label="Topic (slug)")
    party = PartyCodeFilter(queryset=Party.objects.all(), label="Side (party code)")
    actor = IdFilter(queryset=Actor.objects.all(), label="Speaker (actor id)")
    meeting = IdFilter(queryset=Meeting.objects.all(), label="Meeting (id)")
    proposal = IdFilter(queryset=Proposal.objects.all(), label="Proposal (id)")
    q = ApiSearchFilter(method="search", label="Search the quotes (every word must occur)")

    class Meta(StatementFilter.Meta):
        form = forms.Form


class ProposalFilter(django_filters.FilterSet):
    party = PartyCodeFilter(queryset=Party.objects.all(), label="Proposing side (party code)")
    topic = SlugFilter(field_name="topics", queryset=Topic.objects.all(), label="Topic (slug)")
    actor = IdFilter(queryset=Actor.objects.all(), label="Proposed by (actor id)")
    meeting = IdFilter(queryset=Meeting.objects.all(), label="Meeting (id)")
    status = django_filters.ChoiceFilter(choices=ProposalStatus.choices)
    since = django_filters.DateFilter(field_name="proposed_on", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="proposed_on", lookup_expr="lte")
    q = ApiSearchFilter(method="search", label="Search titles and descriptions")

    class Meta:
        model = Proposal
        fields = []

    search = every_word_in("title", "description")


class MeetingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MeetingStatus.choices)
    kind = django_filters.ChoiceFilter(choices=MeetingKind.choices)
    parent = IdFilter(queryset=Meeting.objects.all(), label="Part of (meeting id)")
    participant = IdFilter(
        field_name="participants", queryset=Actor.objects.all(), label="Participant (actor id)"
    )
    since = django_filters.DateFilter(field_name="starts_on", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="starts_on", lookup_expr="lte")
    q = ApiSearchFilter(method="search", label="Search titles, summaries and locations")

    class Meta:
        model = Meeting
        fields = []

    search = every_word_in("title", "summary", "location")


class ActorFilter(django_filters.FilterSet):
    party = PartyCodeFilter(queryset=Party.objects.all(), label="Side (party code)")
    kind = django_filters.ChoiceFilter(choices=ActorKind.choices)
    q = ApiSearchFilter(method="search", label="Search names and roles")

    class Meta:
        model = Actor
        fields = []

    search = every_word_in("name", "role")
