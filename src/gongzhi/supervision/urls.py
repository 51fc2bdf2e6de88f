from django.urls import path

from . import views

app_name = "supervision"
urlpatterns = [
    path("", views.items, name="items"),
    path("overdue/", views.overdue, name="overdue"),
    path("items/<int:item_id>/", views.item, name="item"),
    path("items/<int:item_id>/records/", views.add_record, name="add_record"),
    path("items/<int:item_id>/close/", views.close_item, name="close"),
    path("matters/<int:matter_id>/open/", views.open_item, name="open"),
    path("bulletins/", views.bulletins, name="bulletins"),
    path("bulletins/<int:bulletin_id>/", views.bulletin, name="bulletin"),
    path("bulletins/<int:bulletin_id>/publish/", views.publish_bulletin, name="publish"),
]
