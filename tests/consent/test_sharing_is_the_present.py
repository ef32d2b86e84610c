"""Sharing an item shares what it says now (issue 13, point 5). A carer never sees its
edit history or earlier versions' wording (including words the service user removed
before sharing), on any surface: the history page, older versions (page, API, PDF), the
latest version when it froze an earlier wording. A goal's progress notes are a separate
choice on the sharing decision ("also share progress notes"), off by default, honoured by
the page, the API and the carer's page alike."""

from __future__ import annotations

import pytest
from django.urls import reverse

from carecoord.exports.models import Export
from consent.models import ConsentDecision
from consent.services import consent_decide_item
from plans import services
from plans.models import PlanItem
from tests.conftest import client_for
from tests.plans.factories import add_goal, make_plan, propose, write
from tests.plans.test_pdf_exports import eager_tasks, latest_export, pdf_of, pdf_text  # noqa: F401

OLD = "SECRET-OLD-WORDING about the hospital stay"
NEW = "Walk to the allotment twice a week."
NOTE = "PROGRESS-NOTE: went once, felt anxious on the bus"


@pytest.fixture
def goal(world) -> PlanItem:
    plan = make_plan(world)
    goal = add_goal(plan, world.coordinator, title="Allotment")
    write(goal, world.service_user_account, OLD)
    return goal


def _share(world, item: PlanItem, **kwargs) -> ConsentDecision:
    return consent_decide_item(item=item, carer=world.carer_relationship.carer, shared=True,
                               decided_by=world.service_user_account, **kwargs)


def _old_then_new_versions(world, goal):
    """Version 1 froze the old words; the service user changed them, then version 2."""
    first = propose(goal.plan, world.coordinator)
    write(goal, world.service_user_account, NEW)
    second = propose(goal.plan, world.coordinator)
    return first, second


# --- Edit history ---------------------------------------------------------------------------


def test_a_carer_never_sees_a_shared_items_history(world, goal):
    write(goal, world.service_user_account, NEW)  # OLD removed before sharing
    _share(world, goal)
    response = client_for(world.carer_account).get(f"/plans/items/{goal.pk}/history/")
    assert response.status_code == 404
    assert OLD not in response.content.decode()
    # The record's readers still do.
    page = client_for(world.coordinator).get(f"/plans/items/{goal.pk}/history/")
    assert page.status_code == 200
    assert OLD in page.content.decode()


# --- Older versions -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/plans/versions/{v}/", "/api/v1/versions/{v}/"],
                         ids=["page", "api"])
def test_a_carer_cannot_open_an_older_version(world, goal, path):
    first, second = _old_then_new_versions(world, goal)
    _share(world, goal)
    client = client_for(world.carer_account)
    refused = client.get(path.format(v=first.pk))
    assert refused.status_code == 404
    assert OLD not in refused.content.decode()
    latest = client.get(path.format(v=second.pk))
    assert latest.status_code == 200
    assert NEW in latest.content.decode()
    assert OLD not in latest.content.decode()


@pytest.mark.parametrize("path", ["/plans/versions/{v}/", "/api/v1/versions/{v}/"],
                         ids=["page", "api"])
def test_the_latest_version_does_not_show_a_carer_words_changed_since(world, goal, path):
    version = propose(goal.plan, world.coordinator)  # froze OLD
    write(goal, world.service_user_account, NEW)  # changed, then shared
    _share(world, goal)
    response = client_for(world.carer_account).get(path.format(v=version.pk))
    assert response.status_code == 200
    assert OLD not in response.content.decode()


def test_a_carers_pdf_holds_no_earlier_wording(world, goal,
                                               django_capture_on_commit_callbacks):
    first, second = _old_then_new_versions(world, goal)
    _share(world, goal)
    client = client_for(world.carer_account)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("version_pdf_request", args=[second.pk])).status_code == 302
    export = latest_export(world.carer_account)
    assert export.status == Export.Status.READY, export.error
    text = pdf_text(pdf_of(export))
    assert "Walk to the allotment" in text
    assert "SECRET-OLD-WORDING" not in text
    # The older version's PDF cannot even be asked for.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("version_pdf_request", args=[first.pk])).status_code == 404


