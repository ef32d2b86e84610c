"""The API tokens page, under the person's profile (/profile/api-tokens/)."""

from django.urls import path

from carecoord.apitokens import views

urlpatterns = [
    path("", views.api_tokens, name="api_tokens"),
    path("confirm/", views.api_tokens_confirm, name="api_tokens_confirm"),
    path("new/", views.api_token_create, name="api_token_create"),
    path("<str:digest>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
