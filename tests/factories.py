import factory

from positions.models import (
    Actor,
    ActorKind,
    AttributionKind,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Party,
    Proposal,
    ProposalParameter,
    Source,
    Stance,
    Statement,
    Topic,
)

SOURCE_TEXT = (
    "Ivanov said, “We have no wish to withdraw from any treaty or agreement.”\n"
    "Rumsfeld said that the US does not need thousands of warheads.\n"
    "The talks were interrupted – and resumed in the Kremlin."
)


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"P{chr(65 + n // 26 % 26)}{chr(65 + n % 26)}")
    name = factory.Sequence(lambda n: f"Party {n}")


class ActorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Actor

    slug = factory.Sequence(lambda n: f"actor-{n}")
    name = factory.Sequence(lambda n: f"Actor {n}")
    kind = ActorKind.PERSON
    party = factory.SubFactory(PartyFactory)
    role = "Minister"


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    title = factory.Sequence(lambda n: f"Source {n}")
    # Each source's text differs, since sources are unique by their hash.
    text = factory.Sequence(lambda n: f"{SOURCE_TEXT}\n[{n}]")


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    slug = factory.Sequence(lambda n: f"topic-{n}")
    name = factory.Sequence(lambda n: f"Topic {n}")


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    slug = factory.Sequence(lambda n: f"meeting-{n}")
    title = factory.Sequence(lambda n: f"Meeting {n}")
    kind = MeetingKind.BILATERAL
    status = MeetingStatus.HELD


class ProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Proposal

    slug = factory.Sequence(lambda n: f"proposal-{n}")
    title = factory.Sequence(lambda n: f"Proposal {n}")
    party = factory.SubFactory(PartyFactory)


class ProposalParameterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProposalParameter

    proposal = factory.SubFactory(ProposalFactory)
    quantity = factory.Sequence(lambda n: f"strategic nuclear warheads {n}")
    value = 1500
    unit = "warheads"


class StatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Statement
        skip_postgeneration_save = True

    actor = factory.SubFactory(ActorFactory)
    source = factory.SubFactory(SourceFactory)
    quote = "We have no wish to withdraw from any treaty or agreement."
    stance = Stance.SUPPORTS
    kind = AttributionKind.DIRECT_QUOTE
    meeting = None
    meeting_relation = factory.LazyAttribute(lambda o: "said_at" if o.meeting else "")

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create:
            self.topics.set(extracted if extracted is not None else [TopicFactory()])
