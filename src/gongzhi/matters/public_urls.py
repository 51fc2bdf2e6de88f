"""Residents' pages, no account: raise a matter from a phone, track it by its code."""

from django.urls import path

from . import views

app_name = "matters_public"
urlpatterns = [
    path("", views.public_index, name="index"),
    path("say/", views.public_raise_start, name="raise_start"),
    path("<int:county_id>/say/", views.public_raise, name="raise"),
    path("<int:county_id>/places/", views.public_places, name="places"),
    path("<int:county_id>/similar/", views.public_similar, name="similar"),
    path("done/", views.public_done, name="done"),
    path("track/", views.public_track, name="track"),
    path("track/<str:code>/", views.public_track_code, name="track_code"),
    path("track/<str:code>/files/<int:file_id>/", views.public_file, name="file"),
]
