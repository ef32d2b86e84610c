"""The consent services and the policy they feed: nothing is shared until the service
user shares it; sharing and withdrawing take effect at once and are kept as history;
section rules cover present and future items and item decisions override them; expiry
is honoured when reading; decisions and permissions commit (or roll back) together;
drift is found and repaired; emails say nothing clinical; every carer read is audited."""

from __future__ import annotations

import datetime as dt
import html
import re
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from carecoord.audit.models import AccessEvent
from carecoord.audit.services import audit_chain_extend, audit_chain_verify
from carecoord.notifications.models import Notification
from carecoord.records.services import invitation_accept, invitation_create
from carers.models import CarerRelationship
from carers.services import carer_add, carer_offer_accept, carer_relationship_end
from consent import policy, selectors
from consent.models import (
    ConsentDecision,
    DecidedAs,
    ItemConsent,
    PlanItemUserObjectPermission,
    SectionRule,
)
from consent.services import (
    ConsentError,
    consent_decide_item,
    consent_decide_section,
    consent_item_follow_section,
    consent_permissions_check,
    consent_permissions_repair,
)
from plans import services as plan_services
from plans.models import Plan, PlanItem
from plans.sections import CRISIS_PROMPTS, PlanKind
from tests import clock
from tests.conftest import client_for
from tests.factories import CarerFactory, CarerRelationshipFactory, UserFactory
from tests.plans.factories import add_item, make_plan, prompt_item, write

CRISIS_CODES = [prompt.code for prompt in CRISIS_PROMPTS]
NEW_PASSWORD = "a-long-walk-along-the-river-wear"


class RollbackError(Exception):
    """Raised inside transaction.atomic() to roll the block back."""


def rolled_back(work):
    """Run work() in a transaction, then roll that transaction back; returns its result."""
    try:
        with transaction.atomic():
            result = work()
            raise RollbackError
    except RollbackError:
        return result


# --- Helpers --------------------------------------------------------------------------


@pytest.fixture
def carer(world):
    return world.carer_relationship.carer


@pytest.fixture
def care_plan(world) -> Plan:
    """A care plan with every crisis question answered in words the tests can find."""
    plan = make_plan(world)
    for code in CRISIS_CODES:
        write(prompt_item(plan, code), world.service_user_account, f"Crisis answer {code}.")
    return plan


@pytest.fixture
def wrap(world) -> Plan:
    return make_plan(world, PlanKind.WRAP, by=world.service_user_account)


def crisis(plan: Plan, code: str = "early_signs") -> PlanItem:
    return prompt_item(plan, code)


def visible(user) -> set[int]:
    return set(policy.items_shared_with(user).values_list("pk", flat=True))


def permission_ids(user) -> set[int]:
    return set(PlanItemUserObjectPermission.objects.filter(user=user)
               .values_list("content_object_id", flat=True))


def share(world, item, carer, **kwargs) -> ConsentDecision:
    return consent_decide_item(item=item, carer=carer, shared=True,
                               decided_by=world.service_user_account, **kwargs)


def withdraw(world, item, carer, **kwargs) -> ConsentDecision:
    return consent_decide_item(item=item, carer=carer, shared=False,
                               decided_by=world.service_user_account, **kwargs)


def page_text(response) -> str:
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def carer_page(world, relationship=None):
    relationship = relationship or world.carer_relationship
    return client_for(world.carer_account).get(f"/carers/people/{relationship.pk}/")


def carer_api(world, relationship=None):
    relationship = relationship or world.carer_relationship
    return client_for(world.carer_account).get(
        f"/api/v1/carer/people/{relationship.pk}/shared-items/")


def api_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Not shared by default ------------------------------------------------------------


