"""The FHIR R4 export (/api/v1/service-users/<id>/fhir): every resource validates with the
`fhir.resources` R4B models; a round trip for a plan of each kind gives back what the
database holds; the same access policy as every other surface (a carer's bundle holds
only what was shared with them, anyone else gets a JSON 404); the read is audited; and
the number of queries does not grow with the record."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from carecoord.audit.models import AccessEvent
from carecoord.fhir.build import bundle_build
from carecoord.fhir.selectors import CareTeamParticipant, FhirExport, fhir_export_open
from consent.services import consent_decide_item, consent_decide_section
from plans import services
from plans.models import Plan, PlanItem, PlanVersion
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.plans.factories import (
    add_goal,
    add_item,
    add_responsibility,
    make_plan,
    prompt_item,
    propose,
    sign,
    write,
)

FHIR_JSON = "application/fhir+json"
NHS_NUMBER = "9434765919"
NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"

MEANING = "Seeing my friends again and cooking for myself."
SHARED_GOAL = "Get back to swimming"
PRIVATE_GOAL_BODY = "Ring my sister about what happened at Christmas."
CRISIS_WORDS = "Hearing voices telling me to stop eating."
PROGRESS_NOTE = "Went to the pool with Dev on Tuesday."
WRAP_WORDS = "Walking the dog every morning, whatever the weather."
PRIVATE_RESPONSIBILITY = "Keeping my medication in the locked box"
NOT_SHARED = [PRIVATE_GOAL_BODY, CRISIS_WORDS, PROGRESS_NOTE, PRIVATE_RESPONSIBILITY, NHS_NUMBER]


# --- Helpers --------------------------------------------------------------------------


def export(user, service_user_id: int):
    return client_for(user).get(f"/api/v1/service-users/{service_user_id}/fhir",
                                headers={"Accept": FHIR_JSON})


def bundle_of(user, service_user_id: int) -> dict:
    response = export(user, service_user_id)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    return json.loads(response.content)


def resources(bundle: dict, resource_type: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == resource_type]


def one(bundle: dict, resource_type: str, resource_id: str) -> dict:
    (found,) = [r for r in resources(bundle, resource_type) if r["id"] == resource_id]
    return found


def validated(bundle: dict) -> Bundle:
    """The bundle as fhir.resources' R4B models parse it (raises if anything is invalid),
    and each entry's resource on its own with its own model."""
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return Bundle.model_validate(bundle)


@pytest.fixture
def record(world):
    """A record with one plan of each kind, an agreed care plan, goals with progress, and
    some items shared with the carer (the rest not)."""
    you, coordinator = world.service_user_account, world.coordinator
    carer = world.carer_relationship.carer
    world.service_user.nhs_number = NHS_NUMBER
    world.service_user.preferred_name = "Lex"
    world.service_user.save()

    care_plan = make_plan(world, PlanKind.CARE_PLAN)
    meaning = write(prompt_item(care_plan, "recovery_meaning"), you, MEANING)
    write(prompt_item(care_plan, "early_signs"), coordinator, CRISIS_WORDS)
    shared_goal = add_goal(care_plan, coordinator, SHARED_GOAL, target=clock.days(90))
    private_goal = add_item(care_plan, "goals", you, "Talk to my sister",
                            body=PRIVATE_GOAL_BODY, details={"domain": "connectedness"})
    for party, person in (("service_user", you), ("coordinator", coordinator)):
        services.goal_agree(item=shared_goal, agreed_by=person, party=party)
    services.progress_record(item=shared_goal, recorded_by=you, recorded_on=clock.days(-14),
                             rating=4, note="Looked at the timetable.")
    services.progress_record(item=shared_goal, recorded_by=coordinator,
                             recorded_on=clock.days(-2), rating=6, note=PROGRESS_NOTE)
    version = propose(care_plan, coordinator)
    sign(version, you)
    sign(version, coordinator)

    wrap = make_plan(world, PlanKind.WRAP, by=you)
    toolbox = add_item(wrap, "wellness_toolbox", you, "Walking the dog", body=WRAP_WORDS)

    agreement = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    own_duty = add_responsibility(agreement, coordinator, title=PRIVATE_RESPONSIBILITY)
    carer_duty = add_responsibility(agreement, coordinator, holder="carer",
                                    relationship_pk=world.carer_relationship.pk,
                                    title="Driving to appointments")

    consent_decide_item(item=meaning, carer=carer, shared=True, decided_by=you)
    consent_decide_item(item=shared_goal, carer=carer, shared=True, decided_by=you,
                        expires_on=clock.days(30))
    consent_decide_section(plan=wrap, section="wellness_toolbox", carer=carer, shared=True,
                           decided_by=you)
    return {
        "care_plan": care_plan, "wrap": wrap, "agreement": agreement, "version": version,
        "meaning": meaning, "shared_goal": shared_goal, "private_goal": private_goal,
        "toolbox": toolbox, "own_duty": own_duty, "carer_duty": carer_duty,
    }


