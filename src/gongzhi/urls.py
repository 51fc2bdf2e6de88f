from django.contrib import admin
from django.urls import include, path

from gongzhi.api.urls import api
from gongzhi.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("gongzhi.accounts.urls")),
    path("notifications/", include("gongzhi.notifications.urls")),
    path("places/", include("gongzhi.places.urls")),
    path("supervision/", include("gongzhi.supervision.urls")),
    path("", include("gongzhi.evaluation.urls")),
    path("handling/", include("gongzhi.handling.urls")),
    path("settings/", include("gongzhi.matters.admin_urls")),
    path("matters/", include("gongzhi.matters.urls")),
    path("m/", include("gongzhi.matters.public_urls")),
    path("board/", include("gongzhi.board.urls")),
    path("points/", include("gongzhi.points.urls")),
    path("meetings/", include("gongzhi.meetings.urls")),
    path("assessments/", include("gongzhi.assessments.urls")),
    path("visits/", include("gongzhi.visits.urls")),
    path("dashboards/", include("gongzhi.dashboards.urls")),
    path("reports/", include("gongzhi.reports.urls")),
    path("open311/", include("gongzhi.open311.urls")),
    path("hotline/", include("gongzhi.hotline.urls")),
    path("webhooks/", include("gongzhi.webhooks.urls")),
    path("volunteers/", include("gongzhi.volunteers.urls")),
    path("cobuilding/", include("gongzhi.cobuilding.urls")),
    path("compact/", include("gongzhi.compact.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
