"""
Loading the seed data in ``fixtures/seed.json``.

Every object in the seed has a key (a party's code, a slug, or a statement's key). Loading
records each key it creates in SeedEntry, and an object whose key is recorded is never
created, updated or resurrected again: so loading twice duplicates nothing, and edits (or
deletions) made since in the admin stand.
"""

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from positions.models import (
    Actor,
    Meeting,
    Party,
    Proposal,
    ProposalParameter,
    SeedEntry,
    Source,
    Statement,
    Topic,
)

SEED_PATH = Path(settings.BASE_DIR) / "fixtures" / "seed.json"


class SeedError(Exception):
    pass


@dataclass
class SeedReport:
    created: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)

    def count(self, bucket, model_name):
        bucket[model_name] = bucket.get(model_name, 0) + 1

    def summary(self):
        def listing(bucket):
            return ", ".join(f"{count} {name}" for name, count in bucket.items()) or "nothing"

        return f"Created {listing(self.created)}; left as they were: {listing(self.skipped)}."


def parse_date(value):
    return datetime.date.fromisoformat(value) if value else None


def read_seed(path=SEED_PATH):
    with open(path, encoding="utf-8") as seed_file:
        return json.load(seed_file)


def source_text(entry, base=SEED_PATH.parent):
    # newline="" keeps the file's line endings exactly as they are.
    with open(base / entry["file"], encoding="utf-8", newline="") as text_file:
        return text_file.read()


