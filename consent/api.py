"""JSON API for consent: the history of decisions and the current section rules of one
service user, for them and their allocated care coordinator, who may also record a
decision on their behalf (with the basis, which the service user sees).

Same policy as the pages: a record, carer, plan or item the caller may not decide
consent for is "not found" (404 in the path, 400 with the field named in the body).
A decision the consent services refuse is 400 with their message.
"""

from __future__ import annotations

from django.db.models import prefetch_related_objects
from django.http import Http404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.records import selectors as record_selectors
from carecoord.records.selectors import OpenedRecord
from carecoord.web import date_bounds
from carecoord.web.api_errors import validated_input
from carecoord.web.api_lists import PAGE_PARAMETERS, page_of, paginated
from carecoord.web.api_views import api_view
from carers.models import CarerRelationship
from consent import policy, selectors, services
from consent.models import ConsentDecision
from plans.models import Plan, PlanItem
from plans.sections import sections_for

MAX_ID = 2**63 - 1
MAX_TEXT = 2000


class ConsentApi(APIView):

    def record(self, request: Request, service_user_id: int, surface: str) -> OpenedRecord:
        record = record_selectors.service_user_open(
            viewer=request.user, service_user_id=service_user_id, surface=surface
        )
        if not policy.can_decide_consent(request.user, record.service_user):
            raise NotFound
        return record

    def writable_record(self, request: Request, service_user_id: int,
                        surface: str) -> OpenedRecord:
        record = self.record(request, service_user_id, surface)
        if not policy.can_change_consent_by_api(request.user, record.service_user):
            raise PermissionDenied("Only the service user changes consent through the API. "
                                   "A care coordinator records a decision on their behalf "
                                   "on the consent page, with the basis for it.")
        return record


def _refused(error: services.ConsentError) -> Response:
    return Response({"error": "consent", "detail": str(error)},
                    status=status.HTTP_400_BAD_REQUEST)


# --- Output ---------------------------------------------------------------------------


def _relationship_ids(relationships: list[CarerRelationship]) -> dict[int, int]:
    return {r.carer_id: r.pk for r in relationships}


class DecisionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    carer = serializers.SerializerMethodField()
    carer_relationship = serializers.SerializerMethodField()
    plan = serializers.IntegerField(source="plan_id")
    plan_kind = serializers.CharField(source="plan.kind")
    section = serializers.CharField()
    item = serializers.SerializerMethodField()
    whole_section = serializers.BooleanField(source="is_section_rule")
    shared = serializers.BooleanField()
    expires_on = serializers.DateField(allow_null=True)
    include_progress_notes = serializers.BooleanField()
    note = serializers.CharField()
    decided_at = serializers.DateTimeField()
    decided_by = serializers.CharField(source="decided_by.display_name")
    decided_as = serializers.CharField()
    basis = serializers.CharField()

    @extend_schema_field(inline_serializer("DecisionCarer", {
        "id": serializers.IntegerField(), "name": serializers.CharField()}))
    def get_carer(self, decision: ConsentDecision) -> dict:
        return {"id": decision.carer_id, "name": decision.carer.name}

    def get_carer_relationship(self, decision: ConsentDecision) -> int | None:
        """The carer's current relationship, or null once they are no longer linked."""
        return self.context["relationship_ids"].get(decision.carer_id)

    @extend_schema_field(inline_serializer("DecisionItem", {
        "id": serializers.IntegerField(), "title": serializers.CharField()}, allow_null=True))
    def get_item(self, decision: ConsentDecision) -> dict | None:
        if decision.item_id is None:
            return None
        return {"id": decision.item_id, "title": decision.item.title}


# --- Input ----------------------------------------------------------------------------


