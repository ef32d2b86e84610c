"""PDFs without a frozen page (issue 12 point 9, issue 15): asking for a file only records
it and queues it, the files page shows each file's state and a JSON status for the
script that updates it, and a plan version's PDF is made once and reused — but only for
someone who would get exactly the same file: a carer never receives a file made for a
coordinator."""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import re
import threading
import time

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from carecoord.audit.models import AccessEvent
from carecoord.celery import app as celery_app
from carecoord.exports import services as exports
from carecoord.exports.models import Export
from carecoord.records.models import Role
from consent.services import consent_decide_item
from plans import exports as plan_exports
from plans.models import PlanVersion
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.factories import CarerFactory, CarerRelationshipFactory, UserFactory
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


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def pdf_renders(monkeypatch) -> list[str]:
    """The pages actually turned into PDFs (the slow part), in order."""
    made: list[str] = []
    real = plan_exports.html_to_pdf

    def counting(page: str) -> bytes:
        made.append(page)
        return real(page)

    monkeypatch.setattr(plan_exports, "html_to_pdf", counting)
    return made


def shared_agreement(world) -> tuple[PlanVersion, dict[str, int]]:
    """A responsibility agreement: one item the carer holds, one shared with them, one
    private to Alex and the coordinator."""
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    held = add_item(plan, "responsibilities", world.coordinator, "Collecting prescriptions",
                    body="Every Friday from the pharmacy on the high street.",
                    details={"holder": "carer",
                             "holder_relationship": world.carer_relationship.pk})
    shared = add_responsibility(plan, world.coordinator, title="Going to the gym")
    private = add_responsibility(plan, world.coordinator, title="Cooking for myself")
    consent_decide_item(item=shared, carer=world.carer_relationship.carer, shared=True,
                        decided_by=world.service_user_account)
    return propose(plan, world.coordinator), {"held": held.pk, "shared": shared.pk,
                                              "private": private.pk}


def ask(user, version: PlanVersion, capture, *, run: bool = True) -> Export:
    with capture(execute=run):
        response = client_for(user).post(reverse("version_pdf_request", args=[version.pk]))
    assert response.status_code == 302
    assert response.url == reverse("export_list")
    return Export.objects.filter(requested_by=user).latest("pk")


def file_of(export: Export) -> bytes:
    export.refresh_from_db()
    assert export.status == Export.Status.READY, export.error
    return (exports.exports_dir() / export.file_name).read_bytes()


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


# --- Asking never renders -------------------------------------------------------------------


def test_asking_for_a_plan_pdf_records_and_queues_it_and_renders_nothing(
        world, django_capture_on_commit_callbacks, monkeypatch):
    version, _ = shared_agreement(world)

    def must_not_run(export):
        raise AssertionError("rendered inside the request")

    monkeypatch.setitem(exports.RENDERERS, Export.Kind.PLAN_VERSION, must_not_run)
    client = client_for(world.coordinator)
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("version_pdf_request", args=[version.pk]))
    took = time.perf_counter() - started
    print(f"\n[timing] asking for a plan PDF (request, no render): {took * 1000:.0f} ms")
    assert response.status_code == 302
    export = Export.objects.get(requested_by=world.coordinator)
    assert export.status == Export.Status.QUEUED
    assert export.file_name == ""
    assert export.attempts == 0
    # The only work left is sending it to the worker, once the transaction commits.
    assert len(callbacks) == 1

    page = client.get(reverse("export_list")).content.decode()
    assert "Queued" in page


def test_asking_for_a_report_pdf_only_queues_it(world, django_capture_on_commit_callbacks,
                                                monkeypatch):
    def must_not_run(export):
        raise AssertionError("rendered inside the request")

    monkeypatch.setitem(exports.RENDERERS, Export.Kind.REPORT, must_not_run)
    today = clock.today()
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(world.manager).post(
            f"/teams/{world.team.pk}/reports/access-events/pdf/",
            {"start": str(today - dt.timedelta(days=30)), "end": str(today)})
    assert response.status_code == 302
    assert Export.objects.get(requested_by=world.manager).status == Export.Status.QUEUED


def test_the_message_after_asking_does_not_say_it_is_still_being_made(
        world, eager, django_capture_on_commit_callbacks):
    # The file may well be ready by the time the page shows: the message must not say
    # otherwise, and the list row says what it is.
    version, _ = shared_agreement(world)
    client = client_for(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("version_pdf_request", args=[version.pk]))
    words = html.unescape(client.get(reverse("export_list")).content.decode())
    assert "being made" not in words
    assert "you can download it when it says Ready" in words
    assert 'nhsuk-tag--green">Ready' in words


# --- The files page and its status endpoint ---------------------------------------------------


