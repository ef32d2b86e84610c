"""What every list endpoint of the API shares: pages (carecoord.web.api_pagination),
filtering (django-filter) and ordering.

A list view is a `ListApi`: its `get_queryset` returns a selector's queryset, already
filtered by the access policy; the backends here only narrow and order it."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, generics

from carecoord.web.api_pagination import PageNumberPages


class ListApi(generics.ListAPIView):
    """A paginated, filterable, orderable list whose rows come from a selector."""

    pagination_class = PageNumberPages
    filter_backends = (DjangoFilterBackend, filters.OrderingFilter)
    ordering_fields: tuple[str, ...] = ()
    ordering: tuple[str, ...] | None = None
