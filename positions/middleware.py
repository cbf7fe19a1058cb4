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
