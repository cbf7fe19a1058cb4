import logging

from django.db import DatabaseError, OperationalError
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

MESSAGE = "The request's query string contains a NUL character, which no search or filter can use."


class RejectNulMiddleware:
    """
    Answer 400 to a query string holding a NUL character.

    No stored text contains one, PostgreSQL refuses to compare text with one (a 500 from
    any filter or search that passes it on), and nothing legitimate sends one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": MESSAGE}, status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """
    The headers Django's SecurityMiddleware does not send: Cross-Origin-Resource-Policy
    and a Permissions-Policy on every response (X-Frame-Options too, for the answers
    given before Django's middleware for it runs), and ``Cache-Control: no-store`` on the
    admin's pages and on every page answered to a signed-in user (an editor's pages show
    what readers must not get from a shared cache, and the browser should not keep them
    on disk either).
    """

    PERMISSIONS_POLICY = (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=(), interest-cohort=()"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.setdefault("X-Frame-Options", "DENY")
        response.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        if self.private(request):
            response["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response

    @staticmethod
    def private(request):
        if request.path.startswith("/admin/"):
            return True
        user = getattr(request, "user", None)
        return user is not None and user.is_authenticated


class DatabaseUnavailableMiddleware:
    """
    When the database refuses writes (made read-only, e.g. during a failover or
    maintenance) or cannot be reached at all, answer 503 with Retry-After and a message
    saying so, in JSON for the API, instead of a 500. Reads that do not need the failing
    operation go on working; nothing half-written is kept (each request is a transaction).
    """

    READ_ONLY = ("read-only transaction", "readonly database", "read only")
    RETRY_AFTER = "30"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        reason = self.reason(exception)
        if reason is None:
            return None
        logger.warning("Answered 503 to %s %s: %s", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": reason}, status=503)
        else:
            response = render(request, "503.html", {"reason": reason}, status=503)
        response["Retry-After"] = self.RETRY_AFTER
        response["Cache-Control"] = "no-store"
        return response

    @classmethod
    def reason(cls, exception):
        if not isinstance(exception, DatabaseError):
            return None
        # The driver's error, and any database error raised while handling it (such as
        # Django refusing further queries in the transaction it broke).
        chain, link = [], exception
        while link is not None and len(chain) < 10:
            chain.append(link)
            link = link.__cause__ or link.__context__
        text = " ".join(str(link) for link in chain).lower()
        sqlstate = next((link.sqlstate for link in chain if getattr(link, "sqlstate", None)), "")
        if sqlstate == "25006" or any(words in text for words in cls.READ_ONLY):
            return (
                "The tracker is read-only for a moment (database maintenance): reading works, "
                "changes cannot be saved. Nothing was saved; try again in a minute."
            )
        if isinstance(exception, OperationalError) and (
            sqlstate.startswith("08") or "connect" in text or "server closed" in text
        ):
            return "The database cannot be reached just now. Try again in a minute."
        return None
