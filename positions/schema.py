"""The OpenAPI schema documents every status code an endpoint can answer with."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import permissions, serializers
from rest_framework.relations import ManyRelatedField

ERROR = {
    "type": "object",
    "description": "A JSON error: a detail message, or field names with their messages.",
    "additionalProperties": True,
}

ERRORS = {
    "400": "Bad input: invalid filters, ordering, page size, JSON or field values.",
    "401": "Not authenticated (writes need an editor's token or session), or a bad token.",
    "403": "Authenticated, but without permission for this action.",
    "404": "No such record, or no such page.",
    "409": "Statements still cite this record, so it cannot be deleted.",
    "412": "The record changed since the version in If-Match; the body holds the current one.",
    "413": "The request body is too large.",
    "415": "The request body is not JSON.",
    "428": "An update must send If-Match with the version it is based on.",
    "429": "Too many requests from this client (address, or user when signed in); "
    "Retry-After gives the seconds to wait.",
    "503": "The database cannot be reached, or takes no writes for now (maintenance); "
    "Retry-After gives the seconds to wait.",
}

# Answers that tell the client when to try again.
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}

CODES_BY_METHOD = {
    "GET": ["400", "401", "404", "429", "503"],
    "POST": ["400", "401", "403", "413", "415", "429", "503"],
    "PUT": ["400", "401", "403", "404", "412", "413", "415", "428", "429", "503"],
    "PATCH": ["400", "401", "403", "404", "412", "413", "415", "428", "429", "503"],
    "DELETE": ["400", "401", "403", "404", "409", "412", "429", "503"],
}

IF_MATCH_SCHEMA = {"type": "string", "pattern": '^(W/)?("[0-9]{1,9}"|[0-9]{1,9})$'}

IF_MATCH = {
    "PUT": OpenApiParameter(
        "If-Match",
        IF_MATCH_SCHEMA,
        OpenApiParameter.HEADER,
        required=True,
        description='The version the change is based on: the record\'s ETag, e.g. "3". '
        "Without it the update is refused (428); with an older one, too (412).",
    ),
    "DELETE": OpenApiParameter(
        "If-Match",
        IF_MATCH_SCHEMA,
        OpenApiParameter.HEADER,
        required=False,
        description="Optional: delete only if the record is still at this version (412 "
        "otherwise).",
    ),
}
IF_MATCH["PATCH"] = IF_MATCH["PUT"]


# Permission classes that let anyone read.
PUBLIC_READS = (
    permissions.AllowAny,
    permissions.DjangoModelPermissionsOrAnonReadOnly,
    permissions.IsAuthenticatedOrReadOnly,
)


EMPTY = {"type": "string", "enum": [""]}


def allow_empty(schema):
    """
    A filter's schema that also admits the empty value, which means "not filtered" (the
    pages' filter forms send every field, so their query strings work here unchanged).
    """
    schema = dict(schema)
    if schema.get("type") == "string" and "pattern" in schema:
        pattern = schema["pattern"].removeprefix("^").removesuffix("$")
        schema["pattern"] = f"^({pattern})?$"
    elif schema.get("type") == "string" and "enum" in schema:
        schema["enum"] = ["", *schema["enum"]]
    elif schema.get("type") != "string" or "format" in schema:
        schema = {"anyOf": [schema, EMPTY]}
    return schema


class TrackerSchema(AutoSchema):
    def get_filter_backends(self):
        """Filters apply to every GET of a collection: lists, exports and the comparison."""
        if self.method == "GET" and not getattr(self.view, "detail", False):
            return getattr(self.view, "filter_backends", [])
        return []

    def _get_filter_parameters(self):
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            if parameter.get("in") == "query" and parameter["name"] != "ordering":
                parameter["schema"] = allow_empty(parameter["schema"])
        return parameters

    def get_auth(self):
        auths = super().get_auth()
        reads_are_public = self.method in permissions.SAFE_METHODS and any(
            isinstance(permission, PUBLIC_READS) for permission in self.view.get_permissions()
        )
        if reads_are_public and {} not in auths:
            auths.append({})
        return auths

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method in IF_MATCH:
            parameters.append(IF_MATCH[self.method])
        return parameters

    def _insert_field_validators(self, field, schema):
        if isinstance(field, serializers.URLField) and field.allow_blank:
            # drf-spectacular's oneOf of a URI and "" is ambiguous for "" (a relative URI).
            schema.pop("format", None)
            schema.update(
                maxLength=field.max_length,
                pattern=r"^((https?|ftps?)://\S+)?$",
                description="An http(s) or ftp(s) URL, or empty for none.",
            )
            return
        super()._insert_field_validators(field, schema)

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, ManyRelatedField) and not field.allow_empty:
            schema["minItems"] = 1
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in CODES_BY_METHOD.get(self.method, []):
            response = {
                "description": ERRORS[code],
                "content": {"application/json": {"schema": ERROR}},
            }
            if code in ("429", "503"):
                response["headers"] = RETRY_AFTER
            responses.setdefault(code, response)
        return responses


ACTOR_SUMMARY = {
    "type": "object",
    "description": "The speaker: id, name and party code (null for the author's analysis).",
    "required": ["id", "name", "party"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "party": {"type": "string", "nullable": True},
    },
}

PROPOSAL_LINK = {
    "type": "object",
    "description": "The proposal the statement speaks to, and its stance on it.",
    "required": ["id", "title", "stance"],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "stance": {"type": "string"},
    },
}


class ActorReferenceExtension(OpenApiSerializerFieldExtension):
    """Written as an id, read as a summary."""

    target_class = "positions.serializers.ActorReferenceField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return {"type": "integer", "description": "The speaker's actor id."}
        return ACTOR_SUMMARY


class ProposalReferenceExtension(OpenApiSerializerFieldExtension):
    """Written as an id (with proposal_stance beside it), read as id, title and stance."""

    target_class = "positions.serializers.ProposalReferenceField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return {"type": "integer", "description": "The proposal's id."}
        return PROPOSAL_LINK
