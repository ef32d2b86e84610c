"""Who may see and download exported files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from carecoord.exports.models import Export
from consent.policy.base import _signed_in
from consent.policy.plans import version_entries_visible_to, version_for_viewer
from consent.policy.records import can_read_team_reports

if TYPE_CHECKING:
    from consent.policy.base import Viewer


# --- Exports ------------------------------------------------------------------------------


def exports_visible_to(viewer: Viewer) -> QuerySet[Export]:
    """A person sees only the exports they asked for."""
    if not _signed_in(viewer):
        return Export.objects.none()
    return Export.objects.filter(requested_by_id=viewer.pk)


def export_for_viewer(viewer: Viewer, export_id: int) -> Export:
    export = exports_visible_to(viewer).filter(pk=export_id).first()
    if export is None:
        raise Http404("No such file.")
    return export


def can_download_export(viewer: Viewer, export: Export) -> bool:
    """A ready file the viewer asked for, whose whole content they may still see now: a
    plan version they can still open, with every entry in the file still visible to them
    (a withdrawn share stops the download); a team report while they still manage the
    team. Any other kind is refused until a rule is written for it here."""
    if not exports_visible_to(viewer).filter(pk=export.pk).exists():
        return False
    if export.status != Export.Status.READY:
        return False
    params = export.params if isinstance(export.params, dict) else {}
    if export.kind == Export.Kind.PLAN_VERSION:
        return _plan_version_file_still_visible(viewer, params)
    if export.kind == Export.Kind.REPORT:
        return can_read_team_reports(viewer, params.get("team_id"))
    return False


def _plan_version_file_still_visible(viewer: Viewer, params: dict) -> bool:
    entry_ids = params.get("entry_ids")
    if not isinstance(entry_ids, list):
        return False
    try:
        version = version_for_viewer(viewer, int(params["version_id"]))
    except (Http404, KeyError, TypeError, ValueError):
        return False
    visible = {entry["id"] for entry in version_entries_visible_to(viewer, version)}
    return set(entry_ids) <= visible


def export_downloadable(viewer: Viewer, export_id: int) -> Export:
    """A ready export whose contents the viewer may still see, all of it, now."""
    export = export_for_viewer(viewer, export_id)
    if not can_download_export(viewer, export):
        raise Http404("No such file.")
    return export
