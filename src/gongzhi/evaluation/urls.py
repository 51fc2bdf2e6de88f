from django.urls import path

from . import views

app_name = "evaluation"
urlpatterns = [
    # The reporter's page: no login, the token is the key.
    path("e/<str:token>/", views.public, name="public"),
    path("evaluation/matters/<int:matter_id>/evaluate/", views.record_evaluation,
         name="record"),
    path("evaluation/matters/<int:matter_id>/return-visit/", views.return_visit,
         name="return_visit"),
]
