"""The plans API's URLs, included under /api/v1/ from carecoord/urls.py."""

from django.urls import path

from carecoord.web.api_views import api_view
from plans.api.goals import GoalAgreementApi, GoalProgressApi
from plans.api.items import ItemApi, PlanItemCreateApi
from plans.api.plans import PlanDetailApi, ServiceUserPlansApi
from plans.api.reviews import PlanReviewsApi
from plans.api.versions import PlanVersionsApi, VersionDetailApi, VersionSignatureApi

urlpatterns = [
    path("service-users/<int:service_user_id>/plans/", api_view(ServiceUserPlansApi),
         name="api_service_user_plans"),
    path("plans/<int:plan_id>/", api_view(PlanDetailApi), name="api_plan"),
    path("plans/<int:plan_id>/items/", api_view(PlanItemCreateApi), name="api_plan_items"),
    path("plans/<int:plan_id>/versions/", api_view(PlanVersionsApi), name="api_plan_versions"),
    path("plans/<int:plan_id>/reviews/", api_view(PlanReviewsApi), name="api_plan_reviews"),
    path("items/<int:item_id>/", api_view(ItemApi), name="api_item"),
    path("items/<int:item_id>/agreements/", api_view(GoalAgreementApi),
         name="api_item_agreements"),
    path("items/<int:item_id>/progress/", api_view(GoalProgressApi), name="api_item_progress"),
    path("versions/<int:version_id>/", api_view(VersionDetailApi), name="api_version"),
    path("versions/<int:version_id>/signatures/", api_view(VersionSignatureApi),
         name="api_version_signatures"),
]
