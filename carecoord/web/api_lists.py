"""What every list endpoint of the API shares: pages (carecoord.web.api_pagination),
filtering (django-filter) and ordering.

A list view is a `ListApi`: its `get_queryset` returns a selector's queryset, already
filtered by the access policy; the backends here only narrow and order it."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import filters, generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from carecoord.web.api_pagination import PageNumberPages


class ListApi(generics.ListAPIView):
    """A paginated, filterable, orderable list whose rows come from a selector."""

    pagination_class = PageNumberPages
    filter_backends = (DjangoFilterBackend, filters.OrderingFilter)
    ordering_fields: tuple[str, ...] = ()
    ordering: tuple[str, ...] | None = None


PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="A page number within the results."),
    OpenApiParameter("page_size", int, description="Results per page (at most 100)."),
]


def paginated(request: Request, rows, output: type[serializers.Serializer], *, view,
              context: dict | None = None) -> Response:
    """One page of `rows` (a selector's list or queryset) for an APIView, in the same
    shape as a ListApi's: count, next, previous, results."""
    paginator = PageNumberPages()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(
        output(page, many=True, context=context or {}).data
    )


def page_of(output: serializers.Serializer, name: str) -> serializers.Serializer:
    """The schema of one page of `output`s, for extend_schema(responses=...)."""
    return inline_serializer(name, {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": output,
    })
