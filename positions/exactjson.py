"""
Django's JSON fixture format, without its one loss: the stock encoder cuts times to
milliseconds (as JavaScript writes them), so a backup made with it would not restore the
stored microseconds. Registered as the "exactjson" format (SERIALIZATION_MODULES).
"""

import datetime

from django.core.serializers.json import Deserializer, DjangoJSONEncoder
from django.core.serializers.json import Serializer as JSONSerializer

__all__ = ["Deserializer", "Serializer"]


class ExactEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, (datetime.datetime, datetime.time)):
            return o.isoformat()
        return super().default(o)


class Serializer(JSONSerializer):
    def _init_options(self):
        super()._init_options()
        self.json_kwargs["cls"] = ExactEncoder
