from django.urls import path

from . import views

app_name = "handling"
urlpatterns = [
    path("matter/<int:pk>/", views.matter_handling, name="matter"),
    path("matter/<int:pk>/assign/", views.assign, name="assign"),
    path("matter/<int:pk>/result/", views.report_result, name="result"),
    path("matter/<int:pk>/summon/", views.summon, name="summon"),
    path("matter/<int:pk>/escalate/", views.escalate, name="escalate"),
    path("matter/<int:pk>/transfer/", views.transfer, name="transfer"),
    path("matter/<int:pk>/mediation/", views.mediation, name="mediation"),
    # 吹哨报到: a department's list, check-in and action; statistics
    path("summonses/", views.summonses, name="summonses"),
    path("summonses/stats/", views.stats, name="stats"),
    path("summons/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("summons/<int:pk>/action/", views.summons_action, name="summons_action"),
]
