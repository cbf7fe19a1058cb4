"""Filters for statements, shared by the HTML pages and the API."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

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
    Topic,
)

SEARCH_MAX_LENGTH = 200


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


class StatementFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the date range is before its start.")
        return cleaned


class StatementFilter(django_filters.FilterSet):
    topic = django_filters.ModelChoiceFilter(
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
        words = value.split()
        if not words:
            return queryset
        condition = Q()
        for word in words:
            condition &= Q(quote__icontains=word)
        return queryset.filter(condition)

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


class ProposalFilter(django_filters.FilterSet):
    party = django_filters.ModelChoiceFilter(to_field_name="code", queryset=Party.objects.all())
    topic = django_filters.ModelChoiceFilter(
        field_name="topics", to_field_name="slug", queryset=Topic.objects.all()
    )
    actor = django_filters.ModelChoiceFilter(queryset=Actor.objects.all())
    meeting = django_filters.ModelChoiceFilter(queryset=Meeting.objects.all())
    status = django_filters.ChoiceFilter(choices=ProposalStatus.choices)
    since = django_filters.DateFilter(field_name="proposed_on", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="proposed_on", lookup_expr="lte")
    q = SearchFilter(method="search")

    class Meta:
        model = Proposal
        fields = []
        form = StatementFilterForm

    def search(self, queryset, name, value):
        condition = Q()
        for word in value.split():
            condition &= Q(title__icontains=word) | Q(description__icontains=word)
        return queryset.filter(condition)


class MeetingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MeetingStatus.choices)
    kind = django_filters.ChoiceFilter(choices=MeetingKind.choices)
    parent = django_filters.ModelChoiceFilter(queryset=Meeting.objects.all())
    participant = django_filters.ModelChoiceFilter(
        field_name="participants", queryset=Actor.objects.all()
    )
    since = django_filters.DateFilter(field_name="starts_on", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="starts_on", lookup_expr="lte")
    q = SearchFilter(method="search")

    class Meta:
        model = Meeting
        fields = []
        form = StatementFilterForm

    def search(self, queryset, name, value):
        condition = Q()
        for word in value.split():
            condition &= (
                Q(title__icontains=word) | Q(summary__icontains=word) | Q(location__icontains=word)
            )
        return queryset.filter(condition)


class ActorFilter(django_filters.FilterSet):
    party = django_filters.ModelChoiceFilter(to_field_name="code", queryset=Party.objects.all())
    kind = django_filters.ChoiceFilter(choices=ActorKind.choices)
    q = SearchFilter(method="search")

    class Meta:
        model = Actor
        fields = []

    def search(self, queryset, name, value):
        condition = Q()
        for word in value.split():
            condition &= Q(name__icontains=word) | Q(role__icontains=word)
        return queryset.filter(condition)
