from django.urls import path

from carers import views

urlpatterns = [
    path("people/<int:relationship_id>/", views.carer_person, name="carer_person"),
]
