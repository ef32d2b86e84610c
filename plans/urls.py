"""HTML pages for plans, under /plans/ (included from carecoord/urls.py)."""

from django.urls import path

from plans import views

urlpatterns = [
    path("service-users/<int:service_user_id>/start/<str:kind>/", views.plan_start,
         name="plan_start"),
    path("service-users/<int:service_user_id>/first-meeting/", views.first_meeting,
         name="first_meeting"),
    path("service-users/<int:service_user_id>/first-meeting/check/", views.first_meeting_check,
         name="first_meeting_check"),
    path("service-users/<int:service_user_id>/first-meeting/<str:step>/",
         views.first_meeting_step, name="first_meeting_step"),
    path("<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("<int:plan_id>/print/", views.plan_print, name="plan_print"),
    path("<int:plan_id>/sections/<str:section>/add/", views.item_add, name="item_add"),
    path("<int:plan_id>/sections/<str:section>/suggest/", views.suggestion_add,
         name="suggestion_add"),
    path("<int:plan_id>/versions/propose/", views.version_propose, name="version_propose"),
    path("<int:plan_id>/versions/<int:a>/compare/<int:b>/", views.version_diff,
         name="version_diff"),
    path("<int:plan_id>/reviews/add/", views.review_add, name="review_add"),
    path("items/<int:item_id>/edit/", views.item_edit, name="item_edit"),
    path("items/<int:item_id>/remove/", views.item_remove, name="item_remove"),
    path("items/<int:item_id>/history/", views.item_history, name="item_history"),
    path("items/<int:item_id>/agree/", views.goal_agree, name="goal_agree"),
    path("items/<int:item_id>/progress/", views.progress_add, name="progress_add"),
    path("versions/<int:version_id>/", views.version_detail, name="version_detail"),
    path("versions/<int:version_id>/pdf/", views.version_pdf_request,
         name="version_pdf_request"),
    path("reviews/<int:review_id>/listened/", views.review_answer, name="review_answer"),
    path("suggestions/<int:suggestion_id>/<str:answer>/", views.suggestion_answer,
         name="suggestion_answer"),
]
