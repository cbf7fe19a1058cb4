from django.http import HttpResponseBadRequest


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
            return HttpResponseBadRequest(
                "The request's query string contains a NUL character, which no search or "
                "filter can use.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