def care_plan_resource(bundle: dict, plan: Plan) -> dict:
    return one(bundle, "CarePlan", f"care-plan-{plan.pk}")


# --- Every resource is valid R4 -------------------------------------------------------


@pytest.mark.parametrize("who", ["coordinator", "service_user_account", "carer_account"])
def test_every_exported_resource_validates_with_the_r4b_models(world, record, who):
    bundle = bundle_of(getattr(world, who), world.service_user.pk)

    parsed = validated(bundle)

    assert parsed.type == "collection"
    assert len(parsed.entry) == len(bundle["entry"]) > 3
    assert len({e["fullUrl"] for e in bundle["entry"]}) == len(bundle["entry"])


def test_the_validation_can_fail():
    """The models refuse what R4 refuses, so the test above means something."""
    with pytest.raises(ValidationError):
        get_fhir_model_class("Goal").model_validate({
            "resourceType": "Goal", "description": {"text": "No lifecycle status"},
            "subject": {"reference": "Patient/patient-1"}})
    with pytest.raises(ValidationError):
        get_fhir_model_class("CarePlan").model_validate({
            "resourceType": "CarePlan", "status": "active", "intent": "plan",
            "subject": {"reference": "Patient/patient-1"}, "goals": []})


def test_the_whole_record_uses_uk_core_profiles_and_the_nhs_number(world, record):
    bundle = bundle_of(world.coordinator, world.service_user.pk)

    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert types == {"Patient", "Practitioner", "RelatedPerson", "CareTeam", "CarePlan", "Goal",
                     "Consent", "Provenance"}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Goal":
            assert "meta" not in resource  # no UK Core profile for Goal
        else:
            assert resource["meta"]["profile"] == [UK_CORE + resource["resourceType"]]
    patient = one(bundle, "Patient", f"patient-{world.service_user.pk}")
    assert patient["identifier"] == [{"system": NHS_SYSTEM, "value": NHS_NUMBER}]
    assert {n["use"]: n["text"] for n in patient["name"]} == {
        "official": "Alex Service", "usual": "Lex"}
    assert patient["birthDate"] == world.service_user.date_of_birth.isoformat()


def test_the_care_team_names_the_coordinator_the_service_user_and_the_carers(world, record):
    bundle = bundle_of(world.coordinator, world.service_user.pk)

    (team,) = resources(bundle, "CareTeam")
    members = {p["member"]["reference"]: p["role"][0]["text"] for p in team["participant"]}
    assert members == {
        f"Practitioner/practitioner-{world.coordinator.pk}": "Care coordinator",
        f"Patient/patient-{world.service_user.pk}": "Service user",
        f"RelatedPerson/related-person-{world.carer_relationship.pk}":
            f"Carer ({world.carer_relationship.relationship})",
    }
    assert team["status"] == "active"
    carer = one(bundle, "RelatedPerson", f"related-person-{world.carer_relationship.pk}")
    assert carer["patient"]["reference"] == f"Patient/patient-{world.service_user.pk}"
    assert carer["relationship"] == [{"text": world.carer_relationship.relationship}]


