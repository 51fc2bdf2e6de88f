"""/meetings/: the staff pages of 议事, the residents' topic pages and the public agenda.

A plain list: the 四议两公开 / 三务公开 pages (``views_public_affairs``) append their patterns.
"""

from django.urls import path

from . import views

app_name = "meetings"

urlpatterns = [
    # staff: meetings
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_new, name="new"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/freeze/", views.meeting_freeze, name="freeze"),
    path("<int:pk>/open/", views.meeting_open, name="open"),
    path("<int:pk>/close/", views.meeting_close, name="close"),
    path("<int:pk>/cancel/", views.meeting_cancel, name="cancel"),
    path("<int:pk>/agenda/add/", views.agenda_add, name="agenda_add"),
    path("<int:pk>/agenda/new/", views.agenda_new, name="agenda_new"),
    path("<int:pk>/agenda/<int:topic_id>/remove/", views.agenda_remove, name="agenda_remove"),
    path("<int:pk>/sign-in/<int:invitation_id>/", views.sign_in, name="sign_in"),
    path("<int:pk>/topics/<int:topic_id>/discussion/", views.topic_discussion,
         name="discussion"),
    path("<int:pk>/topics/<int:topic_id>/vote/", views.topic_vote, name="vote"),
    path("<int:pk>/topics/<int:topic_id>/consensus/", views.topic_consensus, name="consensus"),
    path("<int:pk>/topics/<int:topic_id>/resolution/", views.topic_resolution,
         name="resolution"),
    path("<int:pk>/resolutions/<int:resolution_id>/adopt/", views.resolution_adopt,
         name="adopt"),
    path("<int:pk>/minutes/", views.minutes_preview, name="minutes"),
    path("<int:pk>/minutes.pdf", views.minutes_download, name="minutes_pdf"),
    # topics: residents and staff
    path("topics/", views.topics, name="topics"),
    path("topics/propose/", views.topic_propose, name="propose"),
    path("topics/<int:topic_id>/second/", views.topic_second, name="second"),
    # managers
    path("members/", views.members, name="members"),
    path("members/people/", views.member_people, name="member_people"),
    path("members/add/", views.member_add, name="member_add"),
    path("members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("schedules/", views.schedules, name="schedules"),
    path("schedules/<int:schedule_id>/stop/", views.schedule_stop, name="schedule_stop"),
    path("schedules/<int:schedule_id>/generate/", views.schedule_generate,
         name="schedule_generate"),
    path("kinds/", views.kinds, name="kinds"),
    path("kinds/new/", views.kind_edit, name="kind_new"),
    path("kinds/<int:kind_id>/", views.kind_edit, name="kind_edit"),
    # public (no login)
    path("public/<int:village_id>/", views.public_village, name="public"),
    path("public/<int:village_id>/<int:pk>/", views.public_meeting, name="public_meeting"),
]

# 四议两公开, 三务公开 and the sunshine report meetings.
from .urls_public_affairs import urlpatterns as public_affairs_urlpatterns  # noqa: E402

urlpatterns += public_affairs_urlpatterns
