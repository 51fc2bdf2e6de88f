"""URLs of 四议两公开, 三务公开 and the sunshine report meetings (appended to ``urls.py``)."""

from django.urls import path

from . import views_public_affairs as views

urlpatterns = [
    path("fourstep/", views.fourstep_list, name="fourstep_list"),
    path("fourstep/new/", views.fourstep_new, name="fourstep_new"),
    path("fourstep/<int:pk>/", views.fourstep_detail, name="fourstep_detail"),
    path("fourstep/<int:pk>/step/", views.fourstep_step, name="fourstep_step"),
    path("disclosures/", views.disclosures, name="disclosures"),
    path("disclosures/rhythm/", views.disclosure_rhythm, name="disclosure_rhythm"),
    path("disclosures/village/<int:village_id>/", views.disclosure_village,
         name="disclosure_village"),
    path("disclosures/village/<int:village_id>/publish/", views.disclosure_publish,
         name="disclosure_publish"),
    path("sunshine/", views.sunshine, name="sunshine"),
    path("sunshine/<int:meeting_id>/", views.sunshine_meeting, name="sunshine_meeting"),
    path("sunshine/<int:meeting_id>/questions/", views.sunshine_question,
         name="sunshine_question"),
    path("sunshine/<int:meeting_id>/items/", views.sunshine_link_item, name="sunshine_link_item"),
    path("sunshine/questions/<int:pk>/answer/", views.sunshine_answer, name="sunshine_answer"),
    path("sunshine/questions/<int:pk>/matter/", views.sunshine_to_matter,
         name="sunshine_to_matter"),
    # public, no login
    path("public/<int:village_id>/disclosures/", views.public_disclosures,
         name="public_disclosures"),
]