class DecisionInput(serializers.Serializer):
    """What every decision has; the views add what it is about."""

    carer_relationship = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    shared = serializers.BooleanField()
    expires_on = serializers.DateField(required=False, allow_null=True, default=None,
                                       validators=[date_bounds.validate_future_date])
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 max_length=MAX_TEXT)
    basis = serializers.CharField(required=False, allow_blank=True, default="",
                                  max_length=MAX_TEXT)
    include_progress_notes = serializers.BooleanField(required=False, default=False)

    def validate_carer_relationship(self, value: int) -> CarerRelationship:
        try:
            return policy.carer_of_record(self.context["viewer"], self.context["service_user"],
                                          value)
        except Http404:
            raise serializers.ValidationError("No such carer of this person.") from None


# --- Decisions ------------------------------------------------------------------------


@extend_schema(tags=["consent"])
class ConsentDecisionsApi(ConsentApi):
    class Input(DecisionInput):
        item = serializers.IntegerField(min_value=1, max_value=MAX_ID)

        def validate_item(self, value: int) -> PlanItem:
            try:
                item, _ = policy.item_for_viewer(self.context["viewer"], value)
            except Http404:
                item = None
            if item is None or item.plan.service_user_id != self.context["service_user"].pk:
                raise serializers.ValidationError("No such item in this person's plans.")
            return item

    @extend_schema(summary="Consent decisions (history)",
                   description="Every decision about what each carer may see of this "
                               "person's plans, newest first: for the service user and their "
                               "allocated care coordinator.",
                   parameters=PAGE_PARAMETERS,
                   responses={200: page_of(DecisionOutput(many=True), "DecisionPage")})
    def get(self, request: Request, service_user_id: int) -> Response:
        record = self.record(request, service_user_id, "api.consent_decisions")
        relationships = selectors.carers_of(viewer=request.user,
                                            service_user=record.service_user)
        history = selectors.consent_history(viewer=request.user,
                                            service_user=record.service_user)
        return paginated(request, history, DecisionOutput, view=self,
                         context={"relationship_ids": _relationship_ids(relationships)})

    @extend_schema(summary="Share an item with a carer, or stop sharing it",
                   description="The service user decides, item by item, what a carer sees. "
                               "Withdrawal takes effect at once.",
                   request=Input, responses={201: DecisionOutput})
    def post(self, request: Request, service_user_id: int) -> Response:
        record = self.writable_record(request, service_user_id, "api.consent_decisions")
        data = validated_input(self.Input, request, viewer=request.user,
                               service_user=record.service_user)
        relationship = data["carer_relationship"]
        try:
            decision = services.consent_decide_item(
                item=data["item"], carer=relationship.carer, shared=data["shared"],
                decided_by=request.user, basis=data["basis"],
                expires_on=data["expires_on"], note=data["note"],
                include_progress_notes=data["include_progress_notes"],
            )
        except services.ConsentError as error:
            return _refused(error)
        return Response(
            DecisionOutput(decision, context={
                "relationship_ids": {relationship.carer_id: relationship.pk}}).data,
            status=status.HTTP_201_CREATED,
        )


# --- Section rules --------------------------------------------------------------------


class RuleDecisionOutput(serializers.Serializer):
    """The decision that made a rule what it is now."""

    id = serializers.IntegerField()
    decided_at = serializers.DateTimeField()
    decided_by = serializers.CharField(source="decided_by.display_name")
    decided_as = serializers.CharField()
    basis = serializers.CharField()
    note = serializers.CharField()


class SectionRuleOutput(serializers.Serializer):
    """A current section rule: it covers the section's items now and any added later,
    except items with their own decision."""

    carer_relationship = serializers.IntegerField(source="relationship.pk")
    carer = serializers.SerializerMethodField()
    plan = serializers.IntegerField(source="plan.pk")
    plan_kind = serializers.CharField(source="plan.kind")
    section = serializers.CharField()
    section_title = serializers.CharField()
    shared = serializers.BooleanField(source="decision.shared")
    in_effect = serializers.BooleanField()
    expires_on = serializers.DateField(source="decision.expires_on", allow_null=True)
    decision = RuleDecisionOutput()

    @extend_schema_field(inline_serializer("RuleCarer", {
        "id": serializers.IntegerField(), "name": serializers.CharField()}))
    def get_carer(self, rule) -> dict:
        return {"id": rule.relationship.carer_id, "name": rule.relationship.carer.name}