def make_export(user, status: str, title: str) -> Export:
    return Export.objects.create(kind=Export.Kind.REPORT, requested_by=user, status=status,
                                 title=title, params={"team_id": 0})


def rows(page: str) -> dict[str, str]:
    found = re.findall(r"<tr\b[^>]*data-export-status.*?</tr>", page, flags=re.S)
    return {re.search(r'data-title="([^"]*)"', row).group(1): row for row in found}


def test_the_files_page_shows_each_state_with_a_tag_and_a_refresh_link_while_waiting(world):
    for status, title in (("queued", "File A"), ("rendering", "File B"), ("failed", "File C")):
        make_export(world.coordinator, status, title)
    client = client_for(world.coordinator)
    page = client.get(reverse("export_list")).content.decode()
    found = rows(page)
    assert 'nhsuk-tag--grey">Queued' in found["File A"]
    assert 'nhsuk-tag--blue">Being made' in found["File B"]
    assert 'nhsuk-tag--red">Failed' in found["File C"]
    assert "Try again" in found["File C"]
    for title, row in found.items():
        export = Export.objects.get(title=title)
        assert f'data-status-url="{reverse("api_export", args=[export.pk])}"' in row
    # Without JavaScript: a link to refresh. With it: a module script, and a live region.
    assert f'<a href="{reverse("export_list")}">Refresh the page</a>' in page
    assert re.search(r'<script type="module" src="[^"]*js/export-status\.js"></script>', page)
    assert 'aria-live="polite"' in page
    assert "<script>" not in page  # nothing inline (CSP)
    assert "onclick" not in page

    Export.objects.filter(status__in=["queued", "rendering"]).update(status="failed")
    assert "Refresh the page" not in client.get(reverse("export_list")).content.decode()


def test_the_status_endpoint_answers_for_one_s_own_file_and_404_for_anyone_else(
        world, eager, django_capture_on_commit_callbacks):
    version, _ = shared_agreement(world)
    export = ask(world.coordinator, version, django_capture_on_commit_callbacks, run=False)
    url = reverse("api_export", args=[export.pk])

    response = client_for(world.coordinator).get(url)
    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    assert response.json()["download_url"] is None

    exports.export_render(export_id=export.pk)
    data = client_for(world.coordinator).get(url).json()
    assert data["status"] == "ready"
    assert data["download_url"] == reverse("export_download", args=[export.pk])

    for other in (world.other_coordinator, world.service_user_account, world.carer_account,
                  world.manager, world.admin, world.no_role):
        assert client_for(other).get(url).status_code == 404, other
    assert client_for(world.coordinator).get(
        reverse("api_export", args=[export.pk + 1000])).status_code == 404


# --- Made once, reused only for the same content ---------------------------------------------


def test_a_carer_never_receives_the_cached_pdf_made_for_a_coordinator(
        world, eager, pdf_renders, django_capture_on_commit_callbacks):
    version, ids = shared_agreement(world)
    coordinators = file_of(ask(world.coordinator, version, django_capture_on_commit_callbacks))
    assert "Cooking for myself" in text_of(coordinators)

    carer_export = ask(world.carer_account, version, django_capture_on_commit_callbacks)
    carers = file_of(carer_export)
    assert len(pdf_renders) == 2, "the carer's file was not made for the carer"
    assert carers != coordinators
    text = text_of(carers)
    assert "Cooking for myself" not in text
    assert "Going to the gym" in text
    assert f"Shared with {world.carer_relationship.carer.name}" in text
    assert sorted(carer_export.params["entry_ids"]) == sorted([ids["held"], ids["shared"]])
    # Nothing stored for reuse holds what the carer may not see, under their key or any.
    for stored in (exports.exports_dir() / "reuse").glob("*.pdf"):
        if stored.read_bytes() == carers:
            assert "Cooking for myself" not in text_of(stored.read_bytes())


def test_a_carer_whose_shares_change_gets_a_file_of_what_they_now_see(
        world, eager, pdf_renders, django_capture_on_commit_callbacks):
    version, ids = shared_agreement(world)
    first = file_of(ask(world.carer_account, version, django_capture_on_commit_callbacks))
    assert "Going to the gym" in text_of(first)
    consent_decide_item(item=version.plan.items.get(pk=ids["shared"]),
                        carer=world.carer_relationship.carer, shared=False,
                        decided_by=world.service_user_account)
    again = ask(world.carer_account, version, django_capture_on_commit_callbacks)
    assert "Going to the gym" not in text_of(file_of(again))
    assert again.params["entry_ids"] == [ids["held"]]
    assert len(pdf_renders) == 2


