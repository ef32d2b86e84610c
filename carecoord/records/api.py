"""JSON API for records: service users (a caseload, or one's own record), their episodes
of care, allocations, carers and who has opened the record. Same policy as the pages:
not allowed is 404, and every read of someone else's record is audited."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.urls import path, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.audit import wording
from carecoord.records import selectors
from carecoord.records.models import ContactMethod
from carecoord.web.api_lists import ListApi
from carecoord.web.api_pagination import CursorPages
from carecoord.web.api_views import api_view


class EpisodeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    started_on = serializers.DateField()
    planned_end_on = serializers.DateField()
    discharged_on = serializers.DateField(allow_null=True)


class EpisodeDetailOutput(EpisodeOutput):
    service_user = serializers.IntegerField(source="service_user_id")
    discharge_plan = serializers.CharField()
    is_open = serializers.BooleanField()
    past_planned_end = serializers.BooleanField(source="is_past_planned_end")


class AllocationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    episode = serializers.IntegerField(source="episode_id")
    coordinator = serializers.CharField(source="coordinator.display_name")
    started_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)


class CarerRelationshipOutput(serializers.Serializer):
    id = serializers.IntegerField()
    service_user = serializers.IntegerField(source="service_user_id")
    carer = serializers.CharField(source="carer.name")
    relationship = serializers.CharField(help_text="In the service user's words.")
    started_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)


class AccessEventOutput(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    who = serializers.CharField(source="actor.display_name", allow_null=True, default=None)
    action = serializers.CharField(help_text="A code, e.g. plan_detail.view; see `what`.")
    basis = serializers.CharField()
    what = serializers.SerializerMethodField(help_text="What they did, in plain words.")
    why = serializers.SerializerMethodField(help_text="Why they could, in plain words.")

    def get_what(self, obj) -> str:
        return wording.action_words(obj.action).to_you

    def get_why(self, obj) -> str:
        return wording.basis_words(obj.basis, to_service_user=True)


class ServiceUserSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The name they asked to be called.")
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return reverse("api_service_user", args=[obj.pk])


class ServiceUserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    preferred_name = serializers.CharField()
    pronouns = serializers.CharField()
    date_of_birth = serializers.DateField()
    nhs_number = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    preferred_contact = serializers.ChoiceField(choices=ContactMethod.choices)
    team = serializers.CharField(source="team.name")
    version = serializers.IntegerField()


class ServiceUserDetailOutput(ServiceUserOutput):
    basis = serializers.CharField(help_text="Why you may read this record.")
    episodes = EpisodeOutput(many=True)


class ServiceUserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Words in the name.")

    def search(self, queryset, name, value):
        for word in value.split()[:5]:
            queryset = queryset.filter(Q(full_name__icontains=word)
                                       | Q(preferred_name__icontains=word))
        return queryset


@extend_schema(tags=["records"])
class ServiceUserListApi(ListApi):
    """The records you may open: a care coordinator's caseload (active allocations), or a
    service user's own record. Sorted by name."""

    serializer_class = ServiceUserSummaryOutput
    filterset_class = ServiceUserFilter
    ordering_fields = ("full_name", "id")

    def get_queryset(self):
        return selectors.service_users_for_api(viewer=self.request.user)


@extend_schema(tags=["records"])
class ServiceUserDetailApi(APIView):
    @extend_schema(summary="One service user's record",
                   description="Their details and episodes of care. Reading someone else's "
                               "record is written to the audit trail.",
                   responses={200: ServiceUserDetailOutput})
    def get(self, request: Request, service_user_id: int) -> Response:
        record = selectors.service_user_open(
            viewer=request.user, service_user_id=service_user_id, surface="api.service_user"
        )
        data = dict(ServiceUserOutput(record.service_user).data)
        data["basis"] = str(record.basis)
        data["episodes"] = EpisodeOutput(
            selectors.episodes_for_record(record=record), many=True
        ).data
        return Response(data)


class _RecordListApi(ListApi):
    """A list that belongs to one record: opening it is audited, and a record the caller
    may not open is 404."""

    surface = "api.service_user"

    def record(self):
        if getattr(self, "swagger_fake_view", False):
            return None  # the schema generator's stand-in: no request, no record
        return selectors.service_user_open(
            viewer=self.request.user, service_user_id=self.kwargs["service_user_id"],
            surface=self.surface,
        )


@extend_schema(tags=["records"])
class EpisodeListApi(_RecordListApi):
    """A service user's episodes of care, newest first: time-limited, with the planned end
    shown to everyone."""

    serializer_class = EpisodeDetailOutput
    surface = "api.episodes"
    ordering_fields = ("started_on",)

    def get_queryset(self):
        return selectors.episodes_of_record(record=self.record())


