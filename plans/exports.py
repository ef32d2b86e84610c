"""PDFs of plan versions, made in the background (carecoord.exports) for the person who
asked, showing exactly what that person may see of the version.

The renderer runs inside a Celery task, as the requester: it opens the version through
the access policy (a version they can no longer open renders nothing: the export fails
with a reason), takes the entries the policy lets them read (everything for the record's
readers; for a carer only the responsibilities they hold and what is shared with them),
and records the ids of those entries in the export. The download check asks the policy
again: the file downloads only while its requester may still open the version and still
see every entry in it, so a carer's PDF stops downloading once a share is withdrawn.

A version is frozen, so its PDF is made once and reused (ADR 0021), keyed by the SHA-256
of the page the PDF is printed from, with only the time it was made left out: two
people share a stored file only when everything in it would have been the same for
both. A carer's page holds only what is shared with them and says so, so it never
matches a coordinator's; a signature added later changes the page, so a new file is
made. The key also names the audience: the person's own copies and the whole-record
readers' (staff, with the NHS number) are kept apart by more than their pages, and a copy
for someone who sees only part of the record (a carer) is never given to anyone else.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateformat import format as date_format

from carecoord.exports.models import Export
from carecoord.exports.pdf import html_to_pdf
from carecoord.exports.services import (
    export_content_reused,
    export_renderer,
    export_request,
)
from carecoord.records.models import User
from carecoord.records.selectors import audit_read
from carers import selectors as carer_selectors
from consent import policy
from plans import selectors
from plans.models import PlanVersion, Signature
from plans.sections import PlanKind

PDF_TEMPLATE = "plans/pdf/version.html"

KIND_TITLE = {
    PlanKind.CARE_PLAN: "Care plan",
    PlanKind.WRAP: "WRAP",
    PlanKind.RESPONSIBILITY_AGREEMENT: "Responsibility agreement",
}


class PlanExportRefusedError(Exception):
    """The requester may not (or may no longer) see the version: no file is made."""


def export_title(version: PlanVersion) -> str:
    """The file's name on "Your files": "Care plan version 2 – Alex"."""
    kind = KIND_TITLE.get(version.plan.kind, "Plan")
    return f"{kind} version {version.number} – {version.plan.service_user.name}"


def plan_version_pdf_request(*, requested_by: User, version_id: int) -> Export:
    """Ask for a version's PDF: the policy lets `requested_by` open it (else Http404),
    the asking is audited as opening it, and the export is queued. Nothing of the version
    is read beyond that here: the worker renders what they may see (and asks the policy
    again, as them), so the request stays a few queries however long the plan is."""
    version = policy.version_for_viewer(requested_by, version_id)
    audit_read(viewer=requested_by, service_user=version.plan.service_user,
               basis=policy.version_basis(requested_by, version),
               surface="version_pdf", target=f"plan_version:{version.pk}")
    return export_request(requested_by=requested_by, kind=Export.Kind.PLAN_VERSION,
                          params={"version_id": version.pk}, title=export_title(version))


def _version_for(requester: User, params: dict) -> PlanVersion:
    try:
        return policy.version_for_viewer(requester, int(params["version_id"]))
    except (Http404, KeyError, TypeError, ValueError):
        raise PlanExportRefusedError(
            "No file was made: this plan version is not one you can see (it may have been "
            "shared with you and then withdrawn, or you may no longer be allocated)."
        ) from None


def _status_text(status: str, version: PlanVersion,
                 signatures: list[Signature]) -> tuple[str, str]:
    """(short status, a sentence) in words, third person (the file may be printed)."""
    if status == "agreed":
        when = date_format(timezone.localtime(version.agreed_at), "j F Y")
        return "Agreed", f"Agreed on {when}: everyone who had to sign it signed it."
    rows = selectors.version_signer_rows(version=version, signatures=signatures)
    if status == "declined":
        names = [row["who"] for row in rows
                 if row["answer"] is not None
                 and row["answer"].decision == Signature.Decision.DECLINED]
        return ("Not signed", f"Not signed: {' and '.join(names) or 'someone'} did not sign "
                              "it, and said why (see “Signatures”).")
    if status == "replaced":
        return "Not signed", "Not signed: a newer version was made before this one was agreed."
    waiting = [row["who"] for row in rows if row["answer"] is None]
    detail = f" Waiting for: {', '.join(waiting)}." if waiting else ""
    return "Waiting for signatures", f"Waiting for signatures.{detail}"


