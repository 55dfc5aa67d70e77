"""Support for the tests that hold each resource's one rendering equal to
what its DRF serializer declares (the schema describes the declared fields).

- `declared_representation(serializer_class, instance, context)`: `instance`
  as DRF's own field-by-field path serializes the fields the serializer
  declares, nested serializers included, past any hand-built
  `to_representation`.
- `request_in(zone)`: a request that sees times in `zone`; `as_json(value)`:
  `value` as a JSON answer carries it.
"""

import json

from django.db.models import Manager
from django.test import RequestFactory
from rest_framework import serializers
from rest_framework.relations import PKOnlyObject
from rest_framework.request import Request


def declared_representation(serializer_class, instance, context: dict) -> object:
    """What `serializers.Serializer.to_representation` gives, applied at every
    level of nesting: each declared field read and shown by DRF itself."""
    return _declared(serializer_class(context=context), instance)


def _declared(serializer: serializers.BaseSerializer, instance) -> object:
    if isinstance(serializer, serializers.ListSerializer):
        items = instance.all() if isinstance(instance, Manager) else instance
        return [_declared(serializer.child, item) for item in items]
    shown = {}
    for field in serializer._readable_fields:
        attribute = field.get_attribute(instance)
        value = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        if value is None:
            shown[field.field_name] = None
        elif isinstance(field, serializers.BaseSerializer):
            shown[field.field_name] = _declared(field, attribute)
        else:
            shown[field.field_name] = field.to_representation(attribute)
    return shown


def request_in(zone: str | None, path: str = "/api/public/sessions/") -> Request:
    """A GET of `path` that asks for times in `zone` (`tz`); none: the studio's."""
    return Request(RequestFactory().get(path, {"tz": zone} if zone else {}))


def as_json(value) -> object:
    return json.loads(json.dumps(value))
