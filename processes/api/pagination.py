"""Every list is paged by an opaque cursor: stable under inserts, no count over large sets."""

from rest_framework.pagination import CursorPagination


class CursorPage(CursorPagination):
    """``?cursor=`` from the previous page's ``next``; ``?page_size=`` up to 200. Views order by a
    unique key (``ordering``), newest first by default."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 200
