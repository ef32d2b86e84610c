"""Versions and co-signature: a proposed version is frozen and bound to its SHA-256 hash;
signing needs the signer's password; each kind has its own agreement rule; a service user
may decline in their own words; editing after agreement never changes what was agreed;
and `verify_plan_signatures` finds any tampering."""

from __future__ import annotations

import contextlib
import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from carecoord.audit.models import AccessEvent
from carecoord.audit.request_context import current_ip_address
from consent import policy
from plans import selectors, services
from plans.models import PlanVersion, RequiredSigner, Signature, content_hash
from plans.sections import PlanKind
from plans.services import PlanActionError, WrongPasswordError
from tests.plans.factories import (
    add_goal,
    add_item,
    add_responsibility,
    fill_crisis,
    make_plan,
    plan_with_content,
    prompt_item,
    propose,
    reload,
    sign,
    status,
    write,
)


def _independent_hash(snapshot) -> str:
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@pytest.fixture
def client_ip():
    token = current_ip_address.set("10.1.2.3")
    yield "10.1.2.3"
    current_ip_address.reset(token)


# --- Proposing freezes the content and its hash ----------------------------------------



def versions_of(viewer, plan, **options) -> list[selectors.VersionRow]:
    """The versions list of the plan as its page opens it (the list asks the basis the
    plan was opened on)."""
    opened = selectors.plan_open(viewer=viewer, plan_id=plan.pk, surface="plan_detail")
    return selectors.versions_for_plan(viewer=viewer, opened=opened, **options)

def test_proposing_freezes_a_snapshot_bound_to_its_sha256(world):
    plan = make_plan(world)
    write(prompt_item(plan, "recovery_meaning"), world.service_user_account,
          "Être moi-même — cooking jollof for my friends again.")
    fill_crisis(plan, world.service_user_account)
    add_goal(plan, world.coordinator)

    version = propose(plan, world.coordinator)

    stored = reload(version)
    assert stored.number == 1
    assert stored.proposed_by == world.coordinator
    assert len(stored.snapshot) == plan.items.count() == 11
    bodies = [entry["body"] for entry in stored.snapshot]
    assert "Être moi-même — cooking jollof for my friends again." in bodies
    assert len(stored.content_hash) == 64
    assert stored.content_hash == _independent_hash(stored.snapshot)
    assert stored.content_hash == content_hash(stored.snapshot)
    assert stored.recompute_hash() == stored.content_hash


def test_proposing_again_without_a_change_is_refused(world):
    plan = plan_with_content(world)
    propose(plan, world.coordinator)
    with pytest.raises(PlanActionError):
        propose(plan, world.service_user_account)
    assert plan.versions.count() == 1


@pytest.mark.parametrize("kind", list(PlanKind))
def test_a_plan_with_nothing_written_cannot_be_proposed(world, kind):
    plan = make_plan(world, kind)
    with pytest.raises(PlanActionError):
        propose(plan, world.coordinator)
    assert not PlanVersion.objects.exists()


# --- Signing ---------------------------------------------------------------------------


def test_signing_needs_the_signers_own_password(world):
    version = propose(plan_with_content(world), world.coordinator)
    with pytest.raises(WrongPasswordError):
        services.version_sign(version=version, signer=world.service_user_account,
                              role="service_user", password="not-my-password")
    # Someone else's password is no better.
    world.coordinator.set_password("coordinators-own-password")
    world.coordinator.save()
    with pytest.raises(WrongPasswordError):
        services.version_sign(version=version, signer=world.service_user_account,
                              role="service_user", password="coordinators-own-password")
    assert not Signature.objects.exists()
    assert reload(version).agreed_at is None
    assert status(version) == "awaiting"


def test_a_signature_records_the_hash_role_time_and_ip(world, client_ip):
    version = propose(plan_with_content(world), world.coordinator)
    before = timezone.now()

    signature = sign(version, world.service_user_account)

    signature = Signature.objects.get(pk=signature.pk)
    assert signature.version == version
    assert signature.signer == world.service_user_account
    assert signature.decision == Signature.Decision.SIGNED
    assert signature.role == "service_user"
    assert signature.content_hash == reload(version).content_hash
    assert before <= signature.signed_at <= timezone.now()
    assert signature.ip_address == client_ip
    event = AccessEvent.objects.get(action="plan_version.sign")
    assert event.ip_address == client_ip
    assert event.actor == world.service_user_account


