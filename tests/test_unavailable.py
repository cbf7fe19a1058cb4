"""
A database that refuses writes (made read-only) or cannot be reached: a clear 503 with
Retry-After, in JSON for the API, never a 500; reads go on working; nothing is saved.

Simulated here by making every write statement fail as the database would (the real
fault, a PostgreSQL made read-only for 30 seconds, is part of `make resilience`).
"""

from contextlib import contextmanager

import psycopg
import pytest
from django.db import OperationalError, connection
from django.db.utils import InternalError

from positions.models import Source, Statement, Topic
from tests.factories import StatementFactory

# Transactional, as requests are in production: a refused write must not leave the next
# request inside a broken transaction (the test's own atomic block would be one).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def database_fails(error, only_writes=True):
    """Every (write) statement fails with ``error``, as the database driver raises it."""

    def refuse(execute, sql, params, many, context):
        if not only_writes or sql.lstrip().upper().startswith(WRITES):
            raise error
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


def read_only_error():
    """What Django raises when PostgreSQL refuses a write in a read-only transaction."""
    cause = psycopg.errors.ReadOnlySqlTransaction(
        "cannot execute INSERT in a read-only transaction"
    )
    error = InternalError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "error",
    [read_only_error(), OperationalError("attempt to write a readonly database")],
    ids=["postgresql", "sqlite"],
)
def test_writes_to_a_read_only_database_get_a_503_and_reads_still_work(editor_client, error):
    statement = StatementFactory()
    with database_fails(error):
        api = editor_client.post(
            "/api/v1/topics/", {"slug": "new", "name": "New"}, content_type="application/json"
        )
        assert api.status_code == 503
        assert api["Retry-After"] == "30"
        assert "read-only for a moment" in api.json()["detail"]

        page = editor_client.post(
            "/sources/new/",
            {"title": "A new article", "published_on_precision": "day", "text": "New text."},
        )
        assert page.status_code == 503
        assert "Nothing was saved" in page.content.decode()
        assert page["Content-Type"].startswith("text/html")

        # Reading goes on.
        assert editor_client.get("/api/v1/statements/").status_code == 200
        assert editor_client.get(f"/statements/{statement.pk}/").status_code == 200
    assert not Topic.objects.filter(slug="new").exists()
    assert list(Source.objects.all()) == [statement.source]
    assert Statement.objects.count() == 1


def test_an_unreachable_database_gets_a_503_not_a_500(client):
    statement = StatementFactory()
    down = OperationalError("connection failed: server closed the connection unexpectedly")
    with database_fails(down, only_writes=False):
        response = client.get(f"/api/v1/statements/{statement.pk}/")
        page = client.get(f"/statements/{statement.pk}/")
    assert response.status_code == 503
    assert "cannot be reached" in response.json()["detail"]
    assert page.status_code == 503 and "cannot be reached" in page.content.decode()


def test_other_database_errors_are_not_disguised(client):
    """Only these two faults are a 503; any other error stays a 500 (and is reported)."""
    statement = StatementFactory()
    client.raise_request_exception = False
    with database_fails(InternalError("division by zero"), only_writes=False):
        response = client.get(f"/api/v1/statements/{statement.pk}/")
    assert response.status_code == 500