def test_care_team_members_added_later_join_the_care_team(world, db):
    """The hook for care-team members: whatever the selector puts in
    `care_team_participants` becomes a CareTeam participant."""
    exported = FhirExport(
        service_user=world.service_user, whole_record=True, plans=[], consents=[],
        coordinators=[world.coordinator],
        care_team_participants=[
            CareTeamParticipant(key="member-1", name="Jo Psychiatrist", role="Psychiatrist",
                                user=world.other_coordinator, start=clock.days(-7)),
            CareTeamParticipant(key="member-2", name="Crisis team", role="Crisis team")],
    )
    bundle = bundle_build(exported, base_url="https://care.example/fhir", bundle_id="b1",
                          now=clock.START)

    validated(bundle)
    (team,) = resources(bundle, "CareTeam")
    assert team["participant"][-2:] == [
        {"id": "member-1", "role": [{"text": "Psychiatrist"}],
         "member": {"reference": f"Practitioner/practitioner-{world.other_coordinator.pk}",
                    "display": world.other_coordinator.display_name},
         "period": {"start": clock.days(-7).isoformat()}},
        {"id": "member-2", "role": [{"text": "Crisis team"}],
         "member": {"display": "Crisis team"}},
    ]
    assert one(bundle, "Practitioner", f"practitioner-{world.other_coordinator.pk}")


# --- Round trip: export, parse, compare with the database -----------------------------


def _activities(care_plan) -> dict[str, object]:
    return {activity.id: activity for activity in care_plan.activity or []}


@pytest.mark.parametrize("kind", PlanKind.values)
def test_a_round_trip_gives_back_each_kind_of_plan(world, record, kind):
    plan = Plan.objects.get(service_user=world.service_user, kind=kind)
    parsed = validated(bundle_of(world.coordinator, world.service_user.pk))
    by_id = {(e.resource.get_resource_type(), e.resource.id): e.resource for e in parsed.entry}

    care_plan = by_id[("CarePlan", f"care-plan-{plan.pk}")]
    assert care_plan.title == PlanKind(kind).label
    assert care_plan.category[0].coding[0].code == kind
    assert care_plan.intent == "plan"
    assert care_plan.subject.reference == f"Patient/patient-{world.service_user.pk}"

    items = list(PlanItem.objects.filter(plan=plan, removed_at__isnull=True))
    goals = [i for i in items if i.item_type == "goal"]
    written = [i for i in items if i.item_type != "goal" and i.body.strip()
               and i.section != "recovery_meaning"]
    activities = _activities(care_plan)
    assert set(activities) == {f"item-{i.pk}" for i in written}
    for item in written:
        detail = activities[f"item-{item.pk}"].detail
        assert (detail.code.text, detail.description, detail.code.coding[0].code) == (
            item.title, item.body, item.section)
    assert [g.reference for g in care_plan.goal or []] == [f"Goal/goal-{g.pk}" for g in goals]

    for item in goals:
        goal = by_id[("Goal", f"goal-{item.pk}")]
        agreed = services.goal_is_agreed(item)
        assert goal.lifecycleStatus == ("active" if agreed else "proposed")
        assert goal.description.text.startswith(item.title)
        assert item.body in goal.description.text
        target = item.details.get("target_on")
        assert [t.dueDate.isoformat() for t in goal.target or []] == ([target] if target else [])
        progress = list(item.progress.order_by("recorded_on", "pk"))
        assert [(n.time, n.text) for n in goal.note or []] == [
            (p.recorded_on, f"{p.rating} out of 10. {p.note}") for p in progress]

    if kind == PlanKind.CARE_PLAN:
        assert [n.text for n in care_plan.note] == [MEANING]
        assert care_plan.status == "active"  # agreed, and unchanged since
        assert care_plan.meta.versionId == str(record["version"].number)
        assert care_plan.period.start == world.service_user.episodes.get().started_on
        shared = by_id[("Goal", f"goal-{record['shared_goal'].pk}")]
        assert shared.achievementStatus.coding[0].code == "improving"  # 4, then 6
        assert shared.category[0].coding[0].code == "connectedness"
    else:
        assert care_plan.status == "draft"
        assert care_plan.note is None
    if kind == PlanKind.WRAP:
        assert care_plan.author.reference == f"Patient/patient-{world.service_user.pk}"
    if kind == PlanKind.RESPONSIBILITY_AGREEMENT:
        performers = {
            item_key: [p.reference for p in activities[f"item-{record[item_key].pk}"]
                       .detail.performer]
            for item_key in ("own_duty", "carer_duty")}
        assert performers == {
            "own_duty": [f"Patient/patient-{world.service_user.pk}"],
            "carer_duty": [f"RelatedPerson/related-person-{world.carer_relationship.pk}"]}
        progress = [p.text for p in activities[f"item-{record['own_duty'].pk}"].progress]
        assert progress == ["Positive risk supported: Using the hob again",
                            "Safety net: Smoke alarm checked weekly"]