def test_signing_twice_is_refused(world):
    version = propose(plan_with_content(world), world.coordinator)
    sign(version, world.service_user_account)
    with pytest.raises(PlanActionError):
        sign(version, world.service_user_account)
    assert version.signatures.count() == 1


# --- Agreement rules per kind ----------------------------------------------------------


@pytest.mark.parametrize("order", [("service_user_account", "coordinator"),
                                   ("coordinator", "service_user_account")],
                         ids=["service-user-first", "coordinator-first"])
def test_a_care_plan_is_agreed_when_the_service_user_and_coordinator_have_signed(world,
                                                                                  order):
    version = propose(plan_with_content(world), world.coordinator)
    assert {s.role for s in version.required_signers.all()} == {"service_user", "coordinator"}
    first, second = (getattr(world, name) for name in order)

    sign(version, first)
    assert reload(version).agreed_at is None
    assert status(version) == "awaiting"

    sign(version, second)
    assert reload(version).agreed_at is not None
    assert status(version) == "agreed"
    assert selectors.latest_agreed_version(viewer=world.service_user_account,
                                           plan=version.plan) == version


def test_a_care_plan_is_not_agreed_by_the_coordinator_alone(world):
    version = propose(plan_with_content(world), world.coordinator)
    sign(version, world.coordinator)
    assert policy.signer_role(world.other_coordinator, version) is None
    assert reload(version).agreed_at is None


def test_a_wrap_is_agreed_by_the_service_users_signature_alone(world):
    version = propose(plan_with_content(world, PlanKind.WRAP), world.service_user_account)
    assert [s.role for s in version.required_signers.all()] == ["service_user"]
    # No coordinator signs a WRAP: it is the service user's.
    assert policy.signer_role(world.coordinator, version) is None

    sign(version, world.service_user_account)

    assert reload(version).agreed_at is not None
    assert status(version) == "agreed"


def test_a_responsibility_agreement_naming_a_carer_needs_the_carer_too(world):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    add_responsibility(plan, world.coordinator, holder="service_user")
    add_responsibility(plan, world.coordinator, holder="carer",
                       relationship_pk=world.carer_relationship.pk,
                       title="Checking in by phone on Sundays")
    version = propose(plan, world.coordinator)
    required = {(s.role, s.carer_id) for s in version.required_signers.all()}
    assert required == {("service_user", None), ("coordinator", None),
                        ("carer", world.carer_relationship.carer_id)}
    assert policy.signer_role(world.carer_account, version) == "carer"
    assert policy.signer_role(world.other_carer_account, version) is None

    sign(version, world.service_user_account)
    sign(version, world.coordinator)
    assert reload(version).agreed_at is None
    assert status(version) == "awaiting"

    signature = sign(version, world.carer_account)

    assert signature.role == "carer"
    assert reload(version).agreed_at is not None
    assert status(version) == "agreed"


def test_a_carer_not_named_as_a_holder_is_not_a_signer(world):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    add_responsibility(plan, world.coordinator, holder="service_user")
    version = propose(plan, world.coordinator)
    assert not version.required_signers.filter(role=RequiredSigner.Role.CARER).exists()
    assert policy.signer_role(world.carer_account, version) is None
    assert policy.signer_role(world.other_carer_account, version) is None

    sign(version, world.service_user_account)
    sign(version, world.coordinator)
    assert status(version) == "agreed"


# --- Declining -------------------------------------------------------------------------


REASON = ("I don't agree with the part about my medication.\n"
          "I want to talk to my doctor first — it's my body.")


def test_the_service_user_may_decline_in_their_own_words(world):
    version = propose(plan_with_content(world), world.coordinator)

    services.version_decline(version=version, signer=world.service_user_account,
                             role="service_user", reason=REASON)

    assert status(version) == "declined"
    row = versions_of(world.coordinator, version.plan)[0]
    assert row.status == "declined"
    declined = Signature.objects.get(version=version)
    assert declined.decision == Signature.Decision.DECLINED
    assert declined.reason == REASON
    assert declined.content_hash == version.content_hash
    assert reload(version).agreed_at is None


@pytest.mark.parametrize("reason", ["", "   \n\t "])
def test_declining_needs_a_reason(world, reason):
    version = propose(plan_with_content(world), world.coordinator)
    with pytest.raises(PlanActionError):
        services.version_decline(version=version, signer=world.service_user_account,
                                 role="service_user", reason=reason)
    assert not Signature.objects.exists()
    assert status(version) == "awaiting"


