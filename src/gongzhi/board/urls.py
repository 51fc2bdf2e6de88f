"""/board/: the public board per place (no login), its Atom feed, and the staff pages of lists."""

from django.urls import path

from . import views
from .feeds import PlaceFeed

app_name = "board"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:place_id>/", views.place_board, name="place"),
    path("<int:place_id>/feed.atom", PlaceFeed(), name="feed"),
    path("<int:place_id>/matters/<int:pk>/", views.board_matter, name="matter"),
    path("<int:place_id>/lists/<int:pk>/", views.board_list, name="list"),
    # staff
    path("manage/lists/", views.manage_lists, name="manage_lists"),
    path("manage/lists/new/", views.new_list, name="new_list"),
    path("manage/lists/<int:pk>/", views.manage_list, name="manage_list"),
    path("manage/lists/<int:pk>/edit/", views.edit_list, name="edit_list"),
    path("manage/lists/<int:pk>/<slug:step>/", views.list_step, name="list_step"),
    path("manage/matters/<int:pk>/publish/", views.matter_publish, name="matter_publish"),
]
