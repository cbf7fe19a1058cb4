import json
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from positions import backup
from positions.management.commands.backup import fingerprint_path


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into an empty database (the one DATABASE_URL "
        "names), then check every table against the backup's fingerprint and run "
        "verify_quotes. Exits non-zero if anything differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="The backup file (.dump or .json.gz).")

    def handle(self, *args, **options):
        if connection.introspection.table_names():
            raise CommandError(
                f"The database {connection.settings_dict['NAME']} is not empty. Restore into "
                "a new, empty database (createdb on PostgreSQL, a new file on SQLite)."
            )
        began = time.monotonic()
        try:
            backup.restore(options["backup"])
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        took = time.monotonic() - began
        expected_path = fingerprint_path(options["backup"])
        tables = backup.fingerprint()
        rows = sum(count for count, _ in tables.values())
        if expected_path.exists():
            expected = json.loads(expected_path.read_text())
            differing = sorted(
                table
                for table in expected.keys() | tables.keys()
                if expected.get(table) != tables.get(table)
            )
            if differing:
                raise CommandError(
                    "The restored copy differs from the backup in: " + ", ".join(differing)
                )
            checked = f"every table identical to the backup's fingerprint ({len(tables)})"
        else:
            checked = "no fingerprint beside the backup, so not compared"
        call_command("verify_quotes", stdout=self.stdout, stderr=self.stderr)
        self.stdout.write(f"Restored {rows:,} rows in {took:.1f} s; {checked}; quotes verified.")
