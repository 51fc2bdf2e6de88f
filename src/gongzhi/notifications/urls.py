from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/open/", views.open_notification, name="open"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("preferences/<str:token>/", views.preferences_page, name="preferences"),
    path("person/<int:person_id>/preferences/", views.person_preferences,
         name="person_preferences"),
    path("person/<int:person_id>/wechat/unbind/", views.person_wechat_unbind,
         name="person_wechat_unbind"),
    path("wechat/bind/<str:token>/", views.wechat_bind, name="wechat_bind"),
    path("wechat/callback/", views.wechat_callback, name="wechat_callback"),
    path("wechat/unbind/<str:token>/", views.wechat_unbind, name="wechat_unbind"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/retry/", views.retry, name="retry"),
]
