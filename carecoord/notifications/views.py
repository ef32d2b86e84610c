"""The notifications page: a person's own in-app notifications, newest first.

Reading it changes nothing; "Mark all as read" is a POST. Only the signed-in person's
own notifications are ever read, and a
notification's text never holds clinical content.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from carecoord.notifications import selectors
from carecoord.notifications.services import notifications_mark_read

SHOWN = 100


@require_http_methods(["GET", "HEAD", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        marked = notifications_mark_read(user=request.user)
        if marked:
            messages.success(request, "All your notifications are marked as read.")
        return redirect("notifications")
    own = selectors.notifications_for(viewer=request.user, limit=SHOWN)
    return render(request, "carecoord/notifications.html", {
        "notifications": own,
        "shown": SHOWN,
    })
