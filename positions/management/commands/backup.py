import datetime
import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from positions import backup


class Command(BaseCommand):
    help = (
        "Back the whole database up to one file (pg_dump on PostgreSQL, dumpdata on "
        "SQLite), with a fingerprint of every table beside it (FILE.fingerprint.json) "
        "that `restore` checks the restored copy against."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            help="The file to write (default: backups/arms-talks-<date and time>.dump on "
            "PostgreSQL, .json.gz on SQLite).",
        )

    def handle(self, *args, **options):
        output = options["output"]
        if output is None:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            output = Path(settings.BASE_DIR) / "backups" / f"arms-talks-{stamp}{backup.suffix()}"
        output = Path(output)
        if output.exists():
            raise CommandError(f"{output} exists already; give another --output.")
        output.parent.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        try:
            backup.back_up(output)
        except backup.BackupError as error:
            output.unlink(missing_ok=True)
            raise CommandError(str(error)) from error
        tables = backup.fingerprint()
        fingerprint_path(output).write_text(json.dumps(tables, indent=1, sort_keys=True))
        rows = sum(count for count, _ in tables.values())
        self.stdout.write(
            f"Backed up {len(tables)} tables, {rows:,} rows, to {output} "
            f"({output.stat().st_size / 1024:,.0f} KB) in {time.monotonic() - began:.1f} s."
        )


def fingerprint_path(path):
    return Path(f"{path}.fingerprint.json")
