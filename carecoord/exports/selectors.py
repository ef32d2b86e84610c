"""Reading one's own exported files (through the access policy)."""

from __future__ import annotations

from django.db.models import QuerySet

from carecoord.exports.models import Export
from carecoord.records.models import User
from consent import policy


def exports_for_viewer(*, viewer: User) -> QuerySet[Export]:
    return policy.exports_visible_to(viewer).order_by("-created_at", "-pk")


def export_for_viewer(*, viewer: User, export_id: int) -> tuple[Export, bool]:
    """One of the viewer's exports (Http404 otherwise), and whether they may download it
    now."""
    export = policy.export_for_viewer(viewer, export_id)
    return export, policy.can_download_export(viewer, export)
