"""The current user's work: the rows of the My work page (``processes.selectors.my_work``), in its order
(soonest due first, rows without a due time last), paged by a cursor on that order."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from processes.api.nominations import scope_of
from processes.selectors.my_work import Kind, my_work

KINDS = list(Kind)
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


def position_of(row) -> list:
    """Where a row stands in the page's order, as JSON: the order ``my_work`` sorts by."""
    due = row.due_at.astimezone(UTC).isoformat(timespec="microseconds") if row.due_at else ""
    return [row.due_at is None, due, KINDS.index(row.kind), row.key]


def sort_key(position: list) -> tuple:
    no_due, due, kind, key = position
    return (no_due, due if not no_due else "", kind, key)


def encode_cursor(position: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode("ascii").rstrip("=")


class WorkQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(required=False, max_length=400, help_text=_("From the previous page's next."))
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)

    def validate_cursor(self, value):
        try:
            position = json.loads(base64.urlsafe_b64decode(value.encode("ascii") + b"=" * (-len(value) % 4)))
        except (ValueError, UnicodeError, binascii.Error):
            position = None
        if not (
            isinstance(position, list)
            and len(position) == 4
            and isinstance(position[0], bool)
            and isinstance(position[1], str)
            and all(isinstance(part, int) and not isinstance(part, bool) for part in position[2:])
        ):
            raise serializers.ValidationError(_("This page link is not valid; start again from the first page."))
        return position


class WorkItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind)
    what = serializers.CharField()
    case = serializers.CharField(help_text=_("The nominee's name, or the council session's title."))
    unit = serializers.CharField()
    url = serializers.CharField(help_text=_("The screen where the work is done."))
    due_at = serializers.DateTimeField(allow_null=True)
    badge = serializers.CharField(allow_null=True)
    badge_label = serializers.CharField()
    key = serializers.IntegerField(help_text=_("The row's own id: a step, session, consultation or case."))
    task = serializers.IntegerField(source="task.pk", allow_null=True, default=None)
    version = serializers.IntegerField(allow_null=True, help_text=_("The case's version, to decide its step."))
    bulk = serializers.BooleanField(help_text=_("A step the user may approve together with others."))


class WorkPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    truncated = serializers.BooleanField(
        help_text=_("More rows of some kind wait than the list holds (300 a kind); the screens' lists have them.")
    )
    results = WorkItemSerializer(many=True)


class MyWorkView(APIView):
    """Everything waiting for the signed-in user, as on the My work page."""

    @extend_schema(
        summary="The current user's work",
        parameters=[
            OpenApiParameter("cursor", str, description="From the previous page's ``next``."),
            OpenApiParameter("page_size", int, description=f"Rows a page (default {DEFAULT_PAGE_SIZE}, at most 200)."),
        ],
        responses={200: WorkPageSerializer},
    )
    def get(self, request):
        query = WorkQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        size = query.validated_data.get("page_size", DEFAULT_PAGE_SIZE)
        after = query.validated_data.get("cursor")
        work = my_work(request.user, scope=scope_of(request))
        rows = work.rows
        if after is not None:
            rows = [row for row in rows if sort_key(position_of(row)) > sort_key(after)]
        page, more = rows[:size], len(rows) > size
        following = None
        if more:
            following = replace_query_param(
                request.build_absolute_uri(), "cursor", encode_cursor(position_of(page[-1]))
            )
        return Response(WorkPageSerializer({"next": following, "truncated": work.truncated, "results": page}).data)
