from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import fields as model_fields
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS, ManyRelatedField

from positions.models import (
    Actor,
    Meeting,
    Party,
    Proposal,
    ProposalParameter,
    Source,
    Stance,
    Statement,
    Topic,
)


def model_errors(error):
    """A Django ValidationError as DRF field errors."""
    if hasattr(error, "message_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": error.messages}


# Strict JSON types: DRF would take 5 for a string and "5" for a number, which the schema
# does not allow (and a number where a slug is expected would find the slug "5").


class StrictStringMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    default_error_messages = {"invalid": "Not a valid string."}


class StrictSlugField(StrictStringMixin, serializers.SlugField):
    pass


class StrictURLField(StrictStringMixin, serializers.URLField):
    default_error_messages = {"invalid": "Enter a valid URL."}


class StrictRegexField(StrictStringMixin, serializers.RegexField):
    pass


class OptionalURLField(StrictURLField):
    """A URL, or "" for none (see TrackerSchema for its schema)."""


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: not 0, 1, "yes" or "true", which DRF would take."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictManyRelatedField(ManyRelatedField):
    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class StrictRelatedMixin:
    def run_validation(self, data=serializers.empty):
        # DRF takes "" for null on a related field; in JSON, null is null.
        if data == "":
            raise serializers.ValidationError(
                "An empty string names nothing: give a value, or null where none is allowed."
            )
        return super().run_validation(data)

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return StrictManyRelatedField(**list_kwargs)


