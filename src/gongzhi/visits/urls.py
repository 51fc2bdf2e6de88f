from django.urls import path

from . import views

app_name = "visits"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.record, name="record"),
    path("households/search/", views.household_search, name="household_search"),
    path("quota/", views.quota_standing, name="quota"),
    path("coverage/", views.coverage_page, name="coverage"),
    path("quotas/", views.quotas, name="quotas"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/matters/", views.raise_matter, name="raise_matter"),
    path("<int:pk>/photos/<int:photo_id>/", views.photo, name="photo"),
]