def test_two_carers_never_share_a_file_even_when_their_pages_would_match(
        world, eager, pdf_renders, django_capture_on_commit_callbacks):
    # Two carers of Alex with the same name, and the same entry shared with both: the
    # page would be identical, but a carer's copy is theirs alone.
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    shared = add_responsibility(plan, world.coordinator, title="Going to the gym")
    add_responsibility(plan, world.coordinator, title="Cooking for myself")
    first_carer = world.carer_relationship.carer
    first_carer.full_name = "Linda Carer"
    first_carer.save(update_fields=["full_name"])
    twin_account = UserFactory(roles=[Role.CARER], full_name="Linda Carer")
    twin = CarerRelationshipFactory(
        carer=CarerFactory(user=twin_account, email=twin_account.email,
                           full_name="Linda Carer"),
        service_user=world.service_user)
    for carer in (first_carer, twin.carer):
        consent_decide_item(item=shared, carer=carer, shared=True,
                            decided_by=world.service_user_account)
    version = propose(plan, world.coordinator)

    made_at = timezone.now()

    def page(user) -> str:
        return plan_exports.version_pdf_html(requester=user, version=version,
                                             made_at=made_at)[0]

    assert page(world.carer_account) == page(twin_account)
    mine = ask(world.carer_account, version, django_capture_on_commit_callbacks)
    theirs = ask(twin_account, version, django_capture_on_commit_callbacks)
    assert "Going to the gym" in text_of(file_of(theirs))
    assert "Going to the gym" in text_of(file_of(mine))
    assert "Cooking for myself" not in text_of(file_of(mine))
    assert len(pdf_renders) == 2
    # The same carer asking again gets their own file again, made once.
    file_of(ask(world.carer_account, version, django_capture_on_commit_callbacks))
    assert len(pdf_renders) == 2