class StrictPrimaryKeyRelatedField(StrictRelatedMixin, serializers.PrimaryKeyRelatedField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class StrictSlugRelatedField(StrictRelatedMixin, serializers.SlugRelatedField):
    default_error_messages = {"invalid": "Give the {slug_name} as a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", slug_name=self.slug_field)
        return super().to_internal_value(data)

    def fail(self, key, **kwargs):
        # DRF's own lookup fails with "invalid" and no slug_name when the database refuses
        # the value (a ValueError), which would otherwise be a KeyError and a 500.
        kwargs.setdefault("slug_name", self.slug_field)
        super().fail(key, **kwargs)


# What every database takes (SQLite takes more, PostgreSQL no more), so that the schema
# and the validation are the same on both.
INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges


class ModelValidatedSerializer(serializers.ModelSerializer):
    """
    Validates with the model's own full_clean(), so the API refuses exactly what the admin
    refuses, with the same messages, keyed by field.
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        model_fields.CharField: StrictCharField,
        model_fields.TextField: StrictCharField,
        model_fields.SlugField: StrictSlugField,
        model_fields.URLField: StrictURLField,
        model_fields.BooleanField: StrictBooleanField,
        **{
            field: StrictIntegerField
            for field, mapped in serializers.ModelSerializer.serializer_field_mapping.items()
            if mapped is serializers.IntegerField
        },
    }
    serializer_related_field = StrictPrimaryKeyRelatedField

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        limits = INTEGER_RANGES.get(model_field.get_internal_type())
        if limits and "choices" not in field_kwargs:
            low, high = limits
            field_kwargs["min_value"] = max(field_kwargs.get("min_value", low), low)
            field_kwargs["max_value"] = min(field_kwargs.get("max_value", high), high)
        return field_class, field_kwargs

    def validate(self, attrs):
        attrs = super().validate(attrs)
        many_to_many = {
            name: attrs.pop(name) for name in list(attrs) if self.is_many_to_many(name)
        }
        instance = self.instance or self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.full_clean(exclude=self.excluded_from_clean())
        except DjangoValidationError as error:
            raise serializers.ValidationError(model_errors(error)) from error
        attrs.update(many_to_many)
        self.validated_instance = instance
        return attrs

    def is_many_to_many(self, name):
        field = self.Meta.model._meta.get_field(name)
        return field.many_to_many

    def excluded_from_clean(self):
        return []

    def create(self, validated_data):
        many_to_many = {
            name: validated_data.pop(name)
            for name in list(validated_data)
            if self.is_many_to_many(name)
        }
        instance = self.validated_instance
        # The record and its relations in one transaction, which first takes the locks
        # the model says its writers take first (a statement's source).
        with transaction.atomic():
            instance.lock_before_edit()
            instance.save()
            for name, value in many_to_many.items():
                getattr(instance, name).set(value)
        return instance

    def update(self, instance, validated_data):
        many_to_many = {
            name: validated_data.pop(name)
            for name in list(validated_data)
            if self.is_many_to_many(name)
        }
        expected = self.context["expected_version"]
        with transaction.atomic():
            self.validated_instance.lock_before_edit()
            self.validated_instance.save_if_version(expected)
            for name, value in many_to_many.items():
                getattr(instance, name).set(value)
        return instance


class PartySerializer(ModelValidatedSerializer):
    """A side in the talks."""

    # Unique, as the model's own validation checks.
    code = StrictRegexField(
        r"^[A-Z]{2,8}$",
        max_length=8,
        help_text='Short upper-case code, e.g. "RU" or "US".',
        error_messages={"invalid": "A party code is 2 to 8 upper-case letters, e.g. RU."},
    )

    class Meta:
        model = Party
        fields = ["id", "code", "name", "sort_order", "version"]
        read_only_fields = ["version"]


class PartyCodeField(StrictSlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Party.objects.all())
        super().__init__(**kwargs)


class ActorSerializer(ModelValidatedSerializer):
    """A person or institution, with the party (code) it speaks for and its role."""

    party = PartyCodeField(allow_null=True, required=False)

    class Meta:
        model = Actor
        fields = [
            "id",
            "slug",
            "name",
            "kind",
            "honorific_prefix",
            "party",
            "role",
            "note",
            "version",
        ]
        read_only_fields = ["version"]


class TopicSerializer(ModelValidatedSerializer):
    """An issue; its description says what "supports" means on it."""

    class Meta:
        model = Topic
        fields = ["id", "slug", "name", "description", "sort_order", "version"]
        read_only_fields = ["version"]


# Not only white space (and, as every string here, no NUL character).
SOME_TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"


class SourceSerializer(ModelValidatedSerializer):
    """A source; its text, the snapshot quotes anchor to, is in the detail only."""

    # Kept exactly: no trimming.
    text = StrictRegexField(SOME_TEXT, trim_whitespace=False, write_only=True)
    url = OptionalURLField(max_length=500, allow_blank=True, required=False)

    class Meta:
        model = Source
        fields = [
            "id",
            "title",
            "publisher",
            "published_on",
            "published_on_precision",
            "url",
            "language",
            "translated_from",
            "original",
            "sha256",
            "note",
            "text",
            "version",
        ]
        read_only_fields = ["sha256", "version"]


class SourceDetailSerializer(SourceSerializer):
    """A source with its full text."""

    text = StrictRegexField(SOME_TEXT, trim_whitespace=False)


class ActorReferenceField(StrictPrimaryKeyRelatedField):
    """Written as the actor's id; read as the actor's id, name and party code."""

    def use_pk_only_optimization(self):
        return False

    def to_representation(self, actor):
        return {
            "id": actor.pk,
            "name": actor.name,
            "party": actor.party.code if actor.party_id else None,
        }


class ProposalReferenceField(StrictPrimaryKeyRelatedField):
    """Written as the proposal's id; read with its title and the statement's stance on it
    (see StatementSerializer.to_representation)."""


class SelectorSerializer(serializers.Serializer):
    """Where the quote is in its source: code point offsets, and the text around it."""

    start = StrictIntegerField(min_value=0, max_value=2**31 - 1, required=False, allow_null=True)
    end = StrictIntegerField(min_value=1, max_value=2**31 - 1, required=False, allow_null=True)
    prefix = serializers.CharField(read_only=True, trim_whitespace=False)
    suffix = serializers.CharField(read_only=True, trim_whitespace=False)


CLIENT_REFERENCE = r"^[A-Za-z0-9._:-]{1,64}$"


class StatementSerializer(ModelValidatedSerializer):
    """
    Who said what, verbatim: the quote must be the source's text (at the selector's offsets
    if given), and is stored exactly as sent.
    """

    actor = ActorReferenceField(queryset=Actor.objects.all())
    party = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    topics = StrictSlugRelatedField(
        slug_field="slug", queryset=Topic.objects.all(), many=True, allow_empty=False
    )
    source = StrictPrimaryKeyRelatedField(queryset=Source.objects.all())
    # Stored byte for byte: DRF trims whitespace by default, which would change a quote.
    quote = StrictCharField(trim_whitespace=False, allow_blank=True, required=False)
    # Null while the statement awaits review: its offsets are then an old text's.
    selector = SelectorSerializer(required=False, allow_null=True)
    proposal = ProposalReferenceField(
        queryset=Proposal.objects.all(), allow_null=True, required=False
    )
    holder = ActorReferenceField(
        queryset=Actor.objects.all(),
        allow_null=True,
        required=False,
        help_text="Whose position it is, when the speaker (actor) reports another's.",
    )
    # A second exact span of the same source, kept byte for byte like the quote.
    condition_quote = StrictCharField(
        trim_whitespace=False,
        allow_blank=True,
        required=False,
        help_text="The words of the source that state a conditional stance's condition.",
    )
    condition_start = StrictIntegerField(
        min_value=0, max_value=2**31 - 1, required=False, allow_null=True
    )
    condition_end = StrictIntegerField(
        min_value=1, max_value=2**31 - 1, required=False, allow_null=True
    )
    condition_topic = StrictSlugRelatedField(
        slug_field="slug", queryset=Topic.objects.all(), allow_null=True, required=False
    )
    original_quote = StrictCharField(
        trim_whitespace=False,
        allow_blank=True,
        required=False,
        help_text="The same words in the source's original-language text, verbatim.",
    )
    original_start = StrictIntegerField(
        min_value=0, max_value=2**31 - 1, required=False, allow_null=True
    )
    original_end = StrictIntegerField(
        min_value=1, max_value=2**31 - 1, required=False, allow_null=True
    )
    topic_stances = serializers.DictField(
        child=serializers.ChoiceField(choices=Stance.choices),
        required=False,
        help_text="The stance on a topic where it differs from the statement's own (its "
        "direction is the other way on that topic), by topic slug; only such topics are "
        "listed. Writing it replaces every such stance.",
    )
    client_reference = serializers.RegexField(
        CLIENT_REFERENCE,
        max_length=64,
        required=False,
        allow_null=True,
        help_text="Optional, on create: your own reference for this statement (1 to 64 "
        "letters, digits, '.', '_', ':' or '-', e.g. a UUID). Sending a statement with a "
        "reference that is already stored answers 200 with that statement instead of "
        "storing it twice, so a create can be retried safely.",
        error_messages={
            "invalid": "Use 1 to 64 letters, digits, '.', '_', ':' or '-' (e.g. a UUID)."
        },
    )

    class Meta:
        model = Statement
        fields = [
            "id",
            "actor",
            "party",
            "topics",
            "source",
            "quote",
            "selector",
            "stance",
            "topic_stances",
            "certainty",
            "condition_quote",
            "condition_start",
            "condition_end",
            "condition_topic",
            "condition_proposal",
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
            "original_start",
            "original_end",
            "note",
            "needs_review",
            "client_reference",
            "version",
        ]
        read_only_fields = ["version", "needs_review"]
        extra_kwargs = {"proposal_stance": {"write_only": True}}

    def validate_client_reference(self, value):
        if self.instance is not None and value != self.instance.client_reference:
            raise serializers.ValidationError("A statement's client reference cannot change.")
        return value

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        selector = attrs.pop("selector", None) or {}
        for name in ("start", "end"):
            if name in selector:
                attrs[name] = selector[name]
        if selector.keys() & {"start", "end"} and self.instance is not None:
            # One offset alone places the quote from there: the other follows from it.
            attrs.setdefault("start", None)
            attrs.setdefault("end", None)
        quote_changed = self.instance is not None and attrs.get("quote", self.instance.quote) != (
            self.instance.quote
        )
        if quote_changed and not selector:
            # A new quote without offsets is looked up again in the source (except for a
            # statement awaiting review, which only offsets place: see the model).
            attrs.setdefault("start", None)
            attrs.setdefault("end", None)
        return attrs

    def validate(self, attrs):
        stances = attrs.pop("topic_stances", None)
        if stances is not None:
            topics = attrs.get("topics")
            slugs = (
                {topic.slug for topic in topics}
                if topics is not None
                else set(self.instance.topics.values_list("slug", flat=True))
                if self.instance is not None
                else set()
            )
            stance = attrs.get("stance", getattr(self.instance, "stance", None))
            errors = [
                f"“{slug}” is not one of the statement's topics."
                for slug in stances
                if slug not in slugs
            ] + [
                f"On “{slug}” this is the statement's own stance: leave the topic out."
                for slug, value in stances.items()
                if value == stance
            ]
            if errors:
                raise serializers.ValidationError({"topic_stances": errors})
        elif attrs.get("topics") is not None and self.instance is not None:
            # Stances of topics the statement keeps stay; those of topics it drops go.
            kept = {topic.slug for topic in attrs["topics"]}
            stances = {
                slug: value
                for slug, value in topic_stances_of(self.instance).items()
                if slug in kept
            }
        self.topic_stances = stances
        return super().validate(attrs)

    def create(self, validated_data):
        with transaction.atomic():
            statement = super().create(validated_data)
            self.save_topic_stances(statement)
        return statement

    def update(self, instance, validated_data):
        with transaction.atomic():
            statement = super().update(instance, validated_data)
            self.save_topic_stances(statement)
        return statement

    def save_topic_stances(self, statement):
        if self.topic_stances is None:
            return
        for link in statement.topic_links.select_related("topic"):
            wanted = self.topic_stances.get(link.topic.slug, "")
            if link.stance_override != wanted:
                link.stance_override = wanted
                link.save()

    def to_representation(self, statement):
        data = super().to_representation(statement)
        data["topic_stances"] = topic_stances_of(statement)
        data["selector"] = (
            None
            if statement.needs_review
            else {
                "start": statement.start,
                "end": statement.end,
                "prefix": statement.prefix,
                "suffix": statement.suffix,
            }
        )
        data["proposal"] = (
            {
                "id": statement.proposal_id,
                "title": statement.proposal.title,
                "stance": statement.proposal_stance,
            }
            if statement.proposal_id
            else None
        )
        return data

    def excluded_from_clean(self):
        return ["topics"]


def topic_stances_of(statement):
    """{topic slug: stance} where the statement's stance on a topic is its own."""
    if statement.pk is None:
        return {}
    return dict(
        statement.topic_links.exclude(stance_override="")
        .order_by("topic__sort_order", "topic__name")
        .values_list("topic__slug", "stance_override")
    )


class ParameterSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProposalParameter
        fields = ["quantity", "limit", "value", "unit", "applies_to", "note"]


class ProposalSerializer(ModelValidatedSerializer):
    """What a side put forward, with its numbers, status and the other side's responses."""

    party = PartyCodeField()
    topics = StrictSlugRelatedField(
        slug_field="slug", queryset=Topic.objects.all(), many=True, required=False
    )
    parameters = ParameterSerializer(many=True, read_only=True)
    responses = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id",
            "slug",
            "title",
            "kind",
            "description",
            "party",
            "actor",
            "reported_by",
            "topics",
            "parameters",
            "status",
            "timing",
            "condition",
            "meeting",
            "proposed_on",
            "proposed_on_precision",
            "proposed_until",
            "proposed_until_precision",
            "date_inferred",
            "date_basis",
            "source",
            "responses",
            "version",
        ]
        read_only_fields = ["version"]
        # The source's own words, exactly.
        extra_kwargs = {
            "timing": {"trim_whitespace": False},
            "condition": {"trim_whitespace": False},
        }

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "statement": {"type": "integer"},
                    "party": {"type": "string"},
                    "stance": {"type": "string"},
                },
            },
        }
    )
    def get_responses(self, proposal):
        return [
            {
                "statement": statement.pk,
                "party": statement.party.code,
                "stance": statement.proposal_stance,
            }
            for statement in proposal.responses
        ]


class MeetingSerializer(ModelValidatedSerializer):
    """A meeting, held or announced, with its parent (e.g. a visit) and its duration."""

    participants = StrictPrimaryKeyRelatedField(
        queryset=Actor.objects.all(), many=True, required=False
    )

    class Meta:
        model = Meeting
        fields = [
            "id",
            "slug",
            "title",
            "kind",
            "starts_on",
            "ends_on",
            "date_precision",
            "date_inferred",
            "date_basis",
            "location",
            "participants",
            "parent",
            "planned_minutes",
            "actual_minutes",
            "status",
            "summary",
            "source",
            "version",
        ]
        read_only_fields = ["version"]
        # The model's constraints: a duration, if known, is at least a minute.
        extra_kwargs = {"planned_minutes": {"min_value": 1}, "actual_minutes": {"min_value": 1}}