class _Rule:
    def __init__(self, *, relationship: CarerRelationship, plan: Plan, section: str,
                 section_title: str, decision: ConsentDecision, today) -> None:
        self.relationship = relationship
        self.plan = plan
        self.section = section
        self.section_title = section_title
        self.decision = decision
        self.in_effect = decision.shared and (decision.expires_on is None
                                              or decision.expires_on >= today)


@extend_schema(tags=["consent"])
class ConsentSectionRulesApi(ConsentApi):
    class Input(DecisionInput):
        plan = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        section = serializers.CharField(max_length=40)

        def validate_plan(self, value: int) -> Plan:
            try:
                plan, _ = policy.plan_for_viewer(self.context["viewer"], value)
            except Http404:
                plan = None
            if plan is None or plan.service_user_id != self.context["service_user"].pk:
                raise serializers.ValidationError("No such plan of this person.")
            return plan

        def validate(self, data: dict) -> dict:
            codes = [s.code for s in sections_for(data["plan"].kind)]
            if data["section"] not in codes:
                raise serializers.ValidationError(
                    {"section": [f"A {data['plan'].get_kind_display().lower()} has these "
                                 f"sections: {', '.join(codes)}."]}
                )
            return data

    @extend_schema(summary="Section rules",
                   description="Current section rules (\"share my crisis plan with Mum\"): "
                               "they cover the section's items now and any added later.",
                   responses={200: inline_serializer("SectionRuleList",
                                                     {"results": SectionRuleOutput(many=True)})})
    def get(self, request: Request, service_user_id: int) -> Response:
        record = self.record(request, service_user_id, "api.consent_section_rules")
        relationships = selectors.carers_of(viewer=request.user,
                                            service_user=record.service_user)
        blocks = selectors.consent_matrix(viewer=request.user,
                                          service_user=record.service_user,
                                          relationships=relationships)
        today = timezone.localdate()
        rules = [
            _Rule(relationship=relationship, plan=block.plan, section=row.code,
                  section_title=row.title, decision=decision, today=today)
            for block in blocks for row in block.sections
            for relationship, decision in row.rules if decision is not None
        ]
        prefetch_related_objects([rule.decision for rule in rules], "decided_by")
        return Response({"results": SectionRuleOutput(rules, many=True).data})

    @extend_schema(summary="Set a section rule",
                   description="Share (or stop sharing) a whole section with a carer.",
                   request=Input, responses={201: SectionRuleOutput})
    def post(self, request: Request, service_user_id: int) -> Response:
        record = self.writable_record(request, service_user_id, "api.consent_section_rules")
        data = validated_input(self.Input, request, viewer=request.user,
                               service_user=record.service_user)
        relationship = data["carer_relationship"]
        plan = data["plan"]
        try:
            decision = services.consent_decide_section(
                plan=plan, section=data["section"], carer=relationship.carer,
                shared=data["shared"], decided_by=request.user, basis=data["basis"],
                expires_on=data["expires_on"], note=data["note"],
                include_progress_notes=data["include_progress_notes"],
            )
        except services.ConsentError as error:
            return _refused(error)
        title = next(s.title for s in sections_for(plan.kind) if s.code == data["section"])
        rule = _Rule(relationship=relationship, plan=plan, section=data["section"],
                     section_title=title, decision=decision, today=timezone.localdate())
        return Response(SectionRuleOutput(rule).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("service-users/<int:service_user_id>/consent/decisions/",
         api_view(ConsentDecisionsApi), name="api_consent_decisions"),
    path("service-users/<int:service_user_id>/consent/section-rules/",
         api_view(ConsentSectionRulesApi), name="api_consent_section_rules"),
]
