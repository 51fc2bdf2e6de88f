from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:sub_id>/", views.detail, name="detail"),
    path("<int:sub_id>/delete/", views.delete, name="delete"),
    path("deliveries/<int:pk>/redeliver/", views.redeliver, name="redeliver"),
]
