from django.core.management.base import BaseCommand, CommandError
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from positions.models import UNDATED, Source, Statement, StatementTopic


def stale_topic_links():
    """Topic links whose copy of the statement's party, stance or date differs from it."""
    party_differs = (
        Q(party__isnull=True, statement__party__isnull=False)
        | Q(party__isnull=False, statement__party__isnull=True)
        | (Q(party__isnull=False) & ~Q(party=F("statement__party")))
    )
    return (
        StatementTopic.objects.filter(
            party_differs
            | ~Q(stance=F("statement__stance"))
            | ~Q(sort_date=Coalesce(F("statement__stated_on"), Value(UNDATED)))
        )
        .order_by()
        .count()
    )


class Command(BaseCommand):
    help = (
        "Check that every statement's quote is exactly the source text at its offsets, with "
        "matching context, that its party is its actor's, and that its topic links hold its "
        "party, stance and date. Prints each mismatch and exits "
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
