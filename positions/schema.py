"""The OpenAPI schema documents every status code an endpoint can answer with."""

from drf_spectacular.openapi import AutoSchema

ERROR = {
    "type": "object",
    "description": "A JSON error: a detail message, or field names with their messages.",
    "additionalProperties": True,
}

ERRORS = {
    "400": "Bad input: invalid filters, ordering, page size, JSON or field values.",
    "401": "Not authenticated (writes need an editor's token or session).",
    "403": "Authenticated, but without permission for this action.",
    "404": "No such record, or no such page.",
    "409": "Statements still cite this record, so it cannot be deleted.",
    "412": "The record changed since the version in If-Match; the body holds the current one.",
    "413": "The request body is too large.",
    "415": "The request body is not JSON.",
    "428": "An update must send If-Match with the version it is based on.",
}

CODES_BY_METHOD = {
    "GET": ["400", "404"],
    "POST": ["400", "401", "403", "413", "415"],
    "PUT": ["400", "401", "403", "404", "412", "413", "415", "428"],
    "PATCH": ["400", "401", "403", "404", "412", "413", "415", "428"],
    "DELETE": ["400", "401", "403", "404", "409", "412"],
}


class TrackerSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in CODES_BY_METHOD.get(self.method, []):
            responses.setdefault(
                code,
                {
                    "description": ERRORS[code],
                    "content": {"application/json": {"schema": ERROR}},
                },
            )
        return responses
