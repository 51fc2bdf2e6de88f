from django.urls import path

from . import views

app_name = "compact"
urlpatterns = [
    path("", views.index, name="index"),
    path("register/", views.register, name="register"),
    path("<int:pk>/", views.compact_detail, name="detail"),
    path("<int:pk>/amend/", views.amend, name="amend"),
    path("amendments/<int:pk>/", views.amendment_detail, name="amendment"),
    path("amendments/<int:pk>/schedule/", views.amendment_schedule, name="schedule"),
    path("amendments/<int:pk>/withdraw/", views.amendment_withdraw, name="withdraw"),
    path("associations/", views.associations, name="associations"),
    path("associations/<int:pk>/", views.association_detail, name="association"),
    path("associations/<int:pk>/members/", views.association_member_add, name="member_add"),
    path("associations/<int:pk>/meetings/", views.association_meeting, name="meeting"),
    path("associations/<int:pk>/reviews/", views.review_open, name="review_open"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
    path("reviews/<int:pk>/results/", views.review_result, name="review_result"),
    path("reviews/<int:pk>/conclude/", views.review_conclude, name="review_conclude"),
    path("reviews/<int:pk>/honour/", views.review_honour, name="review_honour"),
    # public (no login)
    path("public/<int:village_id>/", views.public_compact, name="public"),
    path("public/<int:village_id>/v<int:number>/", views.public_version, name="public_version"),
]