def _shared_with(requester: User, version: PlanVersion) -> tuple[str, str]:
    """For a carer (someone who is not one of the record's readers): ("Shared with Linda
    Carer on 3 March 2026", "Linda Carer"); the line is printed on every page. Empty for
    the record's readers."""
    if policy.plan_basis(requester, version.plan) is not None:
        return "", ""  # a reader of the record, of part of it (care team), or break-glass
    relationship = carer_selectors.own_relationship_with(
        viewer=requester, service_user_id=version.plan.service_user_id)
    name = relationship.carer.name if relationship else requester.display_name
    return f"Shared with {name} on {date_format(timezone.localdate(), 'j F Y')}", name


# Put in place of the time the file is made, to work out the reuse key: the one thing
# on the page that differs between two renders of the same content.
_KEY_MADE_AT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _version_pdf_context(*, requester: User, version: PlanVersion) -> dict:
    opened = selectors.version_view(viewer=requester, version=version)
    plan = version.plan
    signatures = selectors.version_signatures(viewer=requester, version=version)
    status_short, status_sentence = _status_text(opened.status, version, signatures)
    shared_with, shared_with_name = _shared_with(requester, version)
    basis = policy.plan_basis(requester, plan)
    partial_notice = ""
    if basis is policy.Basis.CARE_TEAM:
        partial_notice = (f"Made for {requester.display_name}, on {plan.service_user.name}'s "
                          "care team: this file holds only the parts of the plan their role "
                          "on the care team allows.")
    elif basis is policy.Basis.BREAK_GLASS:
        partial_notice = (f"Made for {requester.display_name} under emergency access: this "
                          "file holds only the crisis plan and advance statement.")
    return {
        "version": version,
        "plan": plan,
        "service_user": plan.service_user,
        "kind_label": PlanKind(plan.kind).label,
        "kind_title": KIND_TITLE.get(plan.kind, "Plan"),
        "entries": opened.entries,
        "status": opened.status,
        "status_short": status_short,
        "status_sentence": status_sentence,
        "signer_rows": selectors.version_signer_rows(version=version, signatures=signatures),
        "carers": {r.pk: r for r in selectors.carer_relationships_for_plan(plan=plan)},
        "shared_with": shared_with,
        "shared_with_name": shared_with_name,
        "partial_notice": partial_notice,
        "is_own": False,
        # Staff must be sure whose plan this is: full name, date of birth, NHS number and
        # the fingerprint plainly on the first page. The person's own copy and a carer's
        # copy name them as they asked to be called and explain the fingerprint instead.
        "identify": basis is not None and basis is not policy.Basis.SELF,
        # Whose copies this one may be shared with (besides an identical page): the
        # person themselves, or the coordinators reading the whole record; anyone who sees
        # part of it (a carer, a care-team role, break-glass) only with themselves.
        "reuse_audience": (str(basis) if basis in (policy.Basis.SELF,
                                                   policy.Basis.ALLOCATED_COORDINATOR)
                           else f"{basis}:user:{requester.pk}"),
    }


def _render(context: dict, made_at: dt.datetime | None) -> str:
    return render_to_string(PDF_TEMPLATE, {**context, "made_at": timezone.localtime(made_at)})


def version_pdf_html(*, requester: User, version: PlanVersion,
                     made_at: dt.datetime | None = None) -> tuple[str, list[int]]:
    """The PDF's HTML as `requester` may see the version, and the ids of the entries in it."""
    context = _version_pdf_context(requester=requester, version=version)
    return _render(context, made_at), [entry["id"] for entry in context["entries"]]


@export_renderer(Export.Kind.PLAN_VERSION)
def plan_version_pdf(export: Export) -> bytes:
    requester = export.requested_by
    version = _version_for(requester, export.params)
    context = _version_pdf_context(requester=requester, version=version)
    page = _render(context, _KEY_MADE_AT)
    key = hashlib.sha256(f"plan_version:{version.pk}:{version.content_hash}:"
                         f"{context['reuse_audience']}\n{page}".encode()).hexdigest()

    def render() -> bytes:
        return html_to_pdf(_render(context, None))

    content = export_content_reused(key=key, render=render)
    export.params["entry_ids"] = [entry["id"] for entry in context["entries"]]
    return content
