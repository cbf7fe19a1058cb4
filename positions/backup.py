"""
Backups of the whole database, and a fingerprint to prove a restore is identical.

PostgreSQL: pg_dump's custom format, restored with pg_restore into an empty database.
SQLite: Django's dumpdata of every table Django manages (the history, content types and
permissions included, with their ids), loaded into a freshly migrated file emptied of
what the migrations put there. The full-text index is rebuilt by its triggers as the
rows go in.
"""

import gzip
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.apps import apps
from django.core.management import call_command
from django.db import connection, models, transaction

from positions import audit


class BackupError(Exception):
    pass


def is_postgresql():
    return connection.vendor == "postgresql"


def suffix():
    return ".dump" if is_postgresql() else ".json.gz"


def libpq_environment():
    """The connection settings as libpq variables, for pg_dump and pg_restore."""
    settings = connection.settings_dict
    env = dict(os.environ)
    for variable, key in [
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ]:
        if settings.get(key):
            env[variable] = str(settings[key])
    return env


def run(command):
    done = subprocess.run(command, env=libpq_environment(), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


def back_up(path):
    """Write the whole database to ``path``."""
    path = Path(path)
    if is_postgresql():
        run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={path}"])
        return
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / "data.exactjson"
        # One transaction: every table as of one moment.
        with transaction.atomic():
            call_command("dumpdata", format="exactjson", output=str(plain), verbosity=0)
        with plain.open("rb") as source, gzip.open(path, "wb") as target:
            shutil.copyfileobj(source, target)


def restore(path):
    """Load the backup at ``path`` into the current database, which must hold no data."""
    path = Path(path)
    if not path.exists():
        raise BackupError(f"There is no backup at {path}.")
    if is_postgresql():
        if not path.name.endswith(".dump"):
            raise BackupError(f"{path.name} is not a PostgreSQL backup (.dump).")
        name = connection.settings_dict["NAME"]
        run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "-d",
                name,
                str(path),
            ]
        )
        return
    if not path.name.endswith(".json.gz"):
        raise BackupError(f"{path.name} is not a SQLite backup (.json.gz).")
    call_command("migrate", verbosity=0)
    # Empty, without the rows migrate makes again on a flush (content types, permissions):
    # the backup has them all, with their ids.
    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / "data.exactjson"
        with gzip.open(path, "rb") as source, plain.open("wb") as target:
            shutil.copyfileobj(source, target)
        with audit.restoring():
            call_command("loaddata", str(plain), verbosity=0)
    record_anchored_texts()


def record_anchored_texts():
    """
    A backup made before statements recorded the hash of the text their offsets count in
    (migration 0011) loads them without it: as the migration did, give each placed one its
    source's, the text it was checked against when the backup was made.
    """
    from django.db.models import OuterRef, Subquery

    from positions.models import Source, Statement

    hashes = Source.objects.filter(pk=OuterRef("source_id")).values("sha256")[:1]
    models.QuerySet(Statement).filter(needs_review=False, source_sha256="").update(
        source_sha256=Subquery(hashes)
    )


def fingerprint():
    """
    Every Django-managed table's row count and a checksum of its rows: {table: [rows,
    sha256]}. Equal fingerprints, equal data.

    Content types and permissions are made by migrate in each database, in the order the
    apps were installed there, so their ids may differ between two databases holding the
    same data: they, and every reference to them, are compared by their natural keys.
    Many-to-many link rows are compared by what they link, not by their own ids.
    """
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    content_types = {
        pk: (app_label, model)
        for pk, app_label, model in ContentType.objects.values_list("pk", "app_label", "model")
    }
    permissions = {
        pk: (*content_types[content_type], codename)
        for pk, content_type, codename in Permission.objects.values_list(
            "pk", "content_type", "codename"
        )
    }
    natural = {ContentType: content_types, Permission: permissions}
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if not meta.managed or meta.proxy:
            continue
        if model in natural:
            rows = sorted(natural[model].values())
        else:
            fields = [f for f in meta.concrete_fields if not (meta.auto_created and f.primary_key)]
            keys = [natural.get(f.related_model) if f.is_relation else None for f in fields]
            values = model._base_manager.values_list(*[f.attname for f in fields])
            if not meta.auto_created:
                values = values.order_by("pk")
            rows = (
                tuple(
                    key[value] if key is not None and value is not None else normal(value)
                    for key, value in zip(keys, row, strict=True)
                )
                for row in values.iterator(chunk_size=2000)
            )
            if meta.auto_created:  # link rows: in the order of what they link
                rows = sorted(rows, key=repr)
        digest, count = hashlib.sha256(), 0
        for row in rows:
            digest.update(repr(row).encode())
            count += 1
        tables[meta.db_table] = [count, digest.hexdigest()]
    return tables


def normal(value):
    """A value in the text form both databases give back for it."""
    return value if isinstance(value, (int, str, bool)) else str(value)