def test_a_version_s_pdf_is_made_once_for_everyone_who_reads_the_whole_record(
        world, eager, pdf_renders, django_capture_on_commit_callbacks, capsys):
    plan = make_plan(world)
    write(prompt_item(plan, "recovery_meaning"), world.service_user_account,
          "Cooking jollof for my friends again.")
    add_item(plan, "goals", world.coordinator, "Back to the allotment",
             body="Two mornings a week with my neighbour.",
             details={"domain": "connectedness", "target_on": clock.days(540).isoformat()})
    version = propose(plan, world.coordinator)

    started = time.perf_counter()
    first_export = ask(world.coordinator, version, django_capture_on_commit_callbacks)
    took = time.perf_counter() - started
    first = file_of(first_export)
    with capsys.disabled():
        print(f"\n[timing] care plan PDF, request + render in-process: {took * 1000:.0f} ms "
              f"({len(first)} bytes)")

    started = time.perf_counter()
    again = file_of(ask(world.coordinator, version, django_capture_on_commit_callbacks))
    with capsys.disabled():
        print(f"[timing] the same version again, reused: "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")
    assert again == first
    assert len(pdf_renders) == 1
    # The person's own copy names them as they asked and has no staff identifiers on its
    # first page: another page, so another file; then that one is reused too.
    own = file_of(ask(world.service_user_account, version, django_capture_on_commit_callbacks))
    assert own != first
    assert len(pdf_renders) == 2
    assert file_of(ask(world.service_user_account, version,
                       django_capture_on_commit_callbacks)) == own
    assert file_of(ask(world.coordinator, version, django_capture_on_commit_callbacks)) == first
    assert len(pdf_renders) == 2

    # Signed since: the file would say something else, so a new one is made.
    sign(version, world.service_user_account)
    sign(version, world.coordinator)
    assert reload(version).agreed_at is not None
    agreed = file_of(ask(world.coordinator, version, django_capture_on_commit_callbacks))
    assert len(pdf_renders) == 3
    assert agreed != first
    assert "Agreed" in text_of(agreed)


def test_each_export_has_its_own_copy_and_unused_stored_files_are_deleted(
        world, eager, settings, django_capture_on_commit_callbacks):
    version, _ = shared_agreement(world)
    # The same page twice (the coordinator's copy): one stored file, two own copies.
    one = ask(world.coordinator, version, django_capture_on_commit_callbacks)
    two = ask(world.coordinator, version, django_capture_on_commit_callbacks)
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.file_name != two.file_name
    (stored,) = (exports.exports_dir() / "reuse").glob("*.pdf")

    long_ago = (timezone.now() - dt.timedelta(days=settings.EXPORT_KEEP_DAYS + 1)).timestamp()
    os.utime(stored, (long_ago, long_ago))
    Export.objects.filter(pk=one.pk).update(
        created_at=timezone.now() - dt.timedelta(days=settings.EXPORT_KEEP_DAYS + 1))
    assert exports.exports_remove_old() == 1
    assert not stored.exists()
    assert file_of(two)  # the other export's own copy is untouched


def test_a_reuse_key_must_be_a_sha256():
    with pytest.raises(ValueError, match="SHA-256"):
        exports.export_content_reused(key="../../etc/passwd", render=lambda: b"")


# --- No broker: a background thread is the worker, never the request (ADR 0028) -----------


@pytest.mark.django_db(transaction=True)
def test_with_no_broker_the_pdf_is_made_after_the_request_by_a_background_thread(
        world, eager, monkeypatch):
    # Tasks eager (plain runserver, no broker): running the task where it is sent would
    # make the PDF inside the request. The render here waits until the test lets it go,
    # so the request can only have answered first if something else does the rendering.
    version, _ = shared_agreement(world)
    release = threading.Event()
    rendered_in: list[str] = []
    real = exports.RENDERERS[Export.Kind.PLAN_VERSION]

    def held_render(export):
        rendered_in.append(threading.current_thread().name)
        release.wait(timeout=10)
        return real(export)

    monkeypatch.setitem(exports.RENDERERS, Export.Kind.PLAN_VERSION, held_render)
    started = time.perf_counter()
    response = client_for(world.coordinator).post(
        reverse("version_pdf_request", args=[version.pk]))
    took = time.perf_counter() - started
    assert response.status_code == 302
    export = Export.objects.get(requested_by=world.coordinator)
    assert export.status in (Export.Status.QUEUED, Export.Status.RENDERING)
    assert took < 5, "the request waited for the render"

    release.set()
    exports.exports_background_wait(timeout=60)
    export.refresh_from_db()
    assert export.status == Export.Status.READY, export.error
    assert len(rendered_in) == 1
    assert rendered_in[0].startswith("export-render")
    assert rendered_in[0] != threading.main_thread().name
    assert "Going to the gym" in text_of(file_of(export))


@pytest.mark.django_db(transaction=True)
def test_with_no_broker_a_render_that_fails_is_recorded_and_the_worker_goes_on(
        world, eager, monkeypatch):
    version, _ = shared_agreement(world)
    real = exports.RENDERERS[Export.Kind.PLAN_VERSION]
    calls = []

    def failing_once(export):
        calls.append(export.pk)
        if len(calls) == 1:
            raise RuntimeError("the renderer fell over")
        return real(export)

    monkeypatch.setitem(exports.RENDERERS, Export.Kind.PLAN_VERSION, failing_once)
    client = client_for(world.coordinator)
    for _ in range(2):
        client.post(reverse("version_pdf_request", args=[version.pk]))
    exports.exports_background_wait(timeout=60)
    first, second = Export.objects.filter(requested_by=world.coordinator).order_by("pk")
    assert first.status == Export.Status.FAILED
    assert "fell over" in first.error
    assert second.status == Export.Status.READY, second.error


def test_asking_for_a_pdf_of_a_long_plan_is_a_few_queries(
        world, django_capture_on_commit_callbacks, django_assert_max_num_queries,
        monkeypatch):
    # The request checks access, audits and queues; the worker reads the version. So
    # the queries do not grow with the plan (80 items at trust scale).
    plan = make_plan(world)
    for n in range(80):
        add_item(plan, "goals", world.coordinator, f"Goal {n}",
                 body="Two mornings a week.", details={"domain": "connectedness"})
    version = propose(plan, world.coordinator)
    monkeypatch.setitem(exports.RENDERERS, Export.Kind.PLAN_VERSION,
                        lambda export: pytest.fail("rendered inside the request"))
    client = client_for(world.coordinator)
    client.get(reverse("export_list"))  # the session and second factor settled
    # 13 here (the test transaction adds savepoints); 9 on the trust-size bench.
    with django_assert_max_num_queries(13), \
            django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("version_pdf_request", args=[version.pk]))
    assert response.status_code == 302
    assert len(callbacks) == 1
    export = Export.objects.get(requested_by=world.coordinator)
    assert export.params == {"version_id": version.pk}
    assert export.title == plan_exports.export_title(version)


def test_asking_for_a_pdf_is_audited_and_anyone_else_is_404_with_nothing_queued(
        world, django_capture_on_commit_callbacks):
    version, _ = shared_agreement(world)
    url = reverse("version_pdf_request", args=[version.pk])
    with django_capture_on_commit_callbacks(execute=False):
        assert client_for(world.coordinator).post(url).status_code == 302
    event = AccessEvent.objects.filter(actor=world.coordinator).latest("id")
    assert event.action == "version_pdf.view"
    assert event.target == f"plan_version:{version.pk}"
    for other in (world.other_coordinator, world.manager, world.admin, world.no_role):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert client_for(other).post(url).status_code == 404, other
        assert callbacks == []
        assert not Export.objects.filter(requested_by=other).exists()
    assert client_for(world.coordinator).post(
        reverse("version_pdf_request", args=[version.pk + 1000])).status_code == 404
