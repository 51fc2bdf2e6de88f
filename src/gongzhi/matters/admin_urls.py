"""The settings pages (/settings/): a county's workflow, presets, versions and categories, and
the working-day calendar."""

from django.urls import path

from . import admin_views as views

app_name = "matters_admin"
urlpatterns = [
    path("", views.index, name="index"),
    path("calendar/", views.calendar_overrides, name="calendar"),
    path("<int:county_id>/workflow/", views.workflow_overview, name="workflow"),
    path("<int:county_id>/workflow/adopt/", views.adopt, name="adopt"),
    path("<int:county_id>/workflow/edit/", views.edit, name="edit"),
    path("<int:county_id>/workflow/versions/<int:version_id>/", views.version_detail,
         name="version"),
    path("<int:county_id>/categories/", views.categories, name="categories"),
    path("<int:county_id>/categories/<int:category_id>/", views.category_update,
         name="category_update"),
]
