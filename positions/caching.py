"""
Caching rendered content, with no stale page after an edit.

Every write to content raises ContentVersion's number in the write's own transaction:
each history row the audit trail writes (there is one for every write path, see
positions/audit.py) and each bulk write calls bump(). A cached fragment's key holds the
number read at the start of the request, so after a commit every process, with a shared
cache (Redis, when REDIS_URL is set) or its own (local memory), renders afresh. Reading the
number is one indexed query per request.
"""

from django.db import models, transaction
from django.utils.functional import SimpleLazyObject

from positions.models import ContentVersion

# How long a fragment may stay in the cache; any edit makes it unreachable at once.
FRAGMENT_SECONDS = 60 * 60


def version():
    value = ContentVersion.objects.filter(pk=1).values_list("value", flat=True).first()
    return value or 0


def bump():
    """Raise the content version; part of the caller's transaction, if there is one."""
    if not models.QuerySet(ContentVersion).filter(pk=1).update(value=models.F("value") + 1):
        with transaction.atomic():
            ContentVersion.objects.get_or_create(pk=1)
            models.QuerySet(ContentVersion).filter(pk=1).update(value=models.F("value") + 1)


def lazy(function):
    """A value computed only if a template (outside a cached fragment) asks for it."""
    return SimpleLazyObject(function)


def fragment_key(request):
    """What a page's cached fragments depend on: the content, and the query string."""
    return f"{version()}:{request.GET.urlencode()}"
