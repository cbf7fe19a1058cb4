"""Reads from a replica, writes and read-after-write from the primary (positions/routers.py)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from positions.models import Statement
from positions.routers import PIN_COOKIE, PrimaryReplicaRouter, ReplicaPinningMiddleware

ROOT = Path(__file__).resolve().parent.parent
router = PrimaryReplicaRouter()


def reads_go_to(request):
    """The database a read would use while ``request`` is handled with a replica set up."""
    seen = {}

    def view(request):
        seen["read"] = router.db_for_read(Statement)
        seen["write"] = router.db_for_write(Statement)
        return HttpResponse()

    middleware = ReplicaPinningMiddleware(view)
    middleware.active = True  # as when DATABASE_REPLICA_URL is set
    response = middleware(request)
    return seen, response


def test_a_plain_read_goes_to_the_replica():
    seen, response = reads_go_to(RequestFactory().get("/"))
    assert seen == {"read": "replica", "write": "default"}
    assert PIN_COOKIE not in response.cookies


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
def test_a_request_that_writes_reads_from_the_primary_and_pins_the_next_ones(method):
    seen, response = reads_go_to(getattr(RequestFactory(), method)("/api/v1/statements/1/"))
    assert seen == {"read": "default", "write": "default"}
    cookie = response.cookies[PIN_COOKIE]
    assert int(cookie.value) > time.time() and cookie["httponly"]


def test_after_a_write_the_same_client_reads_from_the_primary_until_the_pin_ends():
    factory = RequestFactory()
    soon = factory.get("/")
    soon.COOKIES[PIN_COOKIE] = str(int(time.time()) + 5)
    assert reads_go_to(soon)[0]["read"] == "default"
    later = factory.get("/")
    later.COOKIES[PIN_COOKIE] = str(int(time.time()) - 1)
    assert reads_go_to(later)[0]["read"] == "replica"
    forged = factory.get("/")
    forged.COOKIES[PIN_COOKIE] = "tomorrow"
    assert reads_go_to(forged)[0]["read"] == "replica"


def test_migrations_run_on_the_primary_only():
    assert router.allow_migrate("default", "positions")
    assert not router.allow_migrate("replica", "positions")


def settings_with(**env):
    code = (
        "from arms_talks import settings as s; "
        "print(sorted(s.DATABASES), getattr(s, 'DATABASE_ROUTERS', []))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


def test_a_replica_url_adds_the_replica_and_the_router():
    result = settings_with(DATABASE_REPLICA_URL="postgres://reader@replica.example:5432/t")
    assert result.returncode == 0, result.stderr
    assert "['default', 'replica'] ['positions.routers.PrimaryReplicaRouter']" in result.stdout


def test_without_a_replica_there_is_no_router():
    result = settings_with(DATABASE_REPLICA_URL="")
    assert "['default'] []" in result.stdout


@pytest.mark.parametrize("url", ["sqlite:///replica.db", "nonsense://x"])
def test_a_replica_that_is_not_postgresql_stops_start_up(url):
    result = settings_with(DATABASE_REPLICA_URL=url)
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL" in result.stderr
