"""PDFs of plan versions (tasks run eagerly here; tests/test_celery_worker.py runs them on
a real worker): asked for from the version page, made as the person who asked sees the
version, stored privately, tagged for accessibility, downloaded only through the policy —
and a carer's PDF holds only what is shared with them and stops downloading when a share
is withdrawn."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from pypdf import PdfReader

from carecoord.audit.models import AccessEvent
from carecoord.celery import app as celery_app
from carecoord.exports import services as exports
from carecoord.exports.models import Export
from consent.services import consent_decide_item
from plans import exports as plan_exports
from plans.models import PlanVersion
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.plans.factories import (
    add_item,
    add_responsibility,
    make_plan,
    prompt_item,
    propose,
    reload,
    sign,
    write,
)


@pytest.fixture(autouse=True)
def eager_tasks(settings):
    """Tasks run in-process. The Celery app read its settings when it was configured, so
    its own flag is set too (and put back afterwards)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


# --- Helpers --------------------------------------------------------------------------


def agreed_care_plan(world) -> PlanVersion:
    plan = make_plan(world)
    write(prompt_item(plan, "recovery_meaning"), world.service_user_account,
          "Cooking jollof for my friends again.")
    add_item(plan, "goals", world.coordinator, "Back to the allotment",
             body="Two mornings a week with my neighbour.",
             details={"domain": "connectedness", "target_on": clock.days(540).isoformat()})
    version = propose(plan, world.coordinator)
    sign(version, world.service_user_account)
    sign(version, world.coordinator)
    version = reload(version)
    assert version.agreed_at is not None
    return version


def request_pdf(client, version: PlanVersion, capture):
    with capture(execute=True):
        return client.post(reverse("version_pdf_request", args=[version.pk]))


def latest_export(user) -> Export:
    return Export.objects.filter(requested_by=user).latest("pk")


def pdf_of(export: Export) -> PdfReader:
    return PdfReader(exports.exports_dir() / export.file_name)


def pdf_text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def squashed(text: str) -> str:
    return "".join(text.split())


def download_url(export: Export) -> str:
    return reverse("export_download", args=[export.pk])


# --- The coordinator's PDF of an agreed care plan -------------------------------------


