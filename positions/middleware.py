from django.http import HttpResponseBadRequest, JsonResponse

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
