"""The OpenAPI schema names every answer an operation may give, errors included.

drf-spectacular describes the success of each operation; the refusals (``errors.py``) come from layers
every view shares — authentication, permissions, throttles, paging, the input's serializer — so they are
added here once, from what the view is made of, with the one body ``errors.py`` writes. A view documents
its own refusals (a 409 with ``current``, a 413) with ``extend_schema``; those are kept as written.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ApiErrorSerializer(serializers.Serializer):
    """The body of every refusal."""

    detail = serializers.CharField(help_text=_("What went wrong, for a person."))
    code = serializers.CharField(help_text=_("What went wrong, for a program: invalid, not_found, conflict, …"))
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=_("On a 400: each field's messages (“non_field_errors” for the request as a whole)."),
    )
    current = serializers.JSONField(required=False, help_text=_("On a 409: the object's state now."))


ERROR = ApiErrorSerializer
DESCRIPTIONS = {
    "400": _("The input is not valid (see “errors”), or a rule refused the request."),
    "401": _("No valid credentials: no token, an unknown, expired or revoked one."),
    "403": _("Signed in, but not allowed to do this (or a session request without its CSRF token)."),
    "404": _("Not found, or outside what the user may see (the answer does not tell which); a bad cursor."),
    "429": _("Too many requests: retry after the seconds in “Retry-After”."),
}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._refusals(operation):
            if code not in responses:
                response = OpenApiResponse(ERROR, description=DESCRIPTIONS[code])
                responses[code] = self._get_response_for_code(response, code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _refusals(self, operation) -> list[str]:
        places = {parameter["in"] for parameter in operation.get("parameters", [])}
        codes = []
        if self.method != "GET" or "query" in places:
            codes.append("400")
        if self.view.get_authenticators():
            codes.append("401")
            codes.append("403")
        elif not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            codes.append("403")
        if "path" in places or (self._is_list_view() and self._get_paginator() is not None):
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        return codes