def test_each_signed_version_has_its_provenance_with_the_signed_hash(world, record):
    version = PlanVersion.objects.get(pk=record["version"].pk)
    assert version.agreed_at is not None
    bundle = bundle_of(world.service_user_account, world.service_user.pk)
    parsed = validated(bundle)

    (provenance,) = [e.resource for e in parsed.entry
                     if e.resource.get_resource_type() == "Provenance"]
    assert provenance.target[0].reference == \
        f"CarePlan/care-plan-{record['care_plan'].pk}/_history/{version.number}"
    signed = list(version.signatures.order_by("signed_at", "pk"))
    # The JSON carries the SHA-256 each person signed, base64-encoded as R4 wants.
    (raw,) = resources(bundle, "Provenance")
    assert [(s["who"]["reference"], base64.b64decode(s["data"]).hex())
            for s in raw["signature"]] == [
        (f"Patient/patient-{world.service_user.pk}", version.content_hash),
        (f"Practitioner/practitioner-{world.coordinator.pk}", version.content_hash),
    ]
    assert [bytes(s.data).hex() for s in provenance.signature] == [version.content_hash] * 2
    assert [s.when for s in provenance.signature] == [s.signed_at for s in signed]
    assert version.recompute_hash() == version.content_hash
    assert provenance.occurredPeriod.end == version.agreed_at


def test_each_carer_has_a_consent_listing_what_is_shared_and_when(world, record):
    bundle = bundle_of(world.coordinator, world.service_user.pk)

    (consent,) = resources(bundle, "Consent")
    provision = consent["provision"]
    assert provision["type"] == "permit"
    assert provision["actor"][0]["reference"]["reference"] == \
        f"RelatedPerson/related-person-{world.carer_relationship.pk}"
    assert [(d["meaning"], d["reference"]["reference"], d["reference"].get("identifier"))
            for d in provision["data"]] == [
        ("instance", f"CarePlan/care-plan-{record['care_plan'].pk}",
         {"system": "http://127.0.0.1:8000/fhir/Id/plan-item", "value": str(record["meaning"].pk)}),
        ("instance", f"Goal/goal-{record['shared_goal'].pk}", None),
        ("instance", f"CarePlan/care-plan-{record['wrap'].pk}",
         {"system": "http://127.0.0.1:8000/fhir/Id/plan-item", "value": str(record["toolbox"].pk)}),
    ]
    # Open-ended: the section rule and the first item decision have no end date.
    assert "end" not in provision["period"]
    ends = [p["period"].get("end") for p in provision["provision"]]
    assert ends == [None, clock.days(30).isoformat(), None]
    assert dt.datetime.fromisoformat(provision["period"]["start"]) <= \
        dt.datetime.fromisoformat(provision["provision"][-1]["period"]["start"])


