from django.core.management.base import BaseCommand, CommandError

from positions.models import Source, Statement


class Command(BaseCommand):
    help = (
        "Check that every statement's quote is exactly the source text at its offsets, with "
        "matching context, and that its party is its actor's. Prints each mismatch and exits "
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
        if mismatched:
            raise CommandError(f"{mismatched} of {checked} statements do not match their source.")
        self.stdout.write(f"All {checked} statements match their sources exactly.")
        if awaiting:
            self.stdout.write(
                f"{awaiting} statement(s) await review after their source's text was edited "
                "(listed at /review/); they were not checked."
            )