@extend_schema(tags=["records"])
class EpisodeDetailApi(APIView):
    @extend_schema(summary="One episode of care", responses={200: EpisodeDetailOutput},
                   description="An episode of a record you may open; any other is 404.")
    def get(self, request: Request, episode_id: int) -> Response:
        episode = selectors.episode_open(viewer=request.user, episode_id=episode_id,
                                         surface="api.episode")
        return Response(EpisodeDetailOutput(episode).data)


class AllocationFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter(field_name="ended_on", lookup_expr="isnull",
                                          label="Only current (true) or only ended (false).")


@extend_schema(tags=["records"])
class AllocationListApi(_RecordListApi):
    """The care coordinators allocated to a service user's episodes, newest first."""

    serializer_class = AllocationOutput
    filterset_class = AllocationFilter
    surface = "api.allocations"
    ordering_fields = ("started_on",)

    def get_queryset(self):
        return selectors.allocations_of_record(record=self.record())


@extend_schema(tags=["records"])
class AllocationDetailApi(APIView):
    @extend_schema(summary="One allocation", responses={200: AllocationOutput},
                   description="An allocation on a record you may open; any other is 404.")
    def get(self, request: Request, allocation_id: int) -> Response:
        allocation = selectors.allocation_open(viewer=request.user, allocation_id=allocation_id,
                                               surface="api.allocation")
        return Response(AllocationOutput(allocation).data)


class CarerRelationshipFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter(field_name="ended_on", lookup_expr="isnull",
                                          label="Only current (true) or only ended (false).")


@extend_schema(tags=["carers"])
class CarerRelationshipListApi(_RecordListApi):
    """A service user's carers (family, friends, supporters) and how they know each
    other, in the service user's words."""

    serializer_class = CarerRelationshipOutput
    filterset_class = CarerRelationshipFilter
    surface = "api.carers"
    ordering_fields = ("started_on",)

    def get_queryset(self):
        return selectors.carer_relationships_for_api(viewer=self.request.user,
                                                     record=self.record())


@extend_schema(tags=["carers"])
class CarerRelationshipDetailApi(APIView):
    @extend_schema(summary="One carer relationship", responses={200: CarerRelationshipOutput},
                   description="Yours as a carer, or one of a record you may open; any "
                               "other is 404.")
    def get(self, request: Request, relationship_id: int) -> Response:
        relationship = selectors.carer_relationship_open(viewer=request.user,
                                                         relationship_id=relationship_id)
        return Response(CarerRelationshipOutput(relationship).data)


class AccessEventPages(CursorPages):
    ordering = ("-occurred_at", "-id")


@extend_schema(tags=["records"])
class AccessEventListApi(_RecordListApi):
    """Who has opened your record, when and why, newest first (cursor pages: the list
    only grows). Only the service user themselves sees this list of their record."""

    serializer_class = AccessEventOutput
    pagination_class = AccessEventPages
    filter_backends = ()
    surface = "api.access_events"

    def get_queryset(self):
        return selectors.access_events_of_record(viewer=self.request.user,
                                                 record=self.record())


class MeOutput(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())


@extend_schema(tags=["records"])
class MeApi(APIView):
    @extend_schema(summary="Who you are signed in as", responses={200: MeOutput},
                   description="Your email, name and roles.")
    def get(self, request: Request) -> Response:
        return Response({
            "email": request.user.email,
            "name": request.user.display_name,
            "roles": sorted(request.user.roles),
        })


urlpatterns = [
    path("me/", api_view(MeApi), name="api_me"),
    path("service-users/", api_view(ServiceUserListApi), name="api_service_users"),
    path("service-users/<int:service_user_id>/", api_view(ServiceUserDetailApi),
         name="api_service_user"),
    path("service-users/<int:service_user_id>/episodes/", api_view(EpisodeListApi),
         name="api_episodes"),
    path("service-users/<int:service_user_id>/allocations/", api_view(AllocationListApi),
         name="api_allocations"),
    path("service-users/<int:service_user_id>/carers/", api_view(CarerRelationshipListApi),
         name="api_carer_relationships"),
    path("service-users/<int:service_user_id>/access-events/", api_view(AccessEventListApi),
         name="api_access_events"),
    path("episodes/<int:episode_id>/", api_view(EpisodeDetailApi), name="api_episode"),
    path("allocations/<int:allocation_id>/", api_view(AllocationDetailApi),
         name="api_allocation"),
    path("carer-relationships/<int:relationship_id>/", api_view(CarerRelationshipDetailApi),
         name="api_carer_relationship"),
]
