from django.urls import path

from . import import_views, views

app_name = "places"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("<int:place_id>/", views.browse, name="place"),
    # 一户一档 and 一网格一册
    path("household/<int:household_id>/", views.household, name="household"),
    path("person/<int:person_id>/reveal/", views.reveal_person, name="reveal_person"),
    path("grid/<int:grid_id>/book/", views.grid_book, name="grid_book"),
    # Excel in and out (一户一档 spreadsheets villages already keep)
    path("import/template.xlsx", import_views.template, name="import_template"),
    path("<int:place_id>/import/", import_views.import_households, name="import"),
    path("<int:place_id>/export.xlsx", import_views.export_households, name="export"),
]
