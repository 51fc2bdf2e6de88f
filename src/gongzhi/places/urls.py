from django.urls import path

from . import views

app_name = "places"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("<int:place_id>/", views.browse, name="place"),
]
