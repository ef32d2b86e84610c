"""What more than one resource of the plans API writes out or reads in: an item (nested
in a plan's sections, answered by the item and goal endpoints) with a goal's progress,
and validating a request body with a view's Input serializer. Outputs and inputs used by
one resource only are nested in its view, in that resource's module."""

from __future__ import annotations

from rest_framework import serializers

from plans.api.etags import item_etag
from plans.sections import ItemType
from plans.selectors import ItemView


class ProgressOutput(serializers.Serializer):
    id = serializers.IntegerField()
    recorded_on = serializers.DateField()
    rating = serializers.IntegerField()
    note = serializers.CharField()
    recorded_by = serializers.CharField(source="recorded_by.display_name", default=None,
                                        allow_null=True)
    created_at = serializers.DateTimeField()


GOAL_FIELDS = ("agreed", "agreed_by", "progress")


class SortedListField(serializers.ListField):
    def to_representation(self, data) -> list:
        return sorted(super().to_representation(data))


class ItemOutput(serializers.Serializer):
    """An ItemView. Goals add whether both sides agreed, who has, and progress."""

    id = serializers.IntegerField(source="item.pk")
    plan = serializers.IntegerField(source="item.plan_id")
    section = serializers.CharField(source="item.section")
    prompt = serializers.CharField(source="item.prompt")
    item_type = serializers.CharField(source="item.item_type")
    title = serializers.CharField(source="item.title")
    body = serializers.CharField(source="item.body")
    details = serializers.JSONField(source="item.structured")
    written_by = serializers.CharField(source="item.written_by")
    written_by_label = serializers.CharField(source="item.get_written_by_display")
    revision = serializers.IntegerField(source="item.revision")
    updated_at = serializers.DateTimeField(source="item.updated_at")
    etag = serializers.SerializerMethodField()
    can_edit = serializers.BooleanField()
    # Goals only:
    agreed = serializers.BooleanField(required=False)
    agreed_by = SortedListField(child=serializers.CharField(), required=False,
                                help_text="Who has agreed to the goal's words.")
    progress = ProgressOutput(many=True, required=False)

    def get_etag(self, view: ItemView) -> str:
        return item_etag(view.item)

    def to_representation(self, view: ItemView) -> dict:
        data = super().to_representation(view)
        if view.item.item_type != ItemType.GOAL:
            for key in GOAL_FIELDS:
                data.pop(key)
        return data
