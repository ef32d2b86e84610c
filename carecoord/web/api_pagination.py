"""The API's pages: page numbers by default, a cursor for long, growing lists (access
events). Its own module: DRF reads DEFAULT_PAGINATION_CLASS while its generic views load."""

from __future__ import annotations

from rest_framework import pagination


class PageNumberPages(pagination.PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class CursorPages(pagination.CursorPagination):
    """For lists that grow at the top while someone pages through them: a cursor never
    repeats or skips a row, and costs the same on page 1,000 as on page 1."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-pk"
