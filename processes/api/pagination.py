"""Every list is paged by an opaque cursor: stable under inserts, no count over large sets."""

from rest_framework import serializers
from rest_framework.pagination import CursorPagination

MAX_PAGE_SIZE = 200


class PageQuery(serializers.Serializer):
    # A list, so "?page_size=5&page_size=x" is refused rather than read as its last value.
    page_size = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE), min_length=1, max_length=1
    )


class CursorPage(CursorPagination):
    """``?cursor=`` from the previous page's ``next`` (a cursor not ours: 404); ``?page_size=`` from 1 to
    200 (anything else: 400). Views order by a unique key (``ordering``), newest first by default."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        if self.page_size_query_param not in request.query_params:
            return self.page_size
        query = PageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data["page_size"][0]

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
        return parameters