def test_no_signing_after_declining(world):
    version = propose(plan_with_content(world), world.coordinator)
    services.version_decline(version=version, signer=world.service_user_account,
                             role="service_user", reason=REASON)
    with pytest.raises(PlanActionError):
        sign(version, world.service_user_account)
    with pytest.raises(PlanActionError):
        services.version_decline(version=version, signer=world.service_user_account,
                                 role="service_user", reason="Changed my mind")
    # Nobody signs around a "no": the version needs changing and proposing again (one
    # rule, policy.can_sign, for the page, the API and this service).
    assert policy.can_sign(world.coordinator, version) is None
    with pytest.raises(PlanActionError):
        sign(version, world.coordinator)
    assert list(version.signatures.values_list("decision", flat=True)) == ["declined"]
    assert status(version) == "declined"
    assert reload(version).agreed_at is None


# --- Editing after agreement ----------------------------------------------------------


def _agreed_version(world):
    plan = plan_with_content(world)
    goal = add_goal(plan, world.coordinator)
    version = propose(plan, world.coordinator)
    sign(version, world.service_user_account)
    sign(version, world.coordinator)
    assert status(version) == "agreed"
    return plan, goal, reload(version)


def test_editing_after_agreement_leaves_the_agreed_version_as_it_was(world):
    plan, _goal, v1 = _agreed_version(world)
    snapshot, digest, agreed_at = v1.snapshot, v1.content_hash, v1.agreed_at

    hopes = write(prompt_item(plan, "hopes"), world.service_user_account, "To move to my own flat.")

    v1 = reload(v1)
    assert v1.snapshot == snapshot
    assert v1.content_hash == digest
    assert v1.agreed_at == agreed_at
    assert v1.recompute_hash() == digest
    assert {entry["body"] for entry in v1.snapshot if entry["id"] == hopes.pk} == {""}

    v2 = propose(plan, world.coordinator)
    assert v2.number == 2
    assert v2.content_hash != digest
    assert status(v1) == "agreed"
    assert status(v2) == "awaiting"

    diff = selectors.version_diff(older=v1, newer=v2)
    assert [(row.status, (row.before or row.after)["id"]) for row in diff] == [
        ("changed", hopes.pk)
    ]
    assert diff[0].before["body"] == ""
    assert diff[0].after["body"] == "To move to my own flat."


def test_the_diff_shows_items_added_changed_and_removed(world):
    plan, goal, v1 = _agreed_version(world)
    write(prompt_item(plan, "hopes"), world.service_user_account, "To move to my own flat.")
    v2 = propose(plan, world.coordinator)

    goal.refresh_from_db()
    services.item_remove(item=goal, removed_by=world.coordinator,
                         expected_revision=goal.revision)
    risk = add_item(plan, "risk", world.coordinator, "Cycling to work",
                    body="Helmet and lights; text when I arrive.")
    v3 = propose(plan, world.coordinator)

    def summary(diff):
        return sorted((row.status, (row.after or row.before)["id"]) for row in diff)

    assert summary(selectors.version_diff(older=v2, newer=v3)) == sorted(
        [("added", risk.pk), ("removed", goal.pk)]
    )
    assert summary(selectors.version_diff(older=v1, newer=v3)) == sorted(
        [("added", risk.pk), ("removed", goal.pk),
         ("changed", prompt_item(plan, "hopes").pk)]
    )
    assert selectors.version_diff(older=v3, newer=v3) == []
    assert status(v1) == "agreed"


def test_a_newer_proposal_replaces_an_unsigned_older_one(world):
    plan = plan_with_content(world)
    v1 = propose(plan, world.coordinator)
    write(prompt_item(plan, "hopes"), world.service_user_account, "To learn to drive.")
    v2 = propose(plan, world.coordinator)

    with pytest.raises(PlanActionError):
        sign(v1, world.service_user_account)
    with pytest.raises(PlanActionError):
        services.version_decline(version=v1, signer=world.service_user_account,
                                 role="service_user", reason="Old one")
    assert not v1.signatures.exists()
    assert status(v1) == "replaced"
    assert status(v2) == "awaiting"
    rows = versions_of(world.service_user_account, plan)
    assert [(row.version.number, row.status) for row in rows] == [(2, "awaiting"),
                                                                  (1, "replaced")]


# --- Versions are immutable -----------------------------------------------------------


