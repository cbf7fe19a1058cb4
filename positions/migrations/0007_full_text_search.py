"""
Full-text search of statements' quotes (see positions/search.py): an FTS5 table kept in
step by triggers on SQLite, a generated tsvector column with a GIN index on PostgreSQL.
"""

from django.db import migrations

SQLITE = [
    """
    CREATE VIRTUAL TABLE positions_statement_fts USING fts5(
        quote, content='positions_statement', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER positions_statement_fts_insert AFTER INSERT ON positions_statement BEGIN
        INSERT INTO positions_statement_fts(rowid, quote) VALUES (new.id, new.quote);
    END
    """,
    """
    CREATE TRIGGER positions_statement_fts_delete AFTER DELETE ON positions_statement BEGIN
        INSERT INTO positions_statement_fts(positions_statement_fts, rowid, quote)
        VALUES ('delete', old.id, old.quote);
    END
    """,
    """
    CREATE TRIGGER positions_statement_fts_update AFTER UPDATE OF quote ON positions_statement
    BEGIN
        INSERT INTO positions_statement_fts(positions_statement_fts, rowid, quote)
        VALUES ('delete', old.id, old.quote);
        INSERT INTO positions_statement_fts(rowid, quote) VALUES (new.id, new.quote);
    END
    """,
    "INSERT INTO positions_statement_fts(positions_statement_fts) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS positions_statement_fts_insert",
    "DROP TRIGGER IF EXISTS positions_statement_fts_delete",
    "DROP TRIGGER IF EXISTS positions_statement_fts_update",
    "DROP TABLE IF EXISTS positions_statement_fts",
]
POSTGRESQL = [
    """
    ALTER TABLE positions_statement ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', quote)) STORED
    """,
    "CREATE INDEX positions_statement_search ON positions_statement USING GIN (search_vector)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS positions_statement_search",
    "ALTER TABLE positions_statement DROP COLUMN IF EXISTS search_vector",
]


def forwards(apps, schema_editor):
    run(schema_editor, POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE)


def backwards(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    run(schema_editor, POSTGRESQL_REVERSE if postgresql else SQLITE_REVERSE)


def run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("positions", "0006_content_version")]

    operations = [migrations.RunPython(forwards, backwards)]