def test_a_carer_with_nothing_shared_is_denied_everything(world, db):
    make_plan(world, PlanKind.CARE_PLAN)
    bundle = bundle_of(world.service_user_account, world.service_user.pk)

    (consent,) = resources(bundle, "Consent")
    assert consent["policyRule"]["coding"][0]["code"] == "OPTIN"
    assert consent["provision"]["type"] == "deny"
    assert "data" not in consent["provision"]
    validated(bundle)


# --- The same access policy -----------------------------------------------------------


def test_a_carers_bundle_holds_only_what_was_shared_with_them(world, record):
    bundle = bundle_of(world.carer_account, world.service_user.pk)
    text = json.dumps(bundle)

    for words in NOT_SHARED:
        assert words not in text
    assert "Alex Service" not in text  # the name they asked to be called only
    patient = one(bundle, "Patient", f"patient-{world.service_user.pk}")
    assert patient == {"resourceType": "Patient", "id": f"patient-{world.service_user.pk}",
                       "meta": {"profile": [UK_CORE + "Patient"]},
                       "name": [{"use": "usual", "text": "Lex"}]}
    assert {r["resourceType"] for r in (e["resource"] for e in bundle["entry"])} == {
        "Patient", "RelatedPerson", "CarePlan", "Goal", "Consent"}
    assert [r["id"] for r in resources(bundle, "CarePlan")] == [
        f"care-plan-{record['care_plan'].pk}", f"care-plan-{record['wrap'].pk}"]
    care_plan = care_plan_resource(bundle, record["care_plan"])
    assert care_plan["note"] == [{"time": care_plan["note"][0]["time"], "text": MEANING}]
    assert "activity" not in care_plan  # the crisis plan was not shared
    assert [g["id"] for g in resources(bundle, "Goal")] == [f"goal-{record['shared_goal'].pk}"]
    goal = resources(bundle, "Goal")[0]
    # Progress is not shared with carers.
    assert "note" not in goal
    assert "achievementStatus" not in goal
    wrap = care_plan_resource(bundle, record["wrap"])
    assert [a["detail"]["description"] for a in wrap["activity"]] == [WRAP_WORDS]
    (person,) = resources(bundle, "RelatedPerson")
    assert person["id"] == f"related-person-{world.carer_relationship.pk}"


def test_a_carers_consent_is_the_one_the_service_user_sees_for_them(world, record):
    carers = resources(bundle_of(world.carer_account, world.service_user.pk), "Consent")
    service_users = resources(bundle_of(world.service_user_account, world.service_user.pk),
                              "Consent")

    assert carers == service_users


def test_withdrawing_a_share_takes_it_out_of_the_carers_bundle_at_once(world, record):
    consent_decide_item(item=record["shared_goal"], carer=world.carer_relationship.carer,
                        shared=False, decided_by=world.service_user_account)

    bundle = bundle_of(world.carer_account, world.service_user.pk)

    assert resources(bundle, "Goal") == []
    assert SHARED_GOAL not in json.dumps(bundle)


def test_an_expired_share_is_not_exported(world, record):
    with clock.travel_to(clock.days(31)):
        bundle = bundle_of(world.carer_account, world.service_user.pk)
    assert SHARED_GOAL not in json.dumps(bundle)
    assert MEANING in json.dumps(bundle)


@pytest.mark.parametrize("who", ["other_coordinator", "manager", "admin", "other_manager",
                                 "other_service_user_account", "other_carer_account",
                                 "no_role"])
def test_anyone_who_may_not_see_the_record_gets_a_json_404(world, record, who):
    response = export(getattr(world, who), world.service_user.pk)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"error": "not_found", "detail": "Not found."}
    missing = export(getattr(world, who), world.service_user.pk + 1000)
    assert (missing.status_code, missing.json()) == (404, response.json())


def test_a_former_carer_gets_a_404(world, record):
    world.carer_relationship.ended_on = clock.today()
    world.carer_relationship.save()

    response = export(world.carer_account, world.service_user.pk)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_signed_out_is_refused_as_json(world, record):
    response = Client().get(f"/api/v1/service-users/{world.service_user.pk}/fhir")

    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/json")


