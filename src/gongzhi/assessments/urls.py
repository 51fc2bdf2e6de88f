"""/assessments/: rounds and their league tables, result sheets, indicator systems."""

from django.urls import path

from . import views

app_name = "assessments"
urlpatterns = [
    path("", views.index, name="index"),
    path("rounds/new/", views.round_new, name="round_new"),
    path("rounds/<int:pk>/", views.round_page, name="round"),
    path("rounds/<int:pk>/export.xlsx", views.round_export, name="round_export"),
    path("rounds/<int:pk>/<slug:step>/", views.round_step, name="round_step"),
    path("results/<int:pk>/", views.result_page, name="result"),
    path("results/<int:pk>/scores/<int:indicator_id>/", views.result_score, name="result_score"),
    path("results/<int:pk>/adjustments/", views.result_adjust, name="result_adjust"),
    path("adjustments/<int:pk>/<slug:decision>/", views.adjustment_decide,
         name="adjustment_decide"),
    path("systems/", views.systems, name="systems"),
    path("systems/adopt/", views.system_adopt, name="system_adopt"),
    path("systems/<int:pk>/", views.system_page, name="system"),
    path("systems/<int:pk>/edit/", views.system_edit, name="system_edit"),
]
