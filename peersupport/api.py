"""JSON API for peer support: the directory of groups and learning opportunities, and
published recovery stories (plus one's own). The same policy as the pages: a story that
is not published and not yours, or a retired offer, is not found."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.web.api_lists import ListApi
from carecoord.web.api_views import api_view
from peersupport import selectors
from peersupport.models import Audience, OfferKind, RecoveryStory, StoryStatus


class OfferOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=OfferKind.choices)
    audience = serializers.ChoiceField(choices=Audience.choices)
    place = serializers.CharField()
    online = serializers.BooleanField()
    when = serializers.CharField()
    contact = serializers.CharField()
    description = serializers.CharField()
    active = serializers.BooleanField()


class OfferFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OfferKind.choices)
    audience = django_filters.ChoiceFilter(choices=Audience.choices)
    online = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="search", label="Words in the name, description "
                                                         "or place.")

    def search(self, queryset, name, value):
        for word in value.split()[:10]:
            queryset = queryset.filter(Q(name__icontains=word) | Q(description__icontains=word)
                                       | Q(place__icontains=word))
        return queryset


@extend_schema(tags=["peer support"])
class DirectoryListApi(ListApi):
    """Peer-support groups and educational opportunities in the directory."""

    serializer_class = OfferOutput
    filterset_class = OfferFilter
    ordering_fields = ("name", "updated_at")

    def get_queryset(self):
        return selectors.offer_search(viewer=self.request.user, search=selectors.OfferSearch())


@extend_schema(tags=["peer support"])
class DirectoryDetailApi(APIView):
    @extend_schema(summary="One directory entry", responses={200: OfferOutput},
                   description="A group or learning opportunity; a retired one is 404 except "
                               "to the people who keep the directory.")
    def get(self, request: Request, offer_id: int) -> Response:
        return Response(OfferOutput(selectors.offer_open(viewer=request.user,
                                                         offer_id=offer_id)).data)


class StoryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    byline = serializers.CharField(help_text="The name the author chose to show.")
    status = serializers.ChoiceField(choices=StoryStatus.choices)
    published_at = serializers.DateTimeField(allow_null=True)
    yours = serializers.SerializerMethodField()

    def get_yours(self, story: RecoveryStory) -> bool:
        return story.author_id == self.context["request"].user.pk


class StoryFilter(django_filters.FilterSet):
    mine = django_filters.BooleanFilter(method="only_mine",
                                        label="Only your own stories (true).")

    def only_mine(self, queryset, name, value):
        if value:
            return queryset.filter(author_id=self.request.user.pk)
        return queryset


@extend_schema(tags=["peer support"])
class StoryListApi(ListApi):
    """Recovery stories: every published one, and your own in any state."""

    serializer_class = StoryOutput
    filterset_class = StoryFilter
    ordering_fields = ("published_at", "title")

    def get_queryset(self):
        return selectors.stories_for_api(viewer=self.request.user)


@extend_schema(tags=["peer support"])
class StoryDetailApi(APIView):
    @extend_schema(summary="One recovery story", responses={200: StoryOutput},
                   description="A published story, or one of your own; any other is 404.")
    def get(self, request: Request, story_id: int) -> Response:
        story = selectors.story_open(viewer=request.user, story_id=story_id)
        return Response(StoryOutput(story, context={"request": request}).data)


urlpatterns = [
    path("directory/", api_view(DirectoryListApi), name="api_directory"),
    path("directory/<int:offer_id>/", api_view(DirectoryDetailApi), name="api_directory_entry"),
    path("stories/", api_view(StoryListApi), name="api_stories"),
    path("stories/<int:story_id>/", api_view(StoryDetailApi), name="api_story"),
]