def test_the_service_user_exports_their_own_whole_record(world, record):
    bundle = bundle_of(world.service_user_account, world.service_user.pk)

    assert one(bundle, "Patient", f"patient-{world.service_user.pk}")["identifier"][0][
        "value"] == NHS_NUMBER
    assert CRISIS_WORDS in json.dumps(bundle)
    assert PROGRESS_NOTE in json.dumps(bundle)


# --- Audit ----------------------------------------------------------------------------


def test_the_coordinators_export_is_in_the_audit_trail(world, record):
    before = AccessEvent.objects.count()

    bundle_of(world.coordinator, world.service_user.pk)

    events = list(AccessEvent.objects.order_by("id")[before:])
    assert {(e.actor_id, e.action, target) for e in events for target in e.shown_targets()} == {
        (world.coordinator.pk, "api.fhir.view", f"service_user:{world.service_user.pk}"),
        *((world.coordinator.pk, "api.fhir.view", f"plan:{plan.pk}")
          for plan in (record["care_plan"], record["wrap"], record["agreement"])),
    }
    assert {e.basis for e in events} == {"allocated care coordinator"}


def test_a_carers_export_records_each_shared_item_read_with_its_decision(world, record):
    before = AccessEvent.objects.count()

    bundle_of(world.carer_account, world.service_user.pk)

    (event,) = AccessEvent.objects.order_by("id")[before:]  # one event for one export
    assert set(event.shown_targets()) == {
        f"plan_item:{record[key].pk}" for key in ("meaning", "shared_goal", "toolbox")}
    assert event.action == "carer_item.view"
    assert all("consent decision" in basis for _, basis in event.items)


def test_reading_ones_own_record_is_not_an_access_event(world, record):
    before = AccessEvent.objects.count()

    bundle_of(world.service_user_account, world.service_user.pk)

    assert AccessEvent.objects.count() == before


# --- Queries do not grow with the record ----------------------------------------------


def _grow(world, plan: Plan, n: int) -> None:
    carer = world.carer_relationship.carer
    for number in range(n):
        goal = add_goal(plan, world.coordinator, f"Goal {number}")
        services.progress_record(item=goal, recorded_by=world.coordinator,
                                 recorded_on=clock.today(), rating=number % 10, note="Note")
        consent_decide_item(item=goal, carer=carer, shared=True,
                            decided_by=world.service_user_account)
        item = add_item(plan, "risk", world.coordinator, f"Risk {number}", body="Words")
        consent_decide_item(item=item, carer=carer, shared=True,
                            decided_by=world.service_user_account)
    version = propose(plan, world.coordinator)
    sign(version, world.service_user_account)


def _queries(user, service_user_id: int) -> int:
    """The export request's queries alone: signing in (two steps for staff) is not part
    of it, and the first sign-in caches the user's roles on the object."""
    client = client_for(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/service-users/{service_user_id}/fhir",
                              headers={"Accept": FHIR_JSON})
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["coordinator", "carer_account"])
def test_the_number_of_queries_stays_flat_as_the_record_grows(world, record, who):
    user = getattr(world, who)
    _grow(world, record["care_plan"], 1)
    small = _queries(user, world.service_user.pk)

    _grow(world, record["care_plan"], 6)
    large = _queries(user, world.service_user.pk)

    assert len(resources(bundle_of(user, world.service_user.pk), "Goal")) >= 8
    assert large == small


@pytest.mark.parametrize("who", ["coordinator", "carer_account"])
def test_the_builder_reads_nothing_itself(world, record, who):
    """All reading (and so every access decision) is the selector's: the builder makes
    the bundle from what it was given, without a single query."""
    exported = fhir_export_open(viewer=getattr(world, who), service_user_id=world.service_user.pk)

    with CaptureQueriesContext(connection) as captured:
        bundle = bundle_build(exported, base_url="https://care.example/fhir", bundle_id="b1",
                              now=clock.START)

    assert len(captured) == 0, [q["sql"] for q in captured]
    assert len(resources(bundle, "CarePlan")) >= 2
