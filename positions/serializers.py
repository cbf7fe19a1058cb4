from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from positions.models import (
    Actor,
    Meeting,
    Party,
    Proposal,
    ProposalParameter,
    Source,
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


class ModelValidatedSerializer(serializers.ModelSerializer):
    """
    Validates with the model's own full_clean(), so the API refuses exactly what the admin
    refuses, with the same messages, keyed by field.
    """

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
        self.validated_instance.save_if_version(expected)
        for name, value in many_to_many.items():
            getattr(instance, name).set(value)
        return instance


class PartySerializer(ModelValidatedSerializer):
    class Meta:
        model = Party
        fields = ["id", "code", "name", "sort_order", "version"]
        read_only_fields = ["version"]


class PartyCodeField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Party.objects.all())
        super().__init__(**kwargs)


class ActorSerializer(ModelValidatedSerializer):
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
    class Meta:
        model = Topic
        fields = ["id", "slug", "name", "description", "sort_order", "version"]
        read_only_fields = ["version"]


class SourceSerializer(ModelValidatedSerializer):
    # Kept exactly: no trimming.
    text = serializers.CharField(trim_whitespace=False, write_only=True)

    class Meta:
        model = Source
        fields = [
            "id",
            "title",
            "publisher",
            "published_on",
            "published_on_precision",
            "url",
            "sha256",
            "note",
            "text",
            "version",
        ]
        read_only_fields = ["sha256", "version"]


class SourceDetailSerializer(SourceSerializer):
    text = serializers.CharField(trim_whitespace=False)


class ActorSummarySerializer(serializers.ModelSerializer):
    party = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Actor
        fields = ["id", "name", "party"]


class SelectorSerializer(serializers.Serializer):
    start = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    end = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    prefix = serializers.CharField(read_only=True, trim_whitespace=False)
    suffix = serializers.CharField(read_only=True, trim_whitespace=False)


class ProposalLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    stance = serializers.CharField(allow_blank=True)


class StatementSerializer(ModelValidatedSerializer):
    actor = serializers.PrimaryKeyRelatedField(queryset=Actor.objects.all())
    party = serializers.SlugRelatedField(slug_field="code", read_only=True)
    topics = serializers.SlugRelatedField(
        slug_field="slug", queryset=Topic.objects.all(), many=True, allow_empty=False
    )
    source = serializers.PrimaryKeyRelatedField(queryset=Source.objects.all())
    # Stored byte for byte: DRF trims whitespace by default, which would change a quote.
    quote = serializers.CharField(trim_whitespace=False, allow_blank=True, required=False)
    selector = SelectorSerializer(required=False)
    proposal = serializers.PrimaryKeyRelatedField(
        queryset=Proposal.objects.all(), allow_null=True, required=False
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
            "kind",
            "stated_on",
            "stated_on_precision",
            "meeting",
            "proposal",
            "proposal_stance",
            "note",
            "version",
        ]
        read_only_fields = ["version"]

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        selector = attrs.pop("selector", None) or {}
        for name in ("start", "end"):
            if name in selector:
                attrs[name] = selector[name]
        if self.instance is not None and "quote" in attrs and not selector:
            # A new quote without offsets is looked up again in the source.
            attrs.setdefault("start", None)
            attrs.setdefault("end", None)
        return attrs

    def to_representation(self, statement):
        data = super().to_representation(statement)
        data["actor"] = ActorSummarySerializer(statement.actor).data
        data["selector"] = {
            "start": statement.start,
            "end": statement.end,
            "prefix": statement.prefix,
            "suffix": statement.suffix,
        }
        data["proposal"] = (
            {
                "id": statement.proposal_id,
                "title": statement.proposal.title,
                "stance": statement.proposal_stance,
            }
            if statement.proposal_id
            else None
        )
        data.pop("proposal_stance")
        return data

    def excluded_from_clean(self):
        return ["topics"]


class ParameterSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProposalParameter
        fields = ["quantity", "limit", "value", "unit", "applies_to", "note"]


class ProposalSerializer(ModelValidatedSerializer):
    party = PartyCodeField()
    topics = serializers.SlugRelatedField(
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
            "description",
            "party",
            "actor",
            "topics",
            "parameters",
            "status",
            "meeting",
            "proposed_on",
            "proposed_on_precision",
            "source",
            "responses",
            "version",
        ]
        read_only_fields = ["version"]

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
    participants = serializers.PrimaryKeyRelatedField(
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
