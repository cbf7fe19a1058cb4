from django.core.management.base import BaseCommand, CommandError

from positions import audit
from positions.seed import SEED_PATH, SeedError, load_seed


class Command(BaseCommand):
    help = (
        "Load the seed data (the first source and everything captured from it). Safe to run "
        "again: objects loaded before are never duplicated, updated or resurrected."
    )

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(SEED_PATH), help="Seed file to load.")

    def handle(self, *args, path, **options):
        try:
            with audit.operation("command load_seed"):
                report = load_seed(path)
        except (SeedError, OSError, ValueError) as error:
            raise CommandError(f"Seed data not loaded: {error}") from error
        self.stdout.write(report.summary())
