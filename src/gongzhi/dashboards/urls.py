from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:place_id>/", views.place, name="place"),
    path("<int:place_id>/data/", views.data, name="data"),
]
