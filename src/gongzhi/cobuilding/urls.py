from django.urls import path

from . import views

app_name = "cobuilding"
urlpatterns = [
    path("", views.index, name="index"),
    path("needs/new/", views.need_new, name="need_new"),
    path("resources/new/", views.resource_new, name="resource_new"),
    path("needs/<int:pk>/", views.need_detail, name="need"),
    path("needs/<int:pk>/match/", views.need_match, name="match"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/progress/", views.project_progress, name="progress"),
    path("projects/<int:pk>/contributions/", views.project_contribution, name="contribution"),
    path("projects/<int:pk>/complete/", views.project_complete, name="complete"),
    path("projects/<int:pk>/updates/<int:update_id>/photo/", views.update_photo, name="photo"),
    path("public/<int:place_id>/", views.public_projects, name="public"),
]
