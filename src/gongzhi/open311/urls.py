from django.urls import path, re_path

from . import views

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("questions/<int:category_id>/", views.question_edit, name="question"),
    path("keys/", views.key_create, name="key_create"),
    path("keys/<int:key_id>/revoke/", views.key_revoke, name="key_revoke"),
    path("v2/", views.root, name="root"),
    re_path(r"^v2/discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^v2/services" + FMT, views.services, name="services"),
    re_path(r"^v2/services/(?P<code>[^/]+?)" + FMT, views.service_definition,
            name="service"),
    re_path(r"^v2/requests" + FMT, views.requests_, name="requests"),
    re_path(r"^v2/requests/(?P<request_id>[^/]+?)" + FMT, views.request_detail,
            name="request"),
    re_path(r"^v2/tokens/(?P<token_id>[^/]+?)" + FMT, views.token, name="token"),
    re_path(r"^v2/servicerequestupdates" + FMT, views.updates, name="updates"),
    re_path(r"^v2/(?P<rest>.*)$", views.not_found, name="not_found"),
]
