"""
Reads from a replica, writes to the primary (settings: DATABASE_REPLICA_URL).

A request that writes (any method but GET, HEAD and OPTIONS) reads from the primary too,
and so does the same browser or API client for REPLICA_PIN_SECONDS after it: its next
page shows its own change even if the replica is a moment behind. Without a replica
configured, none of this is installed but the middleware, which then does nothing.
"""

import time

from asgiref.local import Local
from django.conf import settings

PIN_COOKIE = "primary_until"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

_state = Local()


def pinned():
    return getattr(_state, "pinned", False)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        return "default" if pinned() else "replica"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class ReplicaPinningMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.active = "replica" in settings.DATABASES

    def __call__(self, request):
        if not self.active:
            return self.get_response(request)
        writes = request.method not in SAFE_METHODS
        previous = pinned()
        _state.pinned = writes or self.recently_wrote(request)
        try:
            response = self.get_response(request)
        finally:
            _state.pinned = previous
        if writes:
            until = int(time.time()) + settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                str(until),
                max_age=settings.REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response

    @staticmethod
    def recently_wrote(request):
        value = request.COOKIES.get(PIN_COOKIE, "")
        return value.isdigit() and int(value) >= time.time()
