"""The carer's pages: what each person they care for has shared with them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from carers import selectors


def carer_person(request: HttpRequest, relationship_id: int) -> HttpResponse:
    relationship, shared = selectors.carer_person_open(
        viewer=request.user, relationship_id=relationship_id
    )
    return render(request, "carers/person.html", {
        "relationship": relationship, "service_user": relationship.service_user,
        "shared": shared, "preview": False,
    })
