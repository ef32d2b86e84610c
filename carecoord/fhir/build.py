"""Build a FHIR R4 `Bundle` (type `collection`) from an export the selectors have already
filtered by the access policy (ADR 0014).

Pure: plain dicts out, no query, no clock, no access decision. What a carer's bundle
leaves out is decided by `FhirExport.whole_record` and by what the selector put in.

Resources, with the UK Core profile where one exists (Goal has none):
Patient, Practitioner, RelatedPerson, CareTeam, CarePlan (one per plan kind), Goal,
Consent (one per carer) and Provenance (one per signed version).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from carecoord.fhir.selectors import CarerConsent, FhirExport, PlanExport, Share
from carecoord.records.models import User
from carers.models import CarerRelationship
from plans.models import PlanItem, PlanVersion, Responsibility
from plans.sections import RECOVERY_DOMAINS, ItemType, PlanKind
from plans.sections import section as section_for

UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
CONSENT_SIGNATURE = "1.2.840.10065.1.12.1.7"  # "Consent Signature": agreeing to the plan
LOINC = "http://loinc.org"

# The recovery-focused plans' own items with no words yet are not exported.
RECOVERY_MEANING = "recovery_meaning"


@dataclass(frozen=True)
class Systems:
    """This service's own code systems and identifiers, under its address."""

    base: str

    @property
    def plan_kind(self) -> str:
        return f"{self.base}/CodeSystem/plan-kind"

    @property
    def plan_section(self) -> str:
        return f"{self.base}/CodeSystem/plan-section"

    @property
    def recovery_domain(self) -> str:
        return f"{self.base}/CodeSystem/recovery-domain"

    @property
    def plan_item(self) -> str:
        return f"{self.base}/Id/plan-item"


def bundle_build(export: FhirExport, *, base_url: str, bundle_id: str,
                 now: dt.datetime) -> dict:
    """The whole bundle. `base_url` is this service's FHIR base (entries' `fullUrl`s and
    its own code systems live under it)."""
    return _Builder(export, Systems(base_url.rstrip("/"))).bundle(bundle_id, now)


def patient_id(export: FhirExport) -> str:
    return f"patient-{export.service_user.pk}"


def care_plan_id(plan_pk: int) -> str:
    return f"care-plan-{plan_pk}"


def goal_id(item_pk: int) -> str:
    return f"goal-{item_pk}"


def related_person_id(relationship_pk: int) -> str:
    return f"related-person-{relationship_pk}"


def practitioner_id(user_pk: int) -> str:
    return f"practitioner-{user_pk}"


def _meta(profile: str | None) -> dict:
    return {"meta": {"profile": [UK_CORE + profile]}} if profile else {}


def _instant(value: dt.datetime) -> str:
    return value.isoformat()


def _date(value: dt.date | dt.datetime | str | None) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _clean(data: dict) -> dict:
    """Drop empty values: FHIR has no nulls, empty strings or empty lists."""
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


