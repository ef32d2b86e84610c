from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from carecoord.administration import views as administration_views
from carecoord.careteam import views as care_team_views
from carecoord.exports import api as exports_api
from carecoord.exports import views as exports_views
from carecoord.notifications import api as notifications_api
from carecoord.notifications import views as notifications_views
from carecoord.records import api, views
from carecoord.records.forms import EmailPasswordResetForm, NewPasswordForm
from carecoord.reporting import views as reporting_views
from carecoord.todo import api as todo_api
from carecoord.twofa import views as twofa_views
from carecoord.web import api_docs, api_errors

handler404 = api_errors.not_found

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", twofa_views.SignInView.as_view(), name="login"),
    path("sign-in/code/", twofa_views.verify, name="twofa_verify"),
    path("account/", twofa_views.account, name="account"),
    path("account/two-factor/set-up/", twofa_views.setup, name="twofa_setup"),
    path("account/two-factor/recovery-codes/", twofa_views.recovery_codes,
         name="twofa_recovery_codes"),
    path("account/two-factor/remove/", twofa_views.remove, name="twofa_remove"),
    path("account/sign-out-everywhere/", twofa_views.sign_out_everywhere,
         name="sign_out_everywhere"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(form_class=EmailPasswordResetForm),
        name="password_reset",
    ),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(
        form_class=NewPasswordForm), name="password_reset_confirm"),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("service-users/new/", views.service_user_create, name="service_user_create"),
    path("service-users/<int:service_user_id>/", views.service_user_detail,
         name="service_user_detail"),
    path("service-users/<int:service_user_id>/who-has-looked/", views.record_views_list,
         name="record_views"),
    path("service-users/<int:service_user_id>/edit/", views.service_user_edit,
         name="service_user_edit"),
    path("service-users/<int:service_user_id>/episodes/<int:episode_id>/", views.episode_edit,
         name="episode_edit"),
    path("service-users/<int:service_user_id>/episodes/new/", views.episode_start,
         name="episode_start"),
    path("service-users/<int:service_user_id>/allocations/new/", views.allocation_create,
         name="allocation_create"),
    path("allocations/<int:allocation_id>/end/", views.allocation_end, name="allocation_end"),
    path("service-users/<int:service_user_id>/carers/new/", views.carer_add, name="carer_add"),
    path("carers/<int:relationship_id>/end/", views.carer_end, name="carer_end"),
    path("service-users/<int:service_user_id>/care-team/", care_team_views.care_team_manage,
         name="care_team_manage"),
    path("care-team/<int:place_id>/end/", care_team_views.care_team_end, name="care_team_end"),
    path("emergency-access/", care_team_views.break_glass, name="break_glass"),
    path("carers/<int:relationship_id>/answer/", views.carer_offer_answer,
         name="carer_offer_answer"),
    path("service-users/<int:service_user_id>/invite/", views.invitation_send_service_user,
         name="invitation_send_service_user"),
    path("carers/<int:relationship_id>/invite/", views.invitation_send_carer,
         name="invitation_send_carer"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("teams/<int:team_id>/", views.team_detail, name="team_detail"),
    path("teams/<int:team_id>/reports/", reporting_views.report_index, name="report_index"),
    path("teams/<int:team_id>/reports/<slug:report>/", reporting_views.report_detail,
         name="report_detail"),
    path("teams/<int:team_id>/reports/<slug:report>/csv/", reporting_views.report_csv,
         name="report_csv"),
    path("teams/<int:team_id>/reports/<slug:report>/pdf/", reporting_views.report_pdf,
         name="report_pdf"),
    path("teams/<int:team_id>/duplicates/<int:duplicate_id>/checked/",
         views.possible_duplicate_resolve, name="possible_duplicate_resolve"),
    path("teams/<int:team_id>/settings/", views.team_settings, name="team_settings"),
    path("files/", exports_views.export_list, name="export_list"),
    path("files/<int:export_id>/retry/", exports_views.export_retry, name="export_retry"),
    path("files/<int:export_id>/download/", exports_views.export_download,
         name="export_download"),
    path("notifications/", notifications_views.notifications, name="notifications"),
    path("plans/", include("plans.urls")),
    path("carers/", include("carers.urls")),
    path("consent/", include("consent.urls")),
    path("support/", include("peersupport.urls")),
    path("profile/api-tokens/", include("carecoord.apitokens.urls")),
    path("api/schema/", api_docs.schema_view, name="api_schema"),
    path("api/docs/", api_docs.docs_view, name="api_docs"),
    path("api/v1/", include(api.urlpatterns)),
    path("api/v1/", include(todo_api.urlpatterns)),
    path("api/v1/", include(notifications_api.urlpatterns)),
    path("api/v1/", include(exports_api.urlpatterns)),
    path("api/v1/", include("peersupport.api")),
    path("api/v1/", include("plans.api.urls")),
    path("api/v1/", include("consent.api")),
    path("api/v1/", include("carers.api")),
    path("api/v1/", include("carecoord.fhir.api")),
    path("api/v1/", include("carecoord.careteam.api")),
    path("administration/", include("carecoord.administration.urls")),
    path("staff-invitation/<uidb64>/<token>/",
         administration_views.StaffInvitationAcceptView.as_view(),
         name="staff_invitation_accept"),
    path("admin/", admin.site.urls),
]
