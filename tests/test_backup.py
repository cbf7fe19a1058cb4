"""
Backup and restore (issue 7): `backup` writes the whole database and a fingerprint of
every table; `restore` loads it into an empty database and proves the copy identical,
with quotes verified; the copy takes new rows. Runs on whichever database the suite runs
on (pg_dump/pg_restore on PostgreSQL, dumpdata/loaddata on SQLite).
"""

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, models

from positions import backup
from positions.models import Statement
from tests.factories import StatementFactory, TopicFactory

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def empty_database(tmp_path):
    """The URL of a new, empty database of the suite's kind; dropped afterwards."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"restore_drill_{uuid.uuid4().hex[:10]}"
    settings = connection.settings_dict
    env = backup.libpq_environment()
    subprocess.run(["createdb", name], env=env, check=True)
    user = settings.get("USER") or "postgres"
    yield f"postgres://{user}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"
    subprocess.run(["dropdb", "--if-exists", "--force", name], env=env, check=True)


def manage(database_url, *args, code=None):
    env = {**os.environ, "DATABASE_URL": database_url}
    command = (
        [sys.executable, "manage.py", *args]
        if code is None
        else [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            code,
        ]
    )
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.fixture
def data(editor_client):
    """The seed, plus edits through the admin and the API: history rows, links, versions."""
    call_command("load_seed", stdout=io.StringIO())
    statement = Statement.objects.order_by("pk").first()
    response = editor_client.patch(
        f"/api/v1/statements/{statement.pk}/",
        {"note": "Edited for the drill — “quotes”, dashes, \t tabs."},
        content_type="application/json",
        headers={"If-Match": f'"{statement.version}"'},
    )
    assert response.status_code == 200
    StatementFactory(topics=[TopicFactory(), TopicFactory()])


def test_a_restore_is_identical_verified_and_takes_new_rows(data, tmp_path, empty_database):
    path = tmp_path / f"drill{backup.suffix()}"
    call_command("backup", output=str(path), stdout=io.StringIO())
    fingerprint = json.loads(Path(f"{path}.fingerprint.json").read_text())
    assert fingerprint["positions_statement"][0] == Statement.objects.count()
    assert fingerprint["positions_historicalstatement"][0] > Statement.objects.count()

    restored = manage(empty_database, "restore", str(path))
    assert restored.returncode == 0, restored.stderr
    assert "every table identical to the backup's fingerprint" in restored.stdout
    assert "quotes verified" in restored.stdout

    # New rows go in after the restored ones (sequences carried over).
    inserted = manage(
        empty_database,
        code=(
            "from positions.models import Actor, Statement, Topic\n"
            "s = Statement.objects.order_by('pk').first()\n"
            "t = Topic.objects.create(slug='after-restore', name='After the restore')\n"
            "a = Actor.objects.create(slug='after-restore', name='After', party=s.party)\n"
            "new = Statement.objects.create(actor=a, source=s.source, quote=s.quote,"
            " start=s.start, stance=s.stance, kind=s.kind)\n"
            "new.topics.add(t)\n"
            "print('new', new.pk > s.pk, Statement.objects.count())"
        ),
    )
    assert inserted.returncode == 0, inserted.stderr
    assert inserted.stdout.split()[-2:] == ["True", str(Statement.objects.count() + 1)]
    again = manage(empty_database, "verify_quotes")
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_copy_that_differs_from_its_fingerprint_fails_the_restore(
    data, tmp_path, empty_database
):
    path = tmp_path / f"drill{backup.suffix()}"
    call_command("backup", output=str(path), stdout=io.StringIO())
    fingerprint_path = Path(f"{path}.fingerprint.json")
    tables = json.loads(fingerprint_path.read_text())
    count, _ = tables["positions_statement"]
    tables["positions_statement"] = [count, "0" * 64]
    fingerprint_path.write_text(json.dumps(tables))
    restored = manage(empty_database, "restore", str(path))
    assert restored.returncode != 0
    assert "differs from the backup in: positions_statement" in restored.stderr


def test_a_restore_refuses_a_database_that_is_not_empty(data, tmp_path):
    path = tmp_path / f"drill{backup.suffix()}"
    call_command("backup", output=str(path), stdout=io.StringIO())
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(path), stdout=io.StringIO())


def test_a_backup_never_overwrites_a_file(tmp_path):
    path = tmp_path / "exists.dump"
    path.write_text("precious")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", output=str(path), stdout=io.StringIO())
    assert path.read_text() == "precious"


def test_a_restore_refuses_a_missing_or_foreign_file(tmp_path, empty_database):
    missing = manage(empty_database, "restore", str(tmp_path / "nothing.dump"))
    assert missing.returncode != 0 and "There is no backup at" in missing.stderr
    foreign = tmp_path / "notes.txt"
    foreign.write_text("hello")
    refused = manage(empty_database, "restore", str(foreign))
    assert refused.returncode != 0 and "is not a" in refused.stderr


def test_statements_loaded_from_a_backup_older_than_their_text_hashes_get_them(russia):
    # A backup made before migration 0011 has no source_sha256: a restore fills it in for
    # placed statements, as the migration did, and leaves those awaiting review alone.
    placed = StatementFactory()
    waiting = StatementFactory()
    models.QuerySet(Statement).filter(pk=placed.pk).update(source_sha256="")
    models.QuerySet(Statement).filter(pk=waiting.pk).update(source_sha256="", needs_review=True)
    backup.record_anchored_texts()
    placed.refresh_from_db()
    waiting.refresh_from_db()
    assert placed.source_sha256 == placed.source.sha256
    assert waiting.source_sha256 == ""
    call_command("verify_quotes", stdout=io.StringIO())
