"""Rules the policy gained when their copies elsewhere were deleted: one answer for
"may they sign?", "who coordinates this person?", "may they download this file?", and no
second way to ask guardian's table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from carecoord.exports.models import Export
from carecoord.records.models import Allocation, ServiceUser, User
from consent import policy
from consent.services import consent_decide_item
from plans import services as plan_services
from plans.services import PlanActionError
from tests import clock
from tests.conftest import client_for
from tests.factories import PASSWORD, AllocationFactory, EpisodeFactory, UserFactory
from tests.plans.factories import plan_with_content, prompt_item, propose, write

REASON = "The crisis plan is not in my words yet."


def _declined_version(world):
    version = propose(plan_with_content(world), world.coordinator)
    plan_services.version_decline(version=version, signer=world.service_user_account,
                                  role="service_user", reason=REASON)
    return version


# --- Signing: page, API and service give one answer ------------------------------------


def test_a_declined_version_cannot_be_signed_on_any_surface(world):
    version = _declined_version(world)
    assert policy.signer_role(world.coordinator, version) == "coordinator"
    assert policy.can_sign(world.coordinator, version) is None

    with pytest.raises(PlanActionError):
        plan_services.version_sign(version=version, signer=world.coordinator,
                                   role="coordinator", password=PASSWORD)

    client = client_for(world.coordinator)
    page = client.get(reverse("version_detail", args=[version.pk])).content.decode()
    assert 'name="sign-password"' not in page
    posted = client.post(reverse("version_detail", args=[version.pk]),
                         {"action": "sign", "sign-password": PASSWORD})
    assert posted.status_code == 302

    api = client.get(f"/api/v1/versions/{version.pk}/").json()
    assert api["can_sign"] is False
    answer = client.post(f"/api/v1/versions/{version.pk}/signatures/",
                         {"decision": "signed", "password": PASSWORD},
                         content_type="application/json")
    assert answer.status_code == 409
    assert answer.json()["error"]

    assert list(version.signatures.values_list("decision", flat=True)) == ["declined"]


def test_an_open_version_can_be_signed_by_each_signer_once(world):
    version = propose(plan_with_content(world), world.coordinator)
    assert policy.can_sign(world.coordinator, version) == "coordinator"
    assert policy.can_sign(world.service_user_account, version) == "service_user"
    assert policy.can_sign(world.other_coordinator, version) is None
    assert policy.can_sign(world.carer_account, version) is None
    plan_services.version_sign(version=version, signer=world.coordinator,
                               role="coordinator", password=PASSWORD)
    assert policy.can_sign(world.coordinator, version) is None
    assert policy.can_sign(world.service_user_account, version) == "service_user"


# --- Coordinators of a person -----------------------------------------------------------


def test_coordinators_of_is_the_active_allocations(world):
    assert set(policy.coordinators_of(world.service_user)) == {world.coordinator}
    second = UserFactory(roles=["coordinator"])
    allocation = AllocationFactory(episode=world.service_user.episodes.get(),
                                   coordinator=second)
    assert set(policy.coordinators_of(world.service_user)) == {world.coordinator, second}
    Allocation.objects.filter(pk=allocation.pk).update(ended_on=clock.today())
    assert set(policy.coordinators_of(world.service_user)) == {world.coordinator}
    world.service_user.episodes.update(discharged_on=clock.today(), discharge_plan="GP")
    assert set(policy.coordinators_of(world.service_user)) == set()


def test_record_basis_agrees_with_the_records_a_viewer_may_list(world):
    """The single-record answer is the list answer asked about one record."""
    viewers = [world.coordinator, world.other_coordinator, world.service_user_account,
               world.other_service_user_account, world.carer_account, world.manager,
               world.admin, world.no_role]
    a_third = EpisodeFactory().service_user
    AllocationFactory(episode=a_third.episodes.get(), coordinator=world.coordinator,
                      ended_on=clock.today())
    for viewer in viewers:
        listed = set(policy.records_visible_to(viewer).values_list("pk", flat=True))
        for record in ServiceUser.objects.all():
            basis = policy.record_basis(viewer, record)
            assert (basis is not None) == (record.pk in listed), (viewer, record)
    assert policy.record_basis(world.service_user_account, world.service_user) is (
        policy.Basis.SELF)
    assert policy.record_basis(world.coordinator, world.service_user) is (
        policy.Basis.ALLOCATED_COORDINATOR)
    assert policy.record_basis(world.coordinator, a_third) is None


# --- Guardian's table is read only by the policy ---------------------------------------


def test_has_perm_never_answers_from_the_grant_table(world):
    """With guardian's backend installed, `has_perm` would say yes to a carer whose
    share has ended; only the policy answers."""
    assert "guardian.backends.ObjectPermissionBackend" not in settings.AUTHENTICATION_BACKENDS
    plan = plan_with_content(world)
    item = write(prompt_item(plan, "recovery_meaning"), world.service_user_account,
                 "Being outdoors.")
    consent_decide_item(item=item, carer=world.carer_relationship.carer, shared=True,
                   decided_by=world.service_user_account)
    carer = User.objects.get(pk=world.carer_account.pk)
    assert policy.items_shared_with(carer).filter(pk=item.pk).exists()
    assert not carer.has_perm("plans.view_planitem", item)
    assert not carer.has_perm("plans.view_planitem")


# --- Exports -----------------------------------------------------------------------------


def test_a_file_of_a_kind_with_no_rule_is_never_downloadable(world):
    export = Export.objects.create(requested_by=world.coordinator, kind="something-new",
                                   params={}, title="x", status=Export.Status.READY)
    assert policy.can_download_export(world.coordinator, export) is False
    response = client_for(world.coordinator).get(
        reverse("export_download", args=[export.pk]))
    assert response.status_code == 404


def test_a_report_file_stops_downloading_when_its_reader_stops_managing_the_team(world):
    export = Export.objects.create(requested_by=world.manager, kind=Export.Kind.REPORT,
                                   params={"team_id": world.team.pk}, title="Report",
                                   status=Export.Status.READY)
    assert policy.can_download_export(world.manager, export) is True
    assert policy.can_download_export(world.other_manager, export) is False
    for odd in ("x", None, [1], {"a": 1}):
        export.params = {"team_id": odd}
        assert policy.can_download_export(world.manager, export) is False
    export.params = {"team_id": world.team.pk}
    world.team.managers.remove(world.manager)
    assert policy.can_download_export(world.manager, export) is False


def test_the_policy_package_only_re_exports():
    """`consent/policy/__init__.py` holds no rule of its own."""
    import consent.policy as package

    source = Path(package.__file__).read_text()
    assert not re.search(r"^def |^class ", source, re.MULTILINE)
