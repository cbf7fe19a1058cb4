"""
The API's ground rules, kept apart from the views because the settings name them and
DRF imports them while its own views module is still loading.
"""

import decimal
import io
import re
import time

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.utils.functional import Promise, cached_property
from rest_framework import exceptions, pagination, parsers, renderers, status, throttling
from rest_framework.response import Response

MAX_PAGE_SIZE = 500
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# A search's count stops here (see CappedCount).
SEARCH_COUNT_CAP = 1000


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = (
        "Send the version your change is based on in an If-Match header, e.g. "
        'If-Match: "3" (the ETag of the record you read).'
    )
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    """412. ``current``, the record as it is now, is sent as it is (DRF would turn every
    value of an exception's detail into a string), with its version as the ETag."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"

    def __init__(self, detail=None, code=None, *, current=None, etag=None):
        super().__init__(detail, code)
        self.current = current
        self.etag = etag


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class ClientRate:
    """
    DRF's rate throttles, with three changes:

    - the client's address comes from positions.mfa.client_ip (DRF's own reads a client's
      X-Forwarded-For unless told how many proxies there are, so anyone could pick a fresh
      key per request);
    - the rate is read from settings.API_RATES when the throttle is made, not fixed at
      import (so that a changed setting takes effect);
    - the count is one number per client and period window, raised with the cache's
      atomic incr, where DRF keeps a list of every request's time, read and written back
      whole on each request (54 KB at 6000/min) and undercounted when two processes
      write it at once. A fixed window lets a client make up to twice the rate across a
      window's end, which is the usual price for that.

    With the cache down, incr fails, and the request is let through (fails open).
    """

    timer = time.time  # as DRF's; named here so that tests can fix the clock

    def get_rate(self):
        return settings.API_RATES.get(self.scope)

    def get_ident(self, request):
        from positions.mfa import client_ip

        return client_ip(request)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        window = int(self.timer() // self.duration)
        key = f"{key}:{window}"
        self.cache.add(key, 0, self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # the cache is down, or the count expired in between
            return True
        self.window_ends = (window + 1) * self.duration
        return count <= self.num_requests

    def wait(self):
        return max(1.0, self.window_ends - self.timer())


class AnonymousRate(ClientRate, throttling.AnonRateThrottle):
    pass


class UserRate(ClientRate, throttling.UserRateThrottle):
    def get_cache_key(self, request, view):
        # DRF's counts an anonymous client here too, by address, so that API_RATE_ANON=off
        # would still leave the user rate on anonymous clients; AnonymousRate is theirs.
        if not request.user or not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)


def exception_handler(error, context):
    """DRF's, plus JSON answers for the errors Django itself raises on a bad body."""
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(error, RecursionError):
        error = exceptions.ParseError("The JSON is nested too deeply.")
    elif isinstance(error, DjangoValidationError):
        # Raised by a model's save() under its locks: what validation checked before the
        # locks changed meanwhile (a source's text edited while a statement was saved).
        from positions.serializers import model_errors

        error = exceptions.ValidationError(model_errors(error))
    elif isinstance(error, IntegrityError):
        error = Conflict(
            "The change clashes with a record saved at the same moment (the same span for "
            "the same actor, the same slug or name). Re-read the records and try again."
        )
    elif isinstance(error, RequestDataTooBig):
        error = PayloadTooLarge(
            f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    response = drf_exception_handler(error, context)
    if isinstance(error, PreconditionFailed) and error.current is not None:
        response.data = {"detail": response.data["detail"], "current": error.current}
        if error.etag:
            response["ETag"] = error.etag
    return response


class BoundedJSONParser(parsers.JSONParser):
    """JSON with a size limit and a depth limit that answer 413 and 400, never a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The request body is over {limit} bytes.")
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is over {limit} bytes.")
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("The JSON is nested too deeply.") from None
        refuse_lone_surrogates(data)
        return data


def refuse_lone_surrogates(data):
    """
    Raise ParseError if a key or string anywhere in parsed JSON holds a lone surrogate.

    JSON's "\\ud800" escape gives one, which no database stores and no response can
    encode: left in, it fails wherever it is first used (a slug looked up, an error
    message echoing it). A whole pair arrives as one character, so any left is alone.
    The first one in the body is reported; the walk keeps its own stack, since a body
    may be nested as deeply as the JSON parser allows.
    """
    if isinstance(data, str):
        check_string(data, "in the body itself")
    stack = [json_children(data, ())]
    while stack:
        try:
            value, path = next(stack[-1])
        except StopIteration:
            stack.pop()
            continue
        if isinstance(value, str):
            check_string(value, f"in the value at {json_pointer(path)}")
        elif isinstance(value, dict | list):
            stack.append(json_children(value, path))


def json_children(value, path):
    """The items of a JSON object or array, each with its path; an object's keys are
    checked as they are reached."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"at {json_pointer(path)}" if path else "at the top level"
            check_string(key, f"in a key of the object {where}")
            yield item, (*path, key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield item, (*path, index)


def json_pointer(path):
    """Where a value is, as a JSON Pointer (RFC 6901), e.g. /topics/0."""
    return "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in path)


def check_string(text, where):
    if match := LONE_SURROGATE.search(text):
        raise exceptions.ParseError(
            f"The JSON contains U+{ord(match[0]):04X}, half of a surrogate pair, {where}. "
            "It is not a character: send each character whole (as UTF-8, or as both "
            "halves of its \\u escape pair)."
        )


# Paging and ordering


class CountHintPaginator(Paginator):
    """A paginator that takes the count from the list's ``count_hint``, when it has one: a
    number, or a function giving one, known to be the same and cheaper to get (such as a
    topic's link count, or a count without the joins the rows need)."""

    @cached_property
    def count(self):
        hint = getattr(self.object_list, "count_hint", None)
        if hint is None:
            return super().count
        return hint() if callable(hint) else hint

    @property
    def count_capped(self):
        return self.count is not None and getattr(
            getattr(self.object_list, "count_hint", None), "capped", False
        )


class CappedCount:
    """
    A count hint that counts no further than ``cap``: a word in one quote out of ten
    matches tens of thousands of statements, and counting them all (every match's row
    read) would cost more than the page. ``capped`` says whether the count stopped there.
    """

    def __init__(self, queryset, cap):
        self.queryset, self.cap = queryset.order_by(), cap
        self.capped = False

    def __call__(self):
        counted = self.queryset.values("pk")[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)


class StrictPagination(pagination.PageNumberPagination):
    """50 a page by default, up to 500 with ?page_size=; anything else is a 400."""

    django_paginator_class = CountHintPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param, "1")
        if raw in self.last_page_strings:
            return raw
        if not raw.isascii() or not raw.isdigit():
            raise exceptions.ValidationError(
                {self.page_query_param: ["Give a page number: a whole number from 1."]}
            )
        return raw

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_capped": self.page.paginator.count_capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        properties = paginated["properties"]
        properties["count"]["description"] = (
            f"How many match; a search stops counting at {SEARCH_COUNT_CAP:,} (see "
            "count_capped), and its pages end there."
        )
        properties = {
            "count": properties["count"],
            "count_capped": {
                "type": "boolean",
                "description": f"True when a search matched more than {SEARCH_COUNT_CAP:,} and "
                "count stopped there: narrow the search to see the rest.",
                "example": False,
            },
            **properties,
        }
        paginated["properties"] = properties
        paginated["required"] = [*paginated.get("required", []), "count_capped"]
        return paginated

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number (from 1); a page past the last is a 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page: {self.page_size} unless given, at most "
                f"{self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)


def encode_other(value):
    """What orjson cannot encode itself: lazy translations, decimals, sets."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"Cannot encode {type(value).__name__} as JSON")


class FastJSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, encoding with orjson: the same JSON (compact, UTF-8), faster."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=encode_other)