@dataclass
class _Builder:
    export: FhirExport
    systems: Systems
    practitioners: dict[int, User] = field(default_factory=dict)

    # --- Who is who ---------------------------------------------------------------------

    @property
    def whole(self) -> bool:
        return self.export.whole_record

    def patient_ref(self) -> dict:
        return {"reference": f"Patient/{patient_id(self.export)}",
                "display": self.export.service_user.name}

    def relationship_ref(self, relationship: CarerRelationship) -> dict:
        return {"reference": f"RelatedPerson/{related_person_id(relationship.pk)}",
                "display": relationship.carer.name}

    def person_ref(self, user: User | None) -> dict | None:
        """A reference to whoever `user` is in this record: the service user (Patient), one
        of their carers (RelatedPerson), or a professional (Practitioner, added to the
        bundle). In a carer's bundle only the service user and the carer themselves are
        named; anyone else is not referenced."""
        if user is None:
            return None
        if user.pk == self.export.service_user.user_id:
            return self.patient_ref()
        for relationship in self._relationships_newest_first():
            if relationship.carer.user_id == user.pk:
                return self.relationship_ref(relationship)
        if not self.whole:
            return None
        self.practitioners[user.pk] = user
        return {"reference": f"Practitioner/{practitioner_id(user.pk)}",
                "display": user.display_name}

    def _relationships_newest_first(self) -> list[CarerRelationship]:
        return sorted(self.export.relationships, key=lambda r: (r.is_active, r.started_on,
                                                                r.pk), reverse=True)

    # --- The bundle ---------------------------------------------------------------------

    def bundle(self, bundle_id: str, now: dt.datetime) -> dict:
        resources: list[dict] = [self.patient()]
        if self.whole:
            resources.append(self.care_team())
        for plan_export in self.export.plans:
            resources.append(self.care_plan(plan_export))
            resources += [self.goal(plan_export, item) for item in plan_export.items
                          if item.item_type == ItemType.GOAL]
        resources += [self.consent(consent) for consent in self.export.consents]
        for plan_export in self.export.plans:
            resources += [self.provenance(plan_export, version)
                          for version in plan_export.signed_versions]
        # People last: the resources above named the professionals they refer to.
        resources += [self.related_person(r) for r in self.export.relationships]
        resources += [self.practitioner(user) for user in
                      sorted(self.practitioners.values(), key=lambda u: u.pk)]
        return {
            "resourceType": "Bundle",
            "id": bundle_id,
            **_meta("Bundle"),
            "type": "collection",
            "timestamp": _instant(now),
            "entry": [
                {"fullUrl": f"{self.systems.base}/{r['resourceType']}/{r['id']}", "resource": r}
                for r in resources
            ],
        }

    # --- People -------------------------------------------------------------------------

    def patient(self) -> dict:
        service_user = self.export.service_user
        if not self.whole:
            # A carer sees the minimum: the name the service user asked to be called.
            return {"resourceType": "Patient", "id": patient_id(self.export),
                    **_meta("Patient"), "name": [{"use": "usual", "text": service_user.name}]}
        names = [{"use": "official", "text": service_user.full_name}]
        if service_user.preferred_name:
            names.append({"use": "usual", "text": service_user.preferred_name})
        telecom = []
        if service_user.phone:
            telecom.append({"system": "phone", "value": service_user.phone})
        if service_user.email:
            telecom.append({"system": "email", "value": service_user.email})
        identifier = ([{"system": NHS_NUMBER_SYSTEM, "value": service_user.nhs_number}]
                      if service_user.nhs_number else [])
        return _clean({
            "resourceType": "Patient",
            "id": patient_id(self.export),
            **_meta("Patient"),
            "identifier": identifier,
            "active": True,
            "name": names,
            "telecom": telecom,
            "birthDate": _date(service_user.date_of_birth),
            "address": [{"text": service_user.address}] if service_user.address else [],
        })

    def practitioner(self, user: User) -> dict:
        return {"resourceType": "Practitioner", "id": practitioner_id(user.pk),
                **_meta("Practitioner"), "name": [{"text": user.display_name}]}

    def related_person(self, relationship: CarerRelationship) -> dict:
        carer = relationship.carer
        names = [{"use": "official", "text": carer.full_name}]
        if carer.preferred_name:
            names.append({"use": "usual", "text": carer.preferred_name})
        return _clean({
            "resourceType": "RelatedPerson",
            "id": related_person_id(relationship.pk),
            **_meta("RelatedPerson"),
            "active": relationship.is_active,
            "patient": self.patient_ref(),
            # In the service user's own words (Mum, partner, friend).
            "relationship": [{"text": relationship.relationship}],
            "name": names,
            "period": _clean({"start": _date(relationship.started_on),
                              "end": _date(relationship.ended_on)}),
        })

    def care_team(self) -> dict:
        participants = [
            {"role": [{"text": "Care coordinator"}], "member": self.person_ref(user)}
            for user in self.export.coordinators
        ]
        participants.append({"role": [{"text": "Service user"}], "member": self.patient_ref()})
        participants += [
            {"role": [{"text": f"Carer ({r.relationship})"}], "member": self.relationship_ref(r)}
            for r in self.export.relationships if r.is_active
        ]
        # Other members of the care team (FhirExport.care_team_participants, the hook).
        for other in self.export.care_team_participants:
            reference = self.person_ref(other.user) if other.user is not None else None
            participants.append(_clean({
                "id": other.key,
                "role": [{"text": other.role}],
                "member": reference or {"display": other.name},
                "period": _clean({"start": _date(other.start), "end": _date(other.end)}),
            }))
        episode = self.export.episode
        return _clean({
            "resourceType": "CareTeam",
            "id": f"care-team-{self.export.service_user.pk}",
            **_meta("CareTeam"),
            "status": "active" if episode is not None and episode.is_open else "inactive",
            "name": f"Care team for {self.export.service_user.name}",
            "subject": self.patient_ref(),
            "period": self._episode_period(),
            "participant": participants,
        })

    def _episode_period(self) -> dict:
        episode = self.export.episode
        if episode is None:
            return {}
        return _clean({"start": _date(episode.started_on),
                       "end": _date(episode.discharged_on or episode.planned_end_on)})

    # --- Plans --------------------------------------------------------------------------

    def care_plan(self, plan_export: PlanExport) -> dict:
        plan = plan_export.plan
        kind = PlanKind(plan.kind)
        version = plan_export.current_version
        status = "active" if version is not None and version.agreed_at is not None else "draft"
        notes, activities, goals = [], [], []
        for item in plan_export.items:
            if item.item_type == ItemType.GOAL:
                goals.append({"reference": f"Goal/{goal_id(item.pk)}"})
            elif item.is_empty:
                continue
            elif item.section == RECOVERY_MEANING:
                notes.append(_clean({
                    "authorReference": self.person_ref(item.author) if self.whole else None,
                    "time": _instant(item.updated_at),
                    "text": item.body,
                }))
            else:
                activities.append(self.activity(plan.kind, item))
        resource = {
            "resourceType": "CarePlan",
            "id": care_plan_id(plan.pk),
            **_meta("CarePlan"),
            "status": status,
            "intent": "plan",
            "category": [{"coding": [{"system": self.systems.plan_kind, "code": kind.value,
                                      "display": kind.label}]}],
            "title": kind.label,
            "subject": self.patient_ref(),
            "goal": goals,
            "activity": activities,
            "note": notes,
        }
        if self.whole:
            if version is not None:
                # The live plan is still exactly this version's content.
                resource["meta"]["versionId"] = str(version.number)
            author = (self.patient_ref() if plan.kind == PlanKind.WRAP
                      else self.person_ref(plan.created_by))
            contributors: dict[str, dict] = {}
            for item in plan_export.items:
                ref = self.person_ref(item.author)
                if ref is not None:
                    contributors.setdefault(ref["reference"], ref)
            resource.update({
                "period": self._episode_period(),
                "created": _instant(plan.created_at),
                "author": author,
                "contributor": list(contributors.values()),
                "careTeam": [{"reference": f"CareTeam/care-team-{self.export.service_user.pk}"}],
            })
        return _clean(resource)

    def activity(self, kind: str, item: PlanItem) -> dict:
        plan_section = section_for(kind, item.section)
        detail = {
            "code": {"coding": [{"system": self.systems.plan_section, "code": plan_section.code,
                                 "display": plan_section.title}],
                     "text": item.title},
            "status": "unknown",  # the plans record what was agreed, not how it is going
            "description": item.body,
        }
        progress = []
        if item.item_type == ItemType.RESPONSIBILITY:
            details = item.structured()
            detail["performer"] = self.holders(getattr(item, "responsibility", None))
            if details.get("review_on"):
                detail["scheduledString"] = f"Review by {details['review_on']}"
            for key, label in (("positive_risk", "Positive risk supported"),
                               ("safety_net", "Safety net"), ("support", "Support available")):
                if details.get(key):
                    progress.append({"text": f"{label}: {details[key]}"})
        return _clean({"id": f"item-{item.pk}", "progress": progress,
                       "detail": _clean(detail)})

    def holders(self, responsibility: Responsibility | None) -> list[dict]:
        """Who holds a responsibility, as references where the person is in the bundle."""
        if responsibility is None:
            return []
        holder = responsibility.holder
        if holder == Responsibility.Holder.SERVICE_USER:
            return [self.patient_ref()]
        if holder == Responsibility.Holder.CARER:
            for relationship in self.export.relationships:
                if relationship.pk == responsibility.holder_relationship_id:
                    return [self.relationship_ref(relationship)]
            return [{"display": "A carer"}]
        if holder == Responsibility.Holder.COORDINATOR:
            if self.whole and self.export.coordinators:
                return [self.person_ref(user) for user in self.export.coordinators]
            return [{"display": "The care coordinator"}]
        return [{"display": responsibility.holder_service}]

    def goal(self, plan_export: PlanExport, item: PlanItem) -> dict:
        state = plan_export.goals[item.pk]
        details = item.details or {}
        domain = details.get("domain")
        description = f"{item.title}\n\n{item.body}" if item.body.strip() else item.title
        resource = {
            "resourceType": "Goal",
            "id": goal_id(item.pk),  # no UK Core profile for Goal: base R4
            # Agreed by the service user and a care coordinator, at its current words.
            "lifecycleStatus": "active" if state.agreed else "proposed",
            "achievementStatus": _achievement(state.progress),
            "category": ([{"coding": [{"system": self.systems.recovery_domain, "code": domain,
                                       "display": dict(RECOVERY_DOMAINS).get(domain, domain)}]}]
                         if domain else []),
            "description": {"text": description},
            "subject": self.patient_ref(),
            "startDate": _date(item.created_at),
            "target": ([{"dueDate": _date(details["target_on"])}]
                       if details.get("target_on") else []),
            "note": [
                _clean({
                    "authorReference": self.person_ref(update.recorded_by),
                    "time": _date(update.recorded_on),
                    "text": _progress_text(update.rating, update.note),
                })
                for update in state.progress
            ],
        }
        if self.whole:
            resource["expressedBy"] = self.person_ref(item.author)
        return _clean(resource)

    # --- Consent ------------------------------------------------------------------------

    def item_ref(self, plan_pk: int, item: PlanItem) -> dict:
        """A plan item as a Consent's data: a goal is a Goal; any other item is part of its
        CarePlan (an activity or its note), named by the item's identifier."""
        if item.item_type == ItemType.GOAL:
            return {"reference": f"Goal/{goal_id(item.pk)}", "display": item.title}
        return {"reference": f"CarePlan/{care_plan_id(plan_pk)}",
                "identifier": {"system": self.systems.plan_item, "value": str(item.pk)},
                "display": item.title}

    def consent(self, consent: CarerConsent) -> dict:
        relationship = consent.relationship
        shares = [share for share in self._ordered(consent.shares)
                  if share.item.item_type == ItemType.GOAL or not share.item.is_empty]
        actor = [{"role": {"coding": [{"system": PARTICIPATION_TYPE, "code": "IRCP",
                                       "display": "information recipient"}]},
                  "reference": self.relationship_ref(relationship)}]
        if shares:
            by_decision: dict[int, list[Share]] = {}
            for share in shares:
                by_decision.setdefault(share.decision.pk, []).append(share)
            decisions = sorted({s.decision.pk: s.decision for s in shares}.values(),
                               key=lambda d: (d.decided_at, d.pk))
            ends = [d.expires_on for d in decisions]
            provision = {
                "type": "permit",
                "period": _clean({
                    "start": _instant(decisions[0].decided_at),
                    # Open-ended while any decision sharing something has no end date.
                    "end": _date(max(ends)) if all(ends) else None,
                }),
                "actor": actor,
                "action": [{"coding": [{"system": CONSENT_ACTION, "code": "access"}]}],
                "data": [self._data(share) for share in shares],
                # Each decision (an item's own, or a section's rule), with its own dates.
                "provision": [
                    {"type": "permit",
                     "period": _clean({"start": _instant(decision.decided_at),
                                       "end": _date(decision.expires_on)}),
                     "data": [self._data(share) for share in by_decision[decision.pk]]}
                    for decision in decisions
                ],
            }
            date_time = _instant(decisions[-1].decided_at)
        else:
            # Not shared is the default (opt-in): nothing is permitted to this carer.
            provision = {"type": "deny", "actor": actor}
            date_time = None
        return _clean({
            "resourceType": "Consent",
            "id": f"consent-{relationship.pk}",
            **_meta("Consent"),
            "status": "active",
            "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy",
                                  "display": "Privacy Consent"}]},
            "category": [{"coding": [{"system": LOINC, "code": "59284-0",
                                      "display": "Patient Consent"}]}],
            "patient": self.patient_ref(),
            "dateTime": date_time,
            "performer": [self.patient_ref()],
            "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN",
                                       "display": "opt-in"}]},
            "provision": provision,
        })

    def _data(self, share: Share) -> dict:
        return {"meaning": "instance", "reference": self.item_ref(share.item.plan_id,
                                                                  share.item)}

    def _ordered(self, shares: list[Share]) -> list[Share]:
        """In the order of the plans' items (plan kind, section, position)."""
        position = {item.pk: n for n, item in enumerate(
            item for plan_export in self.export.plans for item in plan_export.items)}
        return sorted(shares, key=lambda s: (position.get(s.item.pk, len(position)), s.item.pk))

    # --- Signatures ---------------------------------------------------------------------

    def provenance(self, plan_export: PlanExport, version: PlanVersion) -> dict:
        kind = PlanKind(plan_export.plan.kind)
        signatures = version.signed
        agents: dict[str, dict] = {}
        signature_list = []
        for signature in signatures:
            who = self.person_ref(signature.signer) or {"display": "Someone who signed"}
            agents.setdefault(who.get("reference", who["display"]), {
                "type": {"coding": [{"system": PROVENANCE_AGENT, "code": "attester",
                                     "display": "Attester"}]},
                "who": who,
            })
            signature_list.append({
                "type": [{"system": SIGNATURE_TYPE, "code": CONSENT_SIGNATURE,
                          "display": "Consent Signature"}],
                "when": _instant(signature.signed_at),
                "who": who,
                "targetFormat": "application/json",
                # The SHA-256 of the version's canonical JSON that this person signed.
                "data": base64.b64encode(bytes.fromhex(signature.content_hash)).decode(),
            })
        return _clean({
            "resourceType": "Provenance",
            "id": f"provenance-{version.pk}",
            **_meta("Provenance"),
            "target": [{
                "reference": f"CarePlan/{care_plan_id(plan_export.plan.pk)}/_history/"
                             f"{version.number}",
                "display": f"{kind.label}, version {version.number}",
            }],
            "occurredPeriod": _clean({"start": _instant(version.proposed_at),
                                      "end": _instant(version.agreed_at)
                                      if version.agreed_at else None}),
            "recorded": _instant(signatures[-1].signed_at),
            "agent": list(agents.values()),
            "signature": signature_list,
        })


def _progress_text(rating: int, note: str) -> str:
    return f"{rating} out of 10. {note}".strip()


def _achievement(progress: list) -> dict | None:
    """From the 0–10 ratings: achieved at 10; otherwise how the last rating compares with
    the one before it. None before any progress is recorded."""
    if not progress:
        return None
    latest = progress[-1].rating
    if latest == 10:
        code, display = "achieved", "Achieved"
    elif len(progress) == 1:
        code, display = "in-progress", "In Progress"
    elif latest > progress[-2].rating:
        code, display = "improving", "Improving"
    elif latest < progress[-2].rating:
        code, display = "worsening", "Worsening"
    else:
        code, display = "no-change", "No Change"
    return {"coding": [{"system": GOAL_ACHIEVEMENT, "code": code, "display": display}]}