def test_a_saved_version_keeps_its_content_when_saved_again_through_the_orm(world):
    version = propose(plan_with_content(world), world.coordinator)
    original = reload(version)

    version.snapshot = [{"id": 0, "body": "Something nobody agreed to"}]
    version.content_hash = "0" * 64
    version.plan_revision = 999
    version.save()
    version.save(update_fields=["snapshot", "content_hash"])

    stored = reload(version)
    assert stored.snapshot == original.snapshot
    assert stored.content_hash == original.content_hash
    assert stored.plan_revision == original.plan_revision
    assert stored.recompute_hash() == stored.content_hash


def test_a_version_cannot_be_rewritten_by_a_queryset_update_either(world):
    version = propose(plan_with_content(world), world.coordinator)
    original = reload(version)
    with contextlib.suppress(Exception):  # refusing is a right answer too
        PlanVersion.objects.filter(pk=version.pk).update(
            snapshot=[{"id": 0, "body": "Something nobody agreed to"}]
        )
    assert reload(version).snapshot == original.snapshot


# --- verify_plan_signatures ------------------------------------------------------------


def _run_verify():
    out, err = StringIO(), StringIO()
    call_command("verify_plan_signatures", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _signed_versions(world):
    care_plan = plan_with_content(world)
    care_version = propose(care_plan, world.coordinator)
    sign(care_version, world.service_user_account)
    sign(care_version, world.coordinator)
    wrap_version = propose(plan_with_content(world, PlanKind.WRAP), world.service_user_account)
    services.version_decline(version=wrap_version, signer=world.service_user_account,
                             role="service_user", reason="Not ready")
    # Proposed but unsigned: nothing to verify.
    propose(plan_with_content(world, PlanKind.RESPONSIBILITY_AGREEMENT), world.coordinator)
    return care_version, wrap_version


@contextlib.contextmanager
def _triggers_off():
    """Change signed history behind the application's back, as someone with database
    access would: on PostgreSQL its triggers (plans 0005) refuse it, so they are switched
    off for the transaction first."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        yield cursor
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def _label(version) -> str:
    return f"version {version.number} of plan {version.plan_id} (id {version.pk})"


def test_verify_reports_ok_with_the_count(world):
    _signed_versions(world)
    out, err = _run_verify()
    assert "OK: 2 signed versions match" in out
    assert err == ""


def test_verify_finds_a_snapshot_tampered_in_the_database(world):
    care_version, wrap_version = _signed_versions(world)
    tampered = [dict(entry) for entry in care_version.snapshot]
    tampered[0]["body"] = "I agree to any treatment the team chooses."
    placeholder = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with _triggers_off() as cursor:
        cursor.execute(
            f"UPDATE plans_planversion SET snapshot = {placeholder} WHERE id = %s",
            [json.dumps(tampered), care_version.pk],
        )
    assert reload(care_version).snapshot == tampered

    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_plan_signatures", stdout=StringIO(), stderr=err)
    report = err.getvalue()
    assert _label(care_version) in report
    assert "no longer matches its hash" in report
    assert _label(wrap_version) not in report


def test_verify_finds_a_signature_whose_hash_was_changed(world):
    care_version, wrap_version = _signed_versions(world)
    signature = wrap_version.signatures.get()
    with _triggers_off() as cursor:
        cursor.execute("UPDATE plans_signature SET content_hash = %s WHERE id = %s",
                       ["f" * 64, signature.pk])

    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_plan_signatures", stdout=StringIO(), stderr=err)
    report = err.getvalue()
    assert _label(wrap_version) in report
    assert f"user {world.service_user_account.pk} over a different hash" in report
    assert _label(care_version) not in report


def test_the_plan_pages_list_of_versions_leaves_their_snapshots_unread(world):
    # A snapshot is the whole frozen plan (tens of kilobytes of JSON at 80 items): the
    # list shows numbers, dates and signatures. Only the comparison page reads them.
    plan = plan_with_content(world)
    propose(plan, world.coordinator)
    write(prompt_item(plan, "recovery_meaning"), world.coordinator, "Seeing my sister.")
    propose(plan, world.coordinator)

    rows = versions_of(world.coordinator, plan)
    assert [row.version.number for row in rows] == [2, 1]
    assert all("snapshot" in row.version.get_deferred_fields() for row in rows)
    rows = versions_of(world.coordinator, plan, with_snapshots=True)
    assert all(not row.version.get_deferred_fields() & {"snapshot"} for row in rows)
    assert rows[0].version.snapshot != rows[1].version.snapshot
