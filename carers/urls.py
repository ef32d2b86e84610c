from django.urls import path

from carers import views

urlpatterns = [
    path("people/<int:relationship_id>/", views.carer_person, name="carer_person"),
    path("people/<int:relationship_id>/review-views/", views.carer_review_views,
         name="carer_review_views"),
    # The carer's own space.
    path("me/", views.carer_space, name="carer_space"),
    path("me/needs/", views.carer_needs_edit, name="carer_needs_edit"),
    path("me/check-in/", views.wellbeing_check_in, name="wellbeing_check_in"),
    path("me/check-ins/<int:check_in_id>/sharing/", views.wellbeing_check_in_share,
         name="wellbeing_check_in_share"),
    path("me/assessment/", views.assessment_request_create, name="assessment_request_create"),
    path("me/what-helps/<int:relationship_id>/", views.carer_insight_create,
         name="carer_insight_create"),
    # "What I know helps": for its author, the person it is about and their coordinator.
    path("what-helps/<int:insight_id>/", views.carer_insight, name="carer_insight"),
    # The coordinator moves a carer's assessment on, from a service user's record.
    path("for/<int:service_user_id>/assessments/<int:request_id>/offered/",
         views.assessment_request_offer, name="assessment_request_offer"),
    path("for/<int:service_user_id>/assessments/<int:request_id>/completed/",
         views.assessment_request_complete, name="assessment_request_complete"),
]