def test_a_coordinator_gets_a_private_tagged_pdf_of_an_agreed_version(
        world, coordinator_client, django_capture_on_commit_callbacks):
    version = agreed_care_plan(world)

    page = coordinator_client.get(reverse("version_detail", args=[version.pk]))
    assert reverse("version_pdf_request", args=[version.pk]) in page.content.decode()
    assert "Download as PDF" in page.content.decode()

    response = request_pdf(coordinator_client, version, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response.url == reverse("export_list")
    export = latest_export(world.coordinator)
    assert export.kind == "plan_version"
    assert export.title == f"Care plan version 1 – {world.service_user.name}"
    assert export.status == Export.Status.READY, export.error
    assert export.params["version_id"] == version.pk
    assert sorted(export.params["entry_ids"]) == sorted(e["id"] for e in version.snapshot)

    # Stored privately: under PRIVATE_FILES_ROOT, never under a public root.
    path = (exports.exports_dir() / export.file_name).resolve()
    assert path.is_file()
    assert path.is_relative_to(Path(django_settings.PRIVATE_FILES_ROOT).resolve())
    for public in (django_settings.STATIC_ROOT, django_settings.MEDIA_ROOT):
        if public:
            assert not path.is_relative_to(Path(public).resolve())

    content = path.read_bytes()
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    text = pdf_text(reader)
    for words in ("Cooking jollof for my friends again.", "Back to the allotment",
                  "Two mornings a week with my neighbour.", world.service_user.name,
                  "Care plan version 1", "Agreed", "Page 1 of", "Written by the service user",
                  "What recovery means to me", "My goals"):
        assert words in text, words
    assert version.content_hash in squashed(text)
    assert "Shared with" not in text
    # Signatures, with the time and role of each.
    signed_at = timezone.localtime(version.signatures.get(role="coordinator").signed_at)
    assert f"Signed on {date_format(signed_at, 'j F Y')}" in text
    assert "Care coordinator" in text
    assert world.coordinator.display_name in text
    # Tagged and accessible: a structure tree, marked content, a language and a title.
    catalog = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert str(catalog["/Lang"]) == "en-GB"
    assert reader.metadata.title == f"Care plan version 1 – {world.service_user.name}"

    files_page = coordinator_client.get(reverse("export_list")).content.decode()
    assert "as a PDF. It is in the list below" in files_page
    assert download_url(export) in files_page

    download = coordinator_client.get(download_url(export))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == content
    assert AccessEvent.objects.filter(actor=world.coordinator, action="export.download",
                                      target=f"export:{export.pk}").exists()

    # Nobody else gets the file, whoever they are.
    for other in (world.other_coordinator, world.service_user_account, world.carer_account,
                  world.manager, world.admin, world.no_role):
        assert client_for(other).get(download_url(export)).status_code == 404


def test_only_people_who_may_open_the_version_can_ask_for_a_pdf(
        world, django_capture_on_commit_callbacks):
    version = agreed_care_plan(world)
    for outsider in (world.other_coordinator, world.other_service_user_account,
                     world.carer_account, world.other_carer_account, world.manager,
                     world.other_manager, world.admin, world.no_role):
        response = request_pdf(client_for(outsider), version,
                               django_capture_on_commit_callbacks)
        assert response.status_code == 404, outsider
    assert not Export.objects.exists()
    assert client_for(world.coordinator).get(
        reverse("version_pdf_request", args=[version.pk])).status_code == 405

    # The service user may, of their own plan.
    response = request_pdf(client_for(world.service_user_account), version,
                           django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert latest_export(world.service_user_account).status == Export.Status.READY


def test_a_manager_gets_no_plan_pdf_by_any_route(world, coordinator_client,
                                                 django_capture_on_commit_callbacks):
    version = agreed_care_plan(world)
    manager = client_for(world.manager)
    assert request_pdf(manager, version, django_capture_on_commit_callbacks).status_code == 404

    # Even an export recorded for them by other means renders nothing, and says why.
    with django_capture_on_commit_callbacks(execute=True):
        forged = exports.export_request(requested_by=world.manager, kind="plan_version",
                                        params={"version_id": version.pk}, title="Forged")
    forged.refresh_from_db()
    assert forged.status == Export.Status.FAILED
    assert "not one you can see" in forged.error
    assert forged.file_name == ""
    assert manager.get(download_url(forged)).status_code == 404

    request_pdf(coordinator_client, version, django_capture_on_commit_callbacks)
    assert manager.get(download_url(latest_export(world.coordinator))).status_code == 404


# --- A carer's PDF: only what they may see, and only while they may ------------------


def test_a_carer_s_pdf_holds_only_their_entries_and_stops_downloading_when_a_share_ends(
        world, carer_client, coordinator_client, django_capture_on_commit_callbacks):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    long_body = "\n\n".join(f"Step {n}: ring the pharmacy first and check the order."
                            for n in range(1, 30))
    held = add_item(plan, "responsibilities", world.coordinator, "Collecting prescriptions",
                    body=long_body,
                    details={"holder": "carer",
                             "holder_relationship": world.carer_relationship.pk,
                             "positive_risk": "Alex manages their own medicines",
                             "safety_net": "The pharmacist rings if anything is missed"})
    shared = add_responsibility(plan, world.coordinator, title="Going to the gym")
    private = add_responsibility(plan, world.coordinator, title="Cooking for myself")
    consent_decide_item(item=shared, carer=world.carer_relationship.carer, shared=True,
                        decided_by=world.service_user_account)
    version = propose(plan, world.coordinator)

    page = carer_client.get(reverse("version_detail", args=[version.pk])).content.decode()
    assert reverse("version_pdf_request", args=[version.pk]) in page

    assert request_pdf(carer_client, version,
                       django_capture_on_commit_callbacks).status_code == 302
    export = latest_export(world.carer_account)
    assert export.status == Export.Status.READY, export.error
    assert sorted(export.params["entry_ids"]) == sorted([held.pk, shared.pk])

    reader = pdf_of(export)
    text = pdf_text(reader)
    assert "Collecting prescriptions" in text
    assert "Going to the gym" in text
    assert "Cooking for myself" not in text
    assert "Waiting for signatures" in text
    assert version.content_hash in squashed(text)
    carer_name = world.carer_relationship.carer.name
    line = f"Shared with {carer_name} on {date_format(clock.today(), 'j F Y')}"
    assert len(reader.pages) >= 2
    for number, pdf_page in enumerate(reader.pages, start=1):
        page_text = " ".join(pdf_page.extract_text().split())
        assert line in page_text, f"page {number}"
        assert f"Page {number} of {len(reader.pages)}" in page_text

    # The coordinator's PDF of the same version holds everything.
    request_pdf(coordinator_client, version, django_capture_on_commit_callbacks)
    everything = pdf_text(pdf_of(latest_export(world.coordinator)))
    assert all(title in everything for title in
               ("Collecting prescriptions", "Going to the gym", "Cooking for myself"))
    assert "Shared with" not in everything

    assert carer_client.get(download_url(export)).status_code == 200

    # Alex stops sharing the gym: the carer's old PDF holds it, so it no longer downloads.
    consent_decide_item(item=shared, carer=world.carer_relationship.carer, shared=False,
                        decided_by=world.service_user_account)
    assert carer_client.get(download_url(export)).status_code == 404
    assert private.pk not in export.params["entry_ids"]

    # A new PDF holds only what is still theirs, and downloads.
    request_pdf(carer_client, version, django_capture_on_commit_callbacks)
    again = latest_export(world.carer_account)
    assert again.params["entry_ids"] == [held.pk]
    assert "Going to the gym" not in pdf_text(pdf_of(again))
    assert carer_client.get(download_url(again)).status_code == 200


# --- Failure and retry ----------------------------------------------------------------


def test_a_failed_render_shows_failed_with_try_again_and_retry_makes_the_file(
        world, coordinator_client, django_capture_on_commit_callbacks, monkeypatch):
    version = agreed_care_plan(world)

    def broken(html: str) -> bytes:
        raise RuntimeError("The PDF engine fell over")

    monkeypatch.setattr(plan_exports, "html_to_pdf", broken)
    request_pdf(coordinator_client, version, django_capture_on_commit_callbacks)
    export = latest_export(world.coordinator)
    assert export.status == Export.Status.FAILED
    assert "fell over" in export.error
    assert coordinator_client.get(download_url(export)).status_code == 404

    files_page = coordinator_client.get(reverse("export_list")).content.decode()
    row = next(r for r in re.findall(r"<tr\b.*?</tr>", files_page, flags=re.S)
               if export.title in r)
    assert "Failed" in row
    assert "Try again" in row
    assert reverse("export_retry", args=[export.pk]) in row

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(reverse("export_retry", args=[export.pk]))
    assert response.status_code == 302
    export.refresh_from_db()
    assert export.status == Export.Status.READY, export.error
    assert export.attempts == 2
    assert export.error == ""
    assert "Cooking jollof for my friends again." in pdf_text(pdf_of(export))
    assert coordinator_client.get(download_url(export)).status_code == 200