def test_a_new_item_is_shared_with_no_carer(world, care_plan):
    item = add_item(care_plan, "needs_support", world.coordinator, "Help with letters",
                    body="Mum opens the post with me on Sundays.")
    assert visible(world.carer_account) == set()
    assert visible(world.other_carer_account) == set()
    assert not PlanItemUserObjectPermission.objects.exists()

    response = carer_page(world)
    assert response.status_code == 200
    text = page_text(response)
    assert f"{world.service_user.name} has not shared anything" in text
    for shown in (item.title, item.body, "Crisis answer", "Crisis and contingency plan"):
        assert shown not in text
    assert api_ids(carer_api(world)) == set()


# --- Share, withdraw, history ---------------------------------------------------------


def test_sharing_shows_an_item_and_withdrawing_hides_it_at_once(world, carer, care_plan):
    item = crisis(care_plan)
    first = share(world, item, carer)
    assert visible(world.carer_account) == {item.pk}
    assert "Crisis answer early_signs." in page_text(carer_page(world))
    assert api_ids(carer_api(world)) == {item.pk}

    second = withdraw(world, item, carer)
    # No cleanup task has run: the very next read no longer shows it.
    assert visible(world.carer_account) == set()
    assert permission_ids(world.carer_account) == set()
    text = page_text(carer_page(world))
    assert "Crisis answer early_signs." not in text
    assert "has not shared anything" in text
    assert api_ids(carer_api(world)) == set()
    assert client_for(world.carer_account).get(f"/api/v1/items/{item.pk}/").status_code == 404

    # Every change is kept, newest first; the current decision is the withdrawal.
    history = list(ConsentDecision.objects.filter(item=item).order_by("decided_at", "pk"))
    assert [d.pk for d in history] == [first.pk, second.pk]
    assert [d.shared for d in history] == [True, False]
    assert all(d.decided_as == DecidedAs.SERVICE_USER for d in history)
    assert ItemConsent.objects.get(carer=carer, item=item).decision_id == second.pk
    shown = list(selectors.consent_history(viewer=world.service_user_account,
                                           service_user=world.service_user))
    assert [d.pk for d in shown] == [second.pk, first.pk]


def test_withdrawal_through_the_consent_page_takes_effect_for_the_carers_next_request(
    world, carer, care_plan
):
    item = crisis(care_plan)
    share(world, item, carer)
    service_user = client_for(world.service_user_account)
    url = (f"/consent/service-users/{world.service_user.pk}/carers/"
           f"{world.carer_relationship.pk}/")
    response = service_user.post(url, {"items": [item.pk], "action": "stop"})
    assert response.status_code == 302
    assert "Crisis answer early_signs." not in page_text(carer_page(world))
    assert client_for(world.carer_account).get(f"/api/v1/items/{item.pk}/").status_code == 404


# --- Section rules --------------------------------------------------------------------