def test_a_carers_pdf_of_a_version_with_changed_words_leaves_them_out(
        world, goal, django_capture_on_commit_callbacks):
    version = propose(goal.plan, world.coordinator)
    write(goal, world.service_user_account, NEW)
    _share(world, goal)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.carer_account).post(reverse("version_pdf_request", args=[version.pk]))
    export = latest_export(world.carer_account)
    if export.status == Export.Status.READY:
        assert "SECRET-OLD-WORDING" not in pdf_text(pdf_of(export))
        assert goal.pk not in export.params["entry_ids"]


# --- Progress notes -------------------------------------------------------------------------


@pytest.fixture
def goal_with_progress(world, goal) -> PlanItem:
    write(goal, world.service_user_account, NEW)
    services.progress_record(item=goal, recorded_by=world.service_user_account,
                             recorded_on=goal.created_at.date(), rating=4, note=NOTE)
    return goal


def test_sharing_a_goal_does_not_share_its_progress_notes(world, goal_with_progress):
    goal = goal_with_progress
    _share(world, goal)
    client = client_for(world.carer_account)
    assert client.get(f"/api/v1/items/{goal.pk}/progress/").status_code == 404
    item = client.get(f"/api/v1/items/{goal.pk}/")
    assert item.status_code == 200
    assert item.json()["body"] == NEW
    assert NOTE not in item.content.decode()
    page = client.get(f"/carers/people/{world.carer_relationship.pk}/")
    assert page.status_code == 200
    assert NEW in page.content.decode()
    assert NOTE not in page.content.decode()


def test_progress_notes_are_shared_when_the_service_user_also_chooses_that(
        world, goal_with_progress):
    goal = goal_with_progress
    _share(world, goal, include_progress_notes=True)
    client = client_for(world.carer_account)
    api = client.get(f"/api/v1/items/{goal.pk}/progress/")
    assert api.status_code == 200
    assert [p["note"] for p in api.json()["results"]] == [NOTE]
    assert NOTE in client.get(f"/api/v1/items/{goal.pk}/").content.decode()
    assert NOTE in client.get(
        f"/carers/people/{world.carer_relationship.pk}/").content.decode()
    # Sharing again without the choice takes it back at once.
    _share(world, goal, include_progress_notes=False)
    assert client.get(f"/api/v1/items/{goal.pk}/progress/").status_code == 404


def test_the_consent_page_offers_the_choice_and_records_it(world, goal_with_progress):
    goal = goal_with_progress
    client = client_for(world.service_user_account)
    url = (f"/consent/service-users/{world.service_user.pk}/carers/"
           f"{world.carer_relationship.pk}/")
    page = client.get(url).content.decode()
    assert "Also share the progress notes recorded on goals" in page
    response = client.post(url, {"items": [goal.pk], "action": "share",
                                 "include_progress_notes": "on"})
    assert response.status_code == 302
    decision = ConsentDecision.objects.filter(item=goal).latest("pk")
    assert decision.shared
    assert decision.include_progress_notes
    assert client_for(world.carer_account).get(
        f"/api/v1/items/{goal.pk}/progress/").status_code == 200


def test_the_consent_api_records_the_choice(world, goal_with_progress):
    goal = goal_with_progress
    response = client_for(world.service_user_account).post(
        f"/api/v1/service-users/{world.service_user.pk}/consent/decisions/",
        {"carer_relationship": world.carer_relationship.pk, "item": goal.pk, "shared": True,
         "include_progress_notes": True}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["include_progress_notes"] is True
    assert client_for(world.carer_account).get(
        f"/api/v1/items/{goal.pk}/progress/").status_code == 200