class SeedLoader:
    def __init__(self, data, base=SEED_PATH.parent):
        self.data = data
        self.base = base
        self.report = SeedReport()
        self.loaded = dict(SeedEntry.objects.values_list("key", "object_id"))

    def load(self):
        with transaction.atomic():
            for entry in self.data.get("parties", []):
                self.load_one(f"party:{entry['code']}", Party, self.build_party, entry)
            for entry in self.data.get("topics", []):
                self.load_one(f"topic:{entry['slug']}", Topic, self.build_topic, entry)
            for entry in self.data.get("sources", []):
                self.load_one(f"source:{entry['key']}", Source, self.build_source, entry)
            for entry in self.data.get("actors", []):
                self.load_one(f"actor:{entry['slug']}", Actor, self.build_actor, entry)
            for entry in self.data.get("meetings", []):
                self.load_one(f"meeting:{entry['slug']}", Meeting, self.build_meeting, entry)
            for entry in self.data.get("proposals", []):
                self.load_one(f"proposal:{entry['slug']}", Proposal, self.build_proposal, entry)
            for entry in self.data.get("statements", []):
                self.load_one(f"statement:{entry['key']}", Statement, self.build_statement, entry)
        return self.report

    def load_one(self, key, model, build, entry):
        name = model._meta.verbose_name_plural
        if key in self.loaded:
            self.report.count(self.report.skipped, name)
            return
        try:
            obj, created = build(entry)
        except ValidationError as error:
            raise SeedError(f"{key}: {'; '.join(error.messages)}") from error
        except (KeyError, ObjectDoesNotExist, StopIteration) as error:
            raise SeedError(f"{key}: refers to something missing: {error!r}") from error
        except TypeError as error:
            raise SeedError(f"{key}: unexpected field: {error}") from error
        SeedEntry.objects.create(key=key, object_id=obj.pk)
        self.loaded[key] = obj.pk
        self.report.count(self.report.created if created else self.report.skipped, name)

    @staticmethod
    def save_new(obj, unique_lookup):
        """
        Save obj unless an object with the same identity already exists (made by hand);
        return the object kept and whether it is new.
        """
        existing = type(obj)._default_manager.filter(**unique_lookup).first()
        if existing is not None:
            return existing, False
        obj.full_clean()
        obj.save()
        return obj, True

    def build_party(self, entry):
        party = Party(
            code=entry["code"], name=entry["name"], sort_order=entry.get("sort_order", 100)
        )
        return self.save_new(party, {"code": party.code})

    def build_topic(self, entry):
        topic = Topic(
            slug=entry["slug"],
            name=entry["name"],
            description=entry.get("description", ""),
            sort_order=entry.get("sort_order", 100),
        )
        return self.save_new(topic, {"slug": topic.slug})

    def build_source(self, entry):
        text = source_text(entry, self.base)
        sha256 = Source.text_hash(text)
        if entry.get("sha256") and entry["sha256"] != sha256:
            raise ValidationError(f"{entry['file']} does not have the expected SHA-256.")
        source = Source(
            title=entry["title"],
            publisher=entry.get("publisher", ""),
            published_on=parse_date(entry.get("published_on")),
            published_on_precision=entry.get("published_on_precision", "day"),
            url=entry.get("url", ""),
            text=text,
            language=entry.get("language", "en"),
            translated_from=entry.get("translated_from", ""),
            original=self.source(entry["original"]) if entry.get("original") else None,
            note=entry.get("note", ""),
        )
        source.sha256 = sha256
        return self.save_new(source, {"sha256": sha256})

    def source(self, key):
        """The source loaded for this key, even if its text has been corrected since."""
        return Source.objects.get(pk=self.loaded[f"source:{key}"])

    def build_actor(self, entry):
        actor = Actor(
            slug=entry["slug"],
            kind=entry.get("kind", "person"),
            name=entry["name"],
            honorific_prefix=entry.get("honorific_prefix", ""),
            party=Party.objects.get(code=entry["party"]) if entry.get("party") else None,
            role=entry.get("role", ""),
            note=entry.get("note", ""),
        )
        return self.save_new(actor, {"slug": actor.slug})

    def build_meeting(self, entry):
        meeting = Meeting(
            slug=entry["slug"],
            title=entry["title"],
            kind=entry["kind"],
            status=entry["status"],
            starts_on=parse_date(entry.get("starts_on")),
            ends_on=parse_date(entry.get("ends_on")),
            date_precision=entry.get("date_precision", "day"),
            date_inferred=entry.get("date_inferred", False),
            date_basis=entry.get("date_basis", ""),
            location=entry.get("location", ""),
            parent=Meeting.objects.get(slug=entry["parent"]) if entry.get("parent") else None,
            planned_minutes=entry.get("planned_minutes"),
            actual_minutes=entry.get("actual_minutes"),
            summary=entry.get("summary", ""),
            source=self.source(entry["source"]) if entry.get("source") else None,
        )
        meeting, created = self.save_new(meeting, {"slug": meeting.slug})
        if created:
            meeting.participants.set(Actor.objects.filter(slug__in=entry.get("participants", [])))
            self.check_all_found(entry.get("participants", []), meeting.participants.all())
        return meeting, created

    def build_proposal(self, entry):
        proposal = Proposal(
            slug=entry["slug"],
            title=entry["title"],
            kind=entry.get("kind", "proposal"),
            description=entry.get("description", ""),
            party=Party.objects.get(code=entry["party"]),
            actor=self.actor(entry.get("actor")),
            reported_by=self.actor(entry.get("reported_by")),
            timing=entry.get("timing", ""),
            condition=entry.get("condition", ""),
            meeting=Meeting.objects.get(slug=entry["meeting"]) if entry.get("meeting") else None,
            status=entry.get("status", "proposed"),
            proposed_on=parse_date(entry.get("proposed_on")),
            proposed_on_precision=entry.get("proposed_on_precision", "day"),
            proposed_until=parse_date(entry.get("proposed_until")),
            proposed_until_precision=entry.get("proposed_until_precision", "day"),
            date_inferred=entry.get("date_inferred", False),
            date_basis=entry.get("date_basis", ""),
            source=self.source(entry["source"]) if entry.get("source") else None,
        )
        proposal, created = self.save_new(proposal, {"slug": proposal.slug})
        if created:
            proposal.topics.set(Topic.objects.filter(slug__in=entry.get("topics", [])))
            self.check_all_found(entry.get("topics", []), proposal.topics.all())
            for order, parameter in enumerate(entry.get("parameters", [])):
                row = ProposalParameter(proposal=proposal, sort_order=order, **parameter)
                row.full_clean()
                row.save()
        return proposal, created

    def build_statement(self, entry):
        source = self.source(entry["source"])
        statement = Statement(
            actor=Actor.objects.get(slug=entry["actor"]),
            source=source,
            quote=entry["quote"],
            start=entry.get("start"),
            stance=entry["stance"],
            certainty=entry.get("certainty", "firm"),
            condition_quote=entry.get("condition", ""),
            condition_start=entry.get("condition_start"),
            condition_topic=(
                Topic.objects.get(slug=entry["condition_topic"])
                if entry.get("condition_topic")
                else None
            ),
            condition_proposal=self.proposal(entry.get("condition_proposal")),
            kind=entry["kind"],
            holder=self.actor(entry.get("holder")),
            joint=entry.get("joint", False),
            stated_on=parse_date(entry.get("stated_on")),
            stated_on_precision=entry.get("stated_on_precision", "day"),
            stated_until=parse_date(entry.get("stated_until")),
            stated_until_precision=entry.get("stated_until_precision", "day"),
            date_inferred=entry.get("date_inferred", False),
            date_basis=entry.get("date_basis", ""),
            meeting=Meeting.objects.get(slug=entry["meeting"]) if entry.get("meeting") else None,
            meeting_relation=entry.get("meeting_relation", ""),
            proposal=self.proposal(entry.get("proposal")),
            proposal_stance=entry.get("proposal_stance", ""),
            note=entry.get("note", ""),
        )
        statement.anchor()
        identity = {
            "source": source,
            "actor": statement.actor,
            "start": statement.start,
            "end": statement.end,
        }
        statement, created = self.save_new(statement, identity)
        if created:
            statement.topics.set(Topic.objects.filter(slug__in=entry["topics"]))
            self.check_all_found(entry["topics"], statement.topics.all())
            # Its own stance on some of its topics (docs/codebook.md).
            for slug, stance in entry.get("topic_stances", {}).items():
                link = statement.topic_links.get(topic__slug=slug)
                link.stance_override = stance
                link.full_clean()
                link.save()
        return statement, created

    @staticmethod
    def actor(slug):
        return Actor.objects.get(slug=slug) if slug else None

    @staticmethod
    def proposal(slug):
        return Proposal.objects.get(slug=slug) if slug else None

    @staticmethod
    def check_all_found(wanted, found):
        missing = set(wanted) - {getattr(obj, "slug", None) for obj in found}
        if missing:
            raise ValidationError(f"unknown slugs: {', '.join(sorted(missing))}")


def load_seed(path=SEED_PATH):
    return SeedLoader(read_seed(path), base=Path(path).parent).load()
