from django.core.management.base import BaseCommand, CommandError
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from positions.models import LEAD_RANK, UNDATED, Source, Statement, StatementTopic


def differs(name):
    """A link's copy of a nullable field differs from its statement's (NULL = NULL here)."""
    return (
        Q(**{f"{name}__isnull": True, f"statement__{name}__isnull": False})
        | Q(**{f"{name}__isnull": False, f"statement__{name}__isnull": True})
        | (Q(**{f"{name}__isnull": False}) & ~Q(**{name: F(f"statement__{name}")}))
    )


def stale_topic_links():
    """Topic links whose copy of the statement's party, stance, date, source or start
    differs from it."""
    return (
        StatementTopic.objects.filter(
            differs("party")
            | differs("stated_on")
            | differs("start")
            | differs("stated_on_precision")
            | differs("stated_until")
            | differs("stated_until_precision")
            | differs("joint")
            | ~Q(date_inferred=F("statement__date_inferred"))
            | ~Q(kind=F("statement__kind"))
            | ~Q(lead_rank=LEAD_RANK)
            | (Q(stance_override="") & ~Q(stance=F("statement__stance")))
            | (~Q(stance_override="") & ~Q(stance=F("stance_override")))
            | ~Q(source=F("statement__source"))
            | ~Q(sort_date=Coalesce(F("statement__stated_on"), Value(UNDATED)))
        )
        .order_by()
        .count()
    )


class Command(BaseCommand):
    help = (
        "Check that every statement's quote is exactly the source text at its offsets, with "
        "matching context, that its party is its actor's, and that its topic links hold its "
        "party, stance, date, source and start. Prints each mismatch and exits "
        "non-zero if there is any."
    )

    def handle(self, *args, **options):
        checked = mismatched = awaiting = 0
        # Source by source, so that each text is read once however many statements cite it.
        for source in Source.objects.order_by("pk").iterator(chunk_size=100):
            statements = (
                Statement.objects.filter(source=source)
                .select_related("actor")
                .only(
                    "quote",
                    "start",
                    "end",
                    "prefix",
                    "suffix",
                    "source_sha256",
                    "party",
                    "needs_review",
                    "actor__party",
                )
                .order_by("pk")
            )
            for statement in statements:
                statement.source = source
                if statement.needs_review:
                    awaiting += 1
                    continue
                checked += 1
                problem = statement.anchor_problem()
                if not problem and statement.party_id != statement.actor.party_id:
                    problem = "its party is not its actor's party."
                if problem:
                    mismatched += 1
                    self.stderr.write(f"statement {statement.pk} (source {source.pk}): {problem}")
        stale_links = stale_topic_links()
        if stale_links:
            self.stderr.write(
                f"{stale_links} topic link(s) hold a party, stance or date that is not their "
                "statement's."
            )
        if mismatched or stale_links:
            raise CommandError(
                f"{mismatched} of {checked} statements do not match their source; "
                f"{stale_links} topic link(s) are out of step with their statement."
            )
        self.stdout.write(f"All {checked} statements match their sources exactly.")
        if awaiting:
            self.stdout.write(
                f"{awaiting} statement(s) await review after their source's text was edited "
                "(listed at /review/); they were not checked."
            )
