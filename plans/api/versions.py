"""A plan's versions: list them, propose the next one for signature, read one (its
frozen snapshot, who must sign, who has answered), and sign or decline it."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.records.models import User
from carecoord.web import text_limits
from carecoord.web.api_errors import validated_input
from carecoord.web.api_lists import PAGE_PARAMETERS, page_of, paginated
from plans import selectors, services
from plans.api.errors import Conflict
from plans.models import Signature
from plans.selectors import OpenedVersion, VersionRow


class VersionSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField(source="version.pk")
    number = serializers.IntegerField(source="version.number")
    status = serializers.CharField()
    content_hash = serializers.CharField(source="version.content_hash")
    proposed_by = serializers.CharField(source="version.proposed_by.display_name",
                                        default=None, allow_null=True)
    proposed_at = serializers.DateTimeField(source="version.proposed_at")
    agreed_at = serializers.DateTimeField(source="version.agreed_at", allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, row: VersionRow | OpenedVersion) -> str:
        return reverse("api_version", args=[row.version.pk])


class RequiredSignerOutput(serializers.Serializer):
    role = serializers.CharField()
    carer = serializers.CharField(source="carer.full_name", default=None, allow_null=True)


class SignatureOutput(serializers.Serializer):
    signer = serializers.CharField(source="signer.display_name")
    role = serializers.CharField()
    decision = serializers.CharField()
    reason = serializers.CharField()
    content_hash = serializers.CharField()
    signed_at = serializers.DateTimeField()


class VersionOutput(VersionSummaryOutput):
    """An OpenedVersion: the frozen snapshot, who must sign and who has answered."""

    plan = serializers.IntegerField(source="version.plan_id")
    plan_kind = serializers.CharField(source="version.plan.kind")
    snapshot = serializers.JSONField(source="entries")
    required_signers = serializers.SerializerMethodField()
    signatures = serializers.SerializerMethodField()
    signer_role = serializers.CharField(allow_null=True)
    already_answered = serializers.BooleanField()
    can_sign = serializers.SerializerMethodField()

    @extend_schema_field(RequiredSignerOutput(many=True))
    def get_required_signers(self, opened: OpenedVersion) -> list:
        return RequiredSignerOutput(
            selectors.version_required_signers(version=opened.version), many=True
        ).data

    @extend_schema_field(SignatureOutput(many=True))
    def get_signatures(self, opened: OpenedVersion) -> list:
        viewer = self.context["viewer"]
        return SignatureOutput(
            selectors.version_signatures(viewer=viewer, version=opened.version), many=True
        ).data

    def get_can_sign(self, opened: OpenedVersion) -> bool:
        return opened.can_answer


def _version_response(opened: OpenedVersion, *, viewer: User,
                      status_code: int = status.HTTP_200_OK,
                      location: bool = False) -> Response:
    headers = {"Location": reverse("api_version", args=[opened.version.pk])} if location else {}
    return Response(VersionOutput(opened, context={"viewer": viewer}).data, status=status_code,
                    headers=headers)


@extend_schema(tags=["plans"])
class PlanVersionsApi(APIView):
    @extend_schema(summary="A plan's versions", parameters=PAGE_PARAMETERS,
                   responses={200: page_of(VersionSummaryOutput(many=True), "VersionPage")},
                   description="The frozen versions of the plan, newest first, and whether "
                               "each is agreed.")
    def get(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        rows = selectors.versions_for_plan(viewer=request.user, opened=opened)
        return paginated(request, rows, VersionSummaryOutput, view=self)

    @extend_schema(summary="Propose the plan for signature", request=None,
                   responses={201: VersionOutput},
                   description="Freezes the draft as a new version (with its SHA-256 content "
                               "hash) for everyone who must sign it.")
    def post(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        if not opened.can_propose:
            raise PermissionDenied("You cannot propose this plan for signature.")
        try:
            version = services.version_propose(plan=opened.plan, proposed_by=request.user)
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return _version_response(
            selectors.version_view(viewer=request.user, version=version), viewer=request.user,
            status_code=status.HTTP_201_CREATED, location=True,
        )


@extend_schema(tags=["plans"])
class VersionDetailApi(APIView):
    @extend_schema(summary="One plan version", responses={200: VersionOutput},
                   description="Its frozen snapshot (what you may see of it), who must sign "
                               "and who has answered.")
    def get(self, request: Request, version_id: int) -> Response:
        opened = selectors.version_open(viewer=request.user, version_id=version_id,
                                        surface="api.plan_version")
        return _version_response(opened, viewer=request.user)


@extend_schema(tags=["plans"])
class VersionSignatureApi(APIView):
    class Input(serializers.Serializer):
        decision = serializers.ChoiceField(choices=Signature.Decision.choices)
        password = serializers.CharField(required=False, allow_blank=True,
                                         trim_whitespace=False, max_length=1024)
        reason = serializers.CharField(required=False, allow_blank=True,
                                       max_length=text_limits.DECLINE_REASON)

        def validate(self, data: dict) -> dict:
            if data["decision"] == Signature.Decision.SIGNED and not data.get("password"):
                raise serializers.ValidationError(
                    {"password": ["Enter the password you use to sign in, to confirm it is "
                                  "you signing."]}
                )
            if data["decision"] == Signature.Decision.DECLINED and not data.get("reason"):
                raise serializers.ValidationError({"reason": ["Say why, in your own words."]})
            return data

    @extend_schema(summary="Who has signed or declined a version",
                   description="The answers given to this version so far (a reason for "
                               "declining only where you may read it).",
                   parameters=PAGE_PARAMETERS,
                   responses={200: page_of(SignatureOutput(many=True), "SignaturePage")})
    def get(self, request: Request, version_id: int) -> Response:
        opened = selectors.version_open(viewer=request.user, version_id=version_id,
                                        surface="api.plan_version")
        signatures = selectors.version_signatures(viewer=request.user, version=opened.version)
        return paginated(request, signatures, SignatureOutput, view=self)

    @extend_schema(summary="Sign or decline a version", request=Input,
                   responses={201: VersionOutput},
                   description="Sign (with your password) or decline (saying why, in your own "
                               "words) the version you were asked to sign.")
    def post(self, request: Request, version_id: int) -> Response:
        opened = selectors.version_open(viewer=request.user, version_id=version_id,
                                        surface="api.plan_version")
        if opened.signer_role is None:
            raise PermissionDenied("You are not one of the people who sign this version.")
        data = validated_input(self.Input, request)
        try:
            if data["decision"] == Signature.Decision.SIGNED:
                signature = services.version_sign(
                    version=opened.version, signer=request.user, role=opened.signer_role,
                    password=data["password"], request=request,
                )
            else:
                signature = services.version_decline(
                    version=opened.version, signer=request.user, role=opened.signer_role,
                    reason=data["reason"],
                )
        except services.SigningLockedOutError as error:
            raise Throttled(detail=str(error)) from error
        except services.WrongPasswordError as error:
            raise serializers.ValidationError({"password": [str(error)]}) from error
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        version = signature.version
        # Signing is only possible on the latest version, so it cannot be "replaced".
        answered = selectors.version_view(viewer=request.user, version=version)
        return _version_response(answered, viewer=request.user,
                                 status_code=status.HTTP_201_CREATED)