def test_a_section_rule_covers_present_and_future_items_and_item_decisions_override_it(
    world, carer, care_plan, wrap
):
    crisis_ids = set(care_plan.items.filter(section="crisis").values_list("pk", flat=True))
    assert len(crisis_ids) == len(CRISIS_CODES)
    consent_decide_section(plan=care_plan, section="crisis", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    assert visible(world.carer_account) == crisis_ids

    # A future item in a covered section: granted inside the transaction that creates it.
    consent_decide_section(plan=care_plan, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    with transaction.atomic():
        later = add_item(care_plan, "needs_support", world.service_user_account,
                         "Lifts to appointments", body="Mum drives me on Tuesdays.")
        assert PlanItemUserObjectPermission.objects.filter(
            user=world.carer_account, content_object=later).exists()
        assert later.pk in visible(world.carer_account)
    assert visible(world.carer_account) == crisis_ids | {later.pk}

    # Rolled back with the item, the grant goes too.
    doomed_pk = rolled_back(lambda: add_item(care_plan, "needs_support",
                                             world.service_user_account, "Doomed").pk)
    assert not PlanItemUserObjectPermission.objects.filter(content_object_id=doomed_pk).exists()

    # An item in a section that is not covered stays private.
    other = add_item(care_plan, "risk", world.service_user_account, "Not this one")
    wrap_item = add_item(wrap, "wellness_toolbox", world.service_user_account, "Walks")
    assert other.pk not in visible(world.carer_account)
    assert wrap_item.pk not in visible(world.carer_account)

    # A per-item "not shared" overrides the rule, for that item only.
    private = crisis(care_plan, "advance_statement")
    withdraw(world, private, carer)
    assert visible(world.carer_account) == (crisis_ids - {private.pk}) | {later.pk}
    assert "Crisis answer advance_statement." not in page_text(carer_page(world))

    # Following the section rule again restores the rule's effect, and says so in history.
    consent_item_follow_section(item=private, carer=carer,
                                decided_by=world.service_user_account)
    assert visible(world.carer_account) == crisis_ids | {later.pk}
    assert not ItemConsent.objects.filter(carer=carer, item=private).exists()
    followed = ConsentDecision.objects.filter(item=private).order_by("-pk").first()
    assert followed.shared is True
    assert "section rule" in followed.note

    # Withdrawing the rule hides everything it covered, except items shared on their own.
    share(world, crisis(care_plan, "who_to_contact"), carer)
    consent_decide_section(plan=care_plan, section="crisis", carer=carer, shared=False,
                           decided_by=world.service_user_account)
    assert visible(world.carer_account) == {crisis(care_plan, "who_to_contact").pk, later.pk}
    assert SectionRule.objects.get(carer=carer, plan=care_plan, section="crisis").decision.shared \
        is False


def test_a_shared_item_shared_again_with_a_section_rule_stays_visible_once(
    world, carer, care_plan
):
    item = crisis(care_plan)
    share(world, item, carer)
    consent_decide_section(plan=care_plan, section="crisis", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    assert PlanItemUserObjectPermission.objects.filter(
        user=world.carer_account, content_object=item).count() == 1
    assert api_ids(carer_api(world)) == set(
        care_plan.items.filter(section="crisis").values_list("pk", flat=True))


# --- Expiry ---------------------------------------------------------------------------


def test_an_expired_share_is_hidden_at_read_time_without_any_cleanup(world, carer, care_plan):
    item = crisis(care_plan)
    today = clock.today()
    decision = share(world, item, carer, expires_on=today)
    assert visible(world.carer_account) == {item.pk}
    assert PlanItemUserObjectPermission.objects.get(
        user=world.carer_account, content_object=item).expires_on == today

    # Time passes: tomorrow, the grant (still in the table) no longer counts.
    with clock.travel_to(today + dt.timedelta(1)):
        assert visible(world.carer_account) == set()
        assert "Crisis answer early_signs." not in page_text(carer_page(world))
        assert api_ids(carer_api(world)) == set()
        assert client_for(world.carer_account).get(
            f"/api/v1/items/{item.pk}/").status_code == 404
    assert PlanItemUserObjectPermission.objects.filter(content_object=item).exists()

    # The same, with the end date moved into the past in the tables themselves.
    yesterday = today - dt.timedelta(days=1)
    ConsentDecision.objects.filter(pk=decision.pk).update(expires_on=yesterday)
    PlanItemUserObjectPermission.objects.filter(content_object=item).update(expires_on=yesterday)
    assert visible(world.carer_account) == set()
    assert "Crisis answer early_signs." not in page_text(carer_page(world))
    assert api_ids(carer_api(world)) == set()
    preview = client_for(world.service_user_account).get(
        f"/consent/service-users/{world.service_user.pk}/carers/"
        f"{world.carer_relationship.pk}/preview/")
    assert "Crisis answer early_signs." not in page_text(preview)


def test_a_section_rule_with_an_end_date_ends_for_every_item_it_covers(world, carer, care_plan):
    today = clock.today()
    consent_decide_section(plan=care_plan, section="crisis", carer=carer, shared=True,
                           decided_by=world.service_user_account, expires_on=today)
    assert len(visible(world.carer_account)) == len(CRISIS_CODES)
    with clock.travel_to(today + dt.timedelta(3)):
        assert visible(world.carer_account) == set()
        assert api_ids(carer_api(world)) == set()


def test_an_end_date_in_the_past_is_refused(world, carer, care_plan):
    with pytest.raises(ConsentError):
        share(world, crisis(care_plan), carer,
              expires_on=clock.today() - dt.timedelta(days=1))
    assert not ConsentDecision.objects.exists()
    assert not PlanItemUserObjectPermission.objects.exists()


# --- Professional decisions -----------------------------------------------------------


def test_a_professional_decision_needs_a_basis_and_the_service_user_sees_it(
    world, carer, care_plan
):
    item = crisis(care_plan)
    with pytest.raises(ConsentError):
        consent_decide_item(item=item, carer=carer, shared=True, decided_by=world.coordinator)
    with pytest.raises(ConsentError):
        consent_decide_item(item=item, carer=carer, shared=True, decided_by=world.coordinator,
                            basis="   ")
    assert not ConsentDecision.objects.exists()
    assert visible(world.carer_account) == set()

    decision = consent_decide_item(item=item, carer=carer, shared=True,
                                   decided_by=world.coordinator,
                                   basis="Asked for this in our meeting on 3 March")
    assert decision.decided_as == DecidedAs.PROFESSIONAL == "professional"
    assert decision.basis == "Asked for this in our meeting on 3 March"
    assert visible(world.carer_account) == {item.pk}

    history = selectors.consent_history(viewer=world.service_user_account,
                                        service_user=world.service_user)
    assert list(history) == [decision]
    overview = client_for(world.service_user_account).get(
        f"/consent/service-users/{world.service_user.pk}/")
    assert "Basis: Asked for this in our meeting on 3 March" in page_text(overview)

    # ... and the service user can change it.
    withdraw(world, item, carer)
    assert visible(world.carer_account) == set()


def test_a_section_rule_by_a_professional_needs_a_basis_too(world, carer, care_plan):
    with pytest.raises(ConsentError):
        consent_decide_section(plan=care_plan, section="crisis", carer=carer, shared=True,
                               decided_by=world.coordinator)
    assert not SectionRule.objects.exists()
    assert visible(world.carer_account) == set()


# --- Atomicity ------------------------------------------------------------------------


def test_a_decision_rolled_back_leaves_neither_decision_nor_permission(world, carer, care_plan):
    item = crisis(care_plan)
    def decide():
        share(world, item, carer)
        assert visible(world.carer_account) == {item.pk}

    rolled_back(decide)
    assert not ConsentDecision.objects.exists()
    assert not ItemConsent.objects.exists()
    assert not PlanItemUserObjectPermission.objects.exists()
    assert visible(world.carer_account) == set()

    rolled_back(lambda: consent_decide_section(
        plan=care_plan, section="crisis", carer=carer, shared=True,
        decided_by=world.service_user_account))
    assert not SectionRule.objects.exists()
    assert not PlanItemUserObjectPermission.objects.exists()
    audit_chain_extend()
    assert audit_chain_verify() is None


def test_a_withdrawal_rolled_back_leaves_the_item_shared(world, carer, care_plan):
    item = crisis(care_plan)
    shared = share(world, item, carer)
    def withdrawal():
        withdraw(world, item, carer)
        assert visible(world.carer_account) == set()

    rolled_back(withdrawal)
    assert visible(world.carer_account) == {item.pk}
    assert PlanItemUserObjectPermission.objects.get(
        user=world.carer_account, content_object=item).decision_id == shared.pk
    assert ItemConsent.objects.get(carer=carer, item=item).decision_id == shared.pk
    assert list(ConsentDecision.objects.values_list("pk", flat=True)) == [shared.pk]


def test_a_failure_inside_the_service_leaves_neither_decision_nor_permission(
    world, carer, care_plan
):
    item = crisis(care_plan)
    with mock.patch("consent.services.access_event_record", side_effect=RuntimeError("audit")), \
            pytest.raises(RuntimeError):
        share(world, item, carer)
    assert not ConsentDecision.objects.exists()
    assert not PlanItemUserObjectPermission.objects.exists()
    assert visible(world.carer_account) == set()


# --- Ended relationships, removed items ------------------------------------------------


def test_when_the_relationship_ends_shared_items_are_hidden(world, carer, care_plan):
    item = crisis(care_plan)
    share(world, item, carer)
    consent_decide_section(plan=care_plan, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    carer_relationship_end(relationship=world.carer_relationship, ended_by=world.coordinator)

    assert visible(world.carer_account) == set()
    assert carer_page(world).status_code == 404
    assert carer_api(world).status_code == 404
    assert client_for(world.carer_account).get(f"/api/v1/items/{item.pk}/").status_code == 404
    with pytest.raises(ConsentError):
        share(world, crisis(care_plan, "practical"), carer)
    # A former carer keeps no grant, and the nightly check has nothing to report.
    assert permission_ids(world.carer_account) == set()
    assert consent_permissions_check() == []


def test_a_carer_linked_again_sees_exactly_what_the_consent_page_says(world, carer, care_plan):
    """After an ended relationship is started again, whatever the rule is (old decisions
    revived or void), the carer's view, the consent page and the check all agree."""
    share(world, crisis(care_plan), carer)
    consent_decide_section(plan=care_plan, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    carer_relationship_end(relationship=world.carer_relationship, ended_by=world.coordinator)
    again = carer_add(service_user=world.service_user, added_by=world.coordinator,
                      full_name=carer.full_name, relationship="Mum", email=carer.email)
    assert again.carer_id == carer.pk
    assert again.pk != world.carer_relationship.pk
    # A known carer is only offered the relationship (issue 13): she accepts it.
    assert again.is_offered
    again = carer_offer_accept(relationship=again, accepted_by=world.carer_account)
    add_item(care_plan, "needs_support", world.service_user_account, "Added after")

    blocks = selectors.consent_matrix(viewer=world.service_user_account,
                                      service_user=world.service_user, relationships=[again])
    said = {row.item.pk for block in blocks for section in block.sections
            for row in section.items if row.cells[0].shared}
    assert visible(world.carer_account) == said
    assert api_ids(carer_api(world, again)) == said
    assert consent_permissions_check() == []


def test_ending_a_relationship_withdraws_every_share_so_a_new_link_starts_from_nothing(
    world, carer, care_plan
):
    share(world, crisis(care_plan), carer)
    consent_decide_section(plan=care_plan, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    carer_relationship_end(relationship=world.carer_relationship, ended_by=world.coordinator)
    withdrawals = ConsentDecision.objects.filter(carer=carer, shared=False,
                                                 basis="The carer relationship ended.")
    assert withdrawals.count() == 2  # the item and the section rule, kept in the history
    assert permission_ids(world.carer_account) == set()
    carer_add(service_user=world.service_user, added_by=world.coordinator,
              full_name=carer.full_name, relationship="Mum", email=carer.email)
    assert visible(world.carer_account) == set()
    assert consent_permissions_check() == []


def test_adding_an_item_to_a_section_shared_with_a_former_carer_works_and_stays_hidden(
    world, carer, care_plan
):
    """The section rule outlives the relationship; adding an item to that section must
    still work (and tell the former carer nothing)."""
    consent_decide_section(plan=care_plan, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    carer_relationship_end(relationship=world.carer_relationship, ended_by=world.coordinator)
    notifications_before = Notification.objects.filter(user=world.carer_account).count()

    item = add_item(care_plan, "needs_support", world.service_user_account, "New after the end")

    assert item.pk not in visible(world.carer_account)
    assert Notification.objects.filter(user=world.carer_account).count() == notifications_before


def test_a_removed_item_keeps_no_permission(world, carer, care_plan):
    consent_decide_section(plan=care_plan, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    item = add_item(care_plan, "needs_support", world.service_user_account, "Going soon")
    share(world, item, carer)  # its own decision too
    assert item.pk in permission_ids(world.carer_account)

    item.refresh_from_db()
    plan_services.item_remove(item=item, removed_by=world.service_user_account,
                              expected_revision=item.revision)
    assert not PlanItemUserObjectPermission.objects.filter(content_object=item).exists()
    assert visible(world.carer_account) == set()
    assert client_for(world.carer_account).get(f"/api/v1/items/{item.pk}/").status_code == 404
    # The history is kept.
    assert ConsentDecision.objects.filter(item=item).count() == 1
    assert consent_permissions_check() == []


# --- A carer without an account -------------------------------------------------------


def test_decisions_for_a_carer_without_an_account_apply_when_they_accept_the_invitation(
    world, care_plan, django_capture_on_commit_callbacks
):
    carer = CarerFactory(user=None, full_name="Kim Carer", email="kim.carer@example.test")
    relationship = CarerRelationshipFactory(carer=carer, service_user=world.service_user,
                                            relationship="Brother")
    shared_item = crisis(care_plan, "who_to_contact")
    withdrawn_item = crisis(care_plan, "practical")
    share(world, shared_item, carer)
    share(world, withdrawn_item, carer)
    withdraw(world, withdrawn_item, carer)
    consent_decide_section(plan=care_plan, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    later = add_item(care_plan, "needs_support", world.service_user_account, "Lifts")
    add_item(care_plan, "risk", world.service_user_account, "Private")

    assert ConsentDecision.objects.filter(carer=carer).count() == 4
    assert not PlanItemUserObjectPermission.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        _, token = invitation_create(invited_by=world.coordinator,
                                     service_user=world.service_user,
                                     carer_relationship=relationship)
    user = invitation_accept(token=token, password=NEW_PASSWORD, full_name="Kim Carer")
    carer.refresh_from_db()
    assert carer.user_id == user.pk
    assert visible(user) == {shared_item.pk, later.pk}
    response = client_for(user).get(f"/api/v1/carer/people/{relationship.pk}/shared-items/")
    assert api_ids(response) == {shared_item.pk, later.pk}
    assert consent_permissions_check() == []


# --- Drift: check_consent_permissions ---------------------------------------------------


def test_check_consent_permissions_finds_and_repairs_injected_drift(world, carer, care_plan):
    deleted = crisis(care_plan, "early_signs")
    redated = crisis(care_plan, "who_to_contact")
    unshared = crisis(care_plan, "advance_statement")
    stranger_item = crisis(care_plan, "practical")
    share(world, deleted, carer)
    share(world, redated, carer, expires_on=clock.today() + dt.timedelta(days=30))
    consent_decide_section(plan=care_plan, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    covered = add_item(care_plan, "needs_support", world.service_user_account, "Covered")
    expected = {deleted.pk, redated.pk, covered.pk}
    assert visible(world.carer_account) == expected
    assert consent_permissions_check() == []
    out = StringIO()
    call_command("check_consent_permissions", stdout=out)
    assert "OK" in out.getvalue()

    # Inject drift behind the services' back.
    PlanItemUserObjectPermission.objects.filter(
        user=world.carer_account, content_object=deleted).delete()
    # Stray grants carry a decision (every grant must) that does not justify them.
    stray = PlanItemUserObjectPermission.objects.get(user=world.carer_account,
                                                     content_object=redated)
    PlanItemUserObjectPermission.objects.create(
        user=world.carer_account, permission=stray.permission, content_object=unshared,
        decision=stray.decision)
    PlanItemUserObjectPermission.objects.filter(
        user=world.carer_account, content_object=redated).update(expires_on=None)
    PlanItemUserObjectPermission.objects.create(
        user=world.other_coordinator, permission=stray.permission,
        content_object=stranger_item, decision=stray.decision)

    found = {(d.item_id, d.problem) for d in consent_permissions_check()}
    assert (deleted.pk, "shared, but the permission is missing") in found
    assert (unshared.pk, "not shared, but a permission exists") in found
    assert (redated.pk, "the permission's end date is wrong") in found
    assert any(item_id == stranger_item.pk for item_id, _ in found)
    assert len(found) == 4

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_consent_permissions", stdout=out)
    report = out.getvalue()
    for item in (deleted, unshared, redated, stranger_item):
        assert f"item {item.pk}:" in report

    out = StringIO()
    call_command("check_consent_permissions", "--repair", stdout=out)
    assert "Repaired 4" in out.getvalue()

    assert consent_permissions_check() == []
    out = StringIO()
    call_command("check_consent_permissions", stdout=out)
    assert "OK" in out.getvalue()
    assert permission_ids(world.carer_account) == expected
    assert visible(world.carer_account) == expected
    assert PlanItemUserObjectPermission.objects.get(
        user=world.carer_account, content_object=redated
    ).expires_on == clock.today() + dt.timedelta(days=30)
    assert not PlanItemUserObjectPermission.objects.filter(user=world.other_coordinator).exists()


def test_consent_permissions_repair_returns_what_it_repaired(world, carer, care_plan):
    item = crisis(care_plan)
    share(world, item, carer)
    PlanItemUserObjectPermission.objects.all().delete()
    repaired = consent_permissions_repair()
    assert [(d.item_id, d.problem) for d in repaired] == [
        (item.pk, "shared, but the permission is missing")]
    assert consent_permissions_check() == []
    assert visible(world.carer_account) == {item.pk}


# --- Notifications and email ------------------------------------------------------------


def test_sharing_notifies_the_carer_without_clinical_content_and_withdrawing_says_nothing(
    world, carer, care_plan, mailoutbox, django_capture_on_commit_callbacks
):
    item = crisis(care_plan)
    with django_capture_on_commit_callbacks(execute=True):
        share(world, item, carer)
    notifications = list(Notification.objects.filter(user=world.carer_account))
    assert len(notifications) == 1
    assert notifications[0].url == f"/carers/people/{world.carer_relationship.pk}/"
    assert item.title not in notifications[0].text
    assert "Crisis answer" not in notifications[0].text

    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == [world.carer_account.email]
    for secret in (item.title, "Crisis answer", world.service_user.full_name,
                   world.service_user.name, "crisis", "Crisis"):
        assert secret not in email.subject
        assert secret not in email.body
    assert "/carers/people/" in email.body or "sign in" in email.body.lower()

    with django_capture_on_commit_callbacks(execute=True):
        withdraw(world, item, carer)
    assert Notification.objects.filter(user=world.carer_account).count() == 1
    assert len(mailoutbox) == 1


def test_a_section_share_sends_one_notification_and_nothing_new_sends_none(
    world, carer, care_plan, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        consent_decide_section(plan=care_plan, section="crisis", carer=carer, shared=True,
                               decided_by=world.service_user_account)
    assert Notification.objects.filter(user=world.carer_account).count() == 1
    assert len(mailoutbox) == 1
    # Already visible: sharing one of them on its own shows nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        share(world, crisis(care_plan), carer)
    assert Notification.objects.filter(user=world.carer_account).count() == 1
    assert len(mailoutbox) == 1


# --- Audit ----------------------------------------------------------------------------


def test_each_carer_read_of_a_shared_item_is_audited_with_its_consent_decision(
    world, carer, care_plan
):
    first = share(world, crisis(care_plan, "early_signs"), carer)
    second = share(world, crisis(care_plan, "who_to_contact"), carer)
    crisis(care_plan, "advance_statement")  # not shared: never in the audit as a read
    before = AccessEvent.objects.filter(action="carer_item.view").count()
    assert before == 0

    assert carer_page(world).status_code == 200
    # One event for the page view, listing each item with the decision that allowed it.
    (event,) = AccessEvent.objects.filter(action="carer_item.view")
    assert event.actor_id == world.carer_account.pk
    assert event.service_user_id == world.service_user.pk
    by_target = dict(event.items)
    assert set(by_target) == {f"plan_item:{d.item_id}" for d in (first, second)}
    for decision in (first, second):
        assert f"consent decision {decision.pk}" in by_target[f"plan_item:{decision.item_id}"]
    audit_chain_extend()
    assert audit_chain_verify() is None

    # The API reads are audited the same way; the service user's preview is not a read.
    carer_api(world)
    client_for(world.service_user_account).get(
        f"/consent/service-users/{world.service_user.pk}/carers/"
        f"{world.carer_relationship.pk}/preview/")
    assert AccessEvent.objects.filter(action="carer_item.view").count() == 2
    audit_chain_extend()
    assert audit_chain_verify() is None

    reads = list(selectors.shared_reads(viewer=world.service_user_account,
                                        service_user=world.service_user))
    assert len(reads) == 2
    assert {r.actor_id for r in reads} == {world.carer_account.pk}
    assert list(selectors.shared_reads(viewer=world.coordinator,
                                       service_user=world.service_user)) == reads
    assert list(selectors.shared_reads(viewer=world.carer_account,
                                       service_user=world.service_user)) == []
    overview = page_text(client_for(world.service_user_account).get(
        f"/consent/service-users/{world.service_user.pk}/"))
    assert world.carer_account.display_name in overview
    assert "“Early signs that I am becoming unwell”" in overview


def test_a_carer_with_nothing_shared_leaves_no_read_events(world, care_plan):
    assert carer_page(world).status_code == 200
    assert not AccessEvent.objects.filter(action="carer_item.view").exists()


def test_items_shared_with_a_carer_of_someone_else_do_not_leak_between_people(
    world, carer, care_plan
):
    """One carer for two people: each person's page shows only that person's items."""
    other_plan = plan_services.plan_create(service_user=world.other_service_user,
                                           kind=PlanKind.CARE_PLAN,
                                           created_by=world.other_coordinator)
    write(prompt_item(other_plan, "early_signs"), world.other_service_user_account,
          "Other person's signs.")
    second = CarerRelationshipFactory(carer=carer, service_user=world.other_service_user,
                                      relationship="Neighbour")
    share(world, crisis(care_plan), carer)
    consent_decide_item(item=prompt_item(other_plan, "early_signs"), carer=carer, shared=True,
                        decided_by=world.other_service_user_account)

    first_page = page_text(carer_page(world))
    second_page = page_text(carer_page(world, second))
    assert "Crisis answer early_signs." in first_page
    assert "Other person's signs." not in first_page
    assert "Other person's signs." in second_page
    assert "Crisis answer early_signs." not in second_page
    assert CarerRelationship.objects.active().filter(carer=carer).count() == 2
    # Another carer of the first person sees none of it.
    stranger = UserFactory()
    assert visible(stranger) == set()


def test_a_carer_never_reads_why_the_service_user_did_not_sign(world, carer, care_plan):
    from plans.exports import version_pdf_html

    item = crisis(care_plan)
    write(item, world.coordinator, "I stop sleeping.")
    share(world, item, carer)
    version = plan_services.version_propose(plan=care_plan, proposed_by=world.coordinator)
    plan_services.version_decline(version=version, signer=world.service_user_account,
                                  role="service_user", reason="SECRET-REASON in my words")

    as_carer = client_for(world.carer_account)
    page = as_carer.get(f"/plans/versions/{version.pk}/")
    api = as_carer.get(f"/api/v1/versions/{version.pk}/")
    assert page.status_code == api.status_code == 200
    assert "I stop sleeping." in page.content.decode()
    assert "SECRET-REASON" not in page.content.decode()
    assert "SECRET-REASON" not in api.content.decode()
    html, _ = version_pdf_html(requester=world.carer_account, version=version)
    assert "SECRET-REASON" not in html
    # The record's readers still read it.
    coordinator_page = client_for(world.coordinator).get(f"/plans/versions/{version.pk}/")
    assert "SECRET-REASON" in coordinator_page.content.decode()
