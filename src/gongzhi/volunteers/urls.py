from django.urls import path

from . import views

app_name = "volunteers"
urlpatterns = [
    path("", views.index, name="index"),
    path("workbench/", views.workbench, name="workbench"),
    path("activities/new/", views.new_activity, name="new_activity"),
    path("activities/<int:pk>/", views.activity, name="activity"),
    path("activities/<int:pk>/signup/", views.sign_up, name="sign_up"),
    path("activities/<int:pk>/signup/cancel/", views.cancel_sign_up, name="cancel_sign_up"),
    path("activities/<int:pk>/check/", views.check, name="check"),
    path("activities/<int:pk>/qr.svg", views.qr, name="qr"),
    path("activities/<int:pk>/<slug:name>/", views.step, name="step"),
    path("signups/<int:pk>/hours/", views.correct_hours, name="correct_hours"),
    path("teams/new/", views.new_team, name="new_team"),
    path("teams/<int:pk>/", views.team, name="team"),
    path("teams/<int:pk>/members/", views.team_member, name="team_member"),
    path("menu/new/", views.new_item, name="new_item"),
    path("menu/<int:pk>/order/", views.order_new, name="order_new"),
    path("orders/<int:pk>/", views.order, name="order"),
    path("orders/<int:pk>/<slug:name>/", views.order_step, name="order_step"),
]
