from django.urls import path

from consent import views

urlpatterns = [
    path("service-users/<int:service_user_id>/", views.consent_overview,
         name="consent_overview"),
    path("service-users/<int:service_user_id>/carers/<int:relationship_id>/",
         views.consent_carer, name="consent_carer"),
    path("service-users/<int:service_user_id>/carers/<int:relationship_id>/reviews/",
         views.consent_review_involvement, name="consent_review_involvement"),
    path("service-users/<int:service_user_id>/carers/<int:relationship_id>/preview/",
         views.consent_preview, name="consent_preview"),
]
