from django.urls import path

from . import inbound, views

app_name = "hotline"

urlpatterns = [
    # Staff pages
    path("", views.index, name="index"),
    path("<int:pk>/", views.edit, name="edit"),
    path("<int:pk>/rotate/", views.rotate, name="rotate"),
    path("<int:pk>/log/", views.exchange_log, name="log"),
    path("matters/<int:matter_pk>/return/", views.return_order, name="return"),
    # What the hotline calls (signed; see docs/hotline-12345.md)
    path("12345/<str:key>/orders", inbound.orders, name="orders"),
    path("12345/<str:key>/orders/<str:order_id>/urge", inbound.urge, name="urge"),
    path("12345/<str:key>/orders/<str:order_id>/withdraw", inbound.withdraw, name="withdraw"),
    path("12345/<str:key>/orders/<str:order_id>/visit", inbound.visit_result, name="visit"),
]
