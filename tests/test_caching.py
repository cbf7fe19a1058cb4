"""
Cached pages never outlive an edit: every write path raises the content version, which
keys the cached fragments, in this process and across processes sharing Redis.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from positions import caching
from positions.models import Stance, Statement, Topic
from tests.factories import ActorFactory, SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture
def seed(seeded):
    return Topic.objects.get(slug="abm-treaty")


def dashboard(client):
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_cached_dashboard_is_read_without_the_comparison_queries(client, seed):
    dashboard(client)
    with CaptureQueriesContext(connection) as queries:
        page = dashboard(client)
    assert "ABM Treaty" in page
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "positions_statementtopic" not in sql
    assert len(queries.captured_queries) <= 3  # the content version, and little else


@pytest.mark.parametrize(
    "edit",
    [
        "save",
        "queryset_update",
        "bulk_update",
        "topic_rename",
        "new_statement",
        "delete",
    ],
)
def test_every_kind_of_write_shows_on_the_cached_dashboard_at_once(client, seed, edit):
    before = dashboard(client)
    statement = Statement.objects.filter(topics=seed).exclude(kind="analysis").first()
    version = caching.version()
    if edit == "save":
        statement.stance = Stance.UNDECIDED
        statement.save()
        expected = "Undecided"
    elif edit == "queryset_update":
        Statement.objects.filter(topics=seed, party__code="US").update(stance=Stance.SUPPORTS)
        expected = None
    elif edit == "bulk_update":
        statement.stance = Stance.UNDECIDED
        Statement.objects.bulk_update([statement], ["stance"])
        expected = "Undecided"
    elif edit == "topic_rename":
        seed.name = "ABM Treaty (renamed)"
        seed.save()
        expected = "ABM Treaty (renamed)"
    elif edit == "new_statement":
        new = StatementFactory(
            source=SourceFactory(), actor=ActorFactory(party=statement.party), topics=[seed]
        )
        expected = new.get_absolute_url()
    else:
        url = statement.get_absolute_url()
        statement.delete()
        expected = None
        assert url in before
    assert caching.version() > version
    after = dashboard(client)
    assert after != before
    if expected:
        assert expected in after


def test_a_failed_write_leaves_the_version_as_it_was(seed):
    version = caching.version()
    statement = Statement.objects.first()
    statement.quote = "Not in the source"
    with pytest.raises(Exception):  # noqa: B017 - the anchor check refuses it
        statement.save()
    assert caching.version() == version


# Two app processes, one PostgreSQL, one Redis


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_available():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read().decode(), dict(response.headers)


def wait_until_up(base):
    deadline = time.monotonic() + 60
    while True:
        try:
            return get(f"{base}/api/v1/")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_edit_through_one_process_shows_at_once_through_another(tmp_path, django_user_model):
    if connection.vendor != "postgresql":
        pytest.skip("Two processes share a database only on PostgreSQL (SQLite's is in memory).")
    if not redis_available():
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it).")
    call_command("load_seed", verbosity=0)
    editor = django_user_model.objects.create_user("cache-editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    token = Token.objects.create(user=editor).key
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        # A database of its own in Redis, emptied first: nothing from another run.
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
    }
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    processes, bases = [], []
    for name in ("a", "b"):
        port = free_port()
        log = (tmp_path / f"{name}.log").open("w")
        processes.append(
            subprocess.Popen(
                [BIN / "gunicorn", "arms_talks.wsgi", f"--bind=127.0.0.1:{port}", "--workers=1"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base in bases:
            wait_until_up(base)
        a, b = bases
        status, page, _ = get(f"{b}/")
        assert status == 200 and "ABM Treaty" in page
        keys = redis.Redis.from_url(env["REDIS_URL"]).dbsize()
        assert keys > 0  # b cached its fragments in the shared Redis
        assert get(f"{a}/")[1] == page  # and a serves them from there

        topic = Topic.objects.get(slug="abm-treaty")
        request = urllib.request.Request(
            f"{a}/api/v1/topics/{topic.pk}/",
            data=json.dumps({"name": "ABM Treaty, renamed through process a"}).encode(),
            method="PATCH",
            headers={
                "Authorization": f"Token {token}",
                "Content-Type": "application/json",
                "If-Match": f'"{topic.version}"',
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        status, page, _ = get(f"{b}/")
        assert "ABM Treaty, renamed through process a" in page
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    for name in ("a", "b"):
        assert "Traceback" not in (tmp_path / f"{name}.log").read_text()
