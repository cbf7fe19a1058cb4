"""
Full-text search of the quotes, with the database's own index: SQLite's FTS5 (a virtual
table kept by triggers) or PostgreSQL's tsvector (a stored generated column with a GIN
index), both made by migration 0007.

Both read the quote the same way: words are runs of letters and digits, compared without
case, and each searched word matches the words that start with it ("withdraw" finds
"withdrawal"). Every searched word must be in the quote. Nothing here stems words or drops
stop words, so that both databases find the same statements.
"""

import re

from django.db import connection
from django.db.models.expressions import RawSQL

WORD = re.compile(r"\w+", re.UNICODE)

# The ids of the statements whose quotes match, as a subquery: the outer query may give the
# statements table another alias. On SQLite, positions_statement_fts is an external-content
# FTS5 table on the quotes, whose rowid is the statement's id.
SQLITE_MATCHING_IDS = (
    "SELECT rowid FROM positions_statement_fts WHERE positions_statement_fts MATCH %s"
)
POSTGRESQL_MATCHING_IDS = (
    "SELECT id FROM positions_statement WHERE search_vector @@ to_tsquery('simple', %s)"
)


def words(text):
    """The searched words, as the index sees them (letters and digits, any case)."""
    return [word.lower() for word in WORD.findall(text)]


def search_quotes(queryset, text):
    """Statements whose quote has every word of ``text``, each as a word or word start."""
    terms = words(text)
    if not terms:
        # Only punctuation: nothing a word index can look for, so nothing matches.
        return queryset.none()
    if connection.vendor == "postgresql":
        query = " & ".join(f"{term}:*" for term in terms)
        return queryset.filter(pk__in=RawSQL(POSTGRESQL_MATCHING_IDS, [query]))
    # Each term quoted (so that FTS5 reads no operator in it), as a prefix.
    query = " ".join(f'"{term}"*' for term in terms)
    return queryset.filter(pk__in=RawSQL(SQLITE_MATCHING_IDS, [query]))
