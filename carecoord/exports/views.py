"""The person's own exports: status (queued, being made, ready, failed with retry) and
the download, which asks the access policy again and is audited."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from carecoord.exports import services as exports
from carecoord.exports.models import Export
from consent import policy


def export_list(request: HttpRequest) -> HttpResponse:
    """The list, with each file's state; static/js/export-status.js keeps the states up
    to date (from the files API) without reloading, and says when a file is ready."""
    exports_ = list(policy.exports_visible_to(request.user)[:50])
    pending = any(e.status in (Export.Status.QUEUED, Export.Status.RENDERING) for e in exports_)
    return render(request, "carecoord/exports.html", {"exports": exports_, "pending": pending})


@require_POST
def export_retry(request: HttpRequest, export_id: int) -> HttpResponse:
    export = policy.export_for_viewer(request.user, export_id)
    exports.export_retry(export=export)
    messages.success(request, f"“{export.title}” will be made again.")
    return redirect("export_list")


def export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    export = policy.export_downloadable(request.user, export_id)
    path = exports.export_file_opened(export=export, viewer=request.user)
    response = FileResponse(path.open("rb"), content_type="application/pdf",
                            as_attachment=True, filename=f"{export.title}.pdf")
    response["Cache-Control"] = "private, no-store"
    return response
