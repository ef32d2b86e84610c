"""Peer support and learning, under /support/ (included from carecoord/urls.py)."""

from django.urls import path

from peersupport import views

urlpatterns = [
    path("", views.directory, name="peersupport_directory"),
    path("offers/new/", views.offer_create, name="offer_create"),
    path("offers/<int:offer_id>/", views.offer_detail, name="offer_detail"),
    path("offers/<int:offer_id>/edit/", views.offer_edit, name="offer_edit"),
    path("offers/<int:offer_id>/retire/", views.offer_retire, name="offer_retire"),
    path("offers/<int:offer_id>/reinstate/", views.offer_reinstate, name="offer_reinstate"),
    path("service-users/<int:service_user_id>/signposting/new/", views.signposting_create,
         name="signposting_create"),
    path("signposting/<int:signposting_id>/", views.signposting_edit, name="signposting_edit"),
    path("stories/", views.story_list, name="story_list"),
    path("stories/yours/", views.own_stories, name="own_stories"),
    path("stories/new/", views.story_create, name="story_create"),
    path("stories/waiting/", views.moderation_queue, name="moderation_queue"),
    path("stories/<int:story_id>/", views.story_detail, name="story_detail"),
    path("stories/<int:story_id>/edit/", views.story_edit, name="story_edit"),
    path("stories/<int:story_id>/send/", views.story_submit, name="story_submit"),
    path("stories/<int:story_id>/withdraw/", views.story_withdraw, name="story_withdraw"),
    path("stories/<int:story_id>/decide/", views.story_moderate, name="story_moderate"),
]
