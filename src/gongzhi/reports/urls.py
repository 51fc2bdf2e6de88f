from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("jobs/<int:job_id>/", views.job, name="job"),
    path("jobs/<int:job_id>/file/", views.download, name="download"),
]
