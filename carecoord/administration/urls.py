"""The administration area, mounted at /administration/ (carecoord/urls.py)."""

from django.urls import path

from carecoord.administration import views

app_name = "administration"

urlpatterns = [
    path("", views.index, name="index"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:team_id>/", views.team_edit, name="team_edit"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/invite/", views.staff_invite, name="staff_invite"),
    path("staff/<int:user_id>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:user_id>/roles/add/", views.staff_role_add, name="staff_role_add"),
    path("staff/<int:user_id>/roles/remove/", views.staff_role_remove,
         name="staff_role_remove"),
    path("staff/<int:user_id>/teams/add/", views.staff_team_place_add,
         name="staff_team_place_add"),
    path("staff/<int:user_id>/teams/remove/", views.staff_team_place_remove,
         name="staff_team_place_remove"),
    path("staff/<int:user_id>/invitation/", views.staff_invitation_resend,
         name="staff_invitation_resend"),
    path("staff/<int:user_id>/disable/", views.staff_disable, name="staff_disable"),
    path("staff/<int:user_id>/enable/", views.staff_enable, name="staff_enable"),
    path("changes/", views.change_list, name="change_list"),
]
