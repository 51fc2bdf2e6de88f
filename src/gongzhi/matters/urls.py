"""Staff pages of matters: the workbench, the lists, the three ledgers, the matter page."""

from django.urls import path

from . import views

app_name = "matters"
urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("all/", views.matter_list, name="list"),
    path("ledgers/", views.ledgers, name="ledgers"),
    # 代群众登记
    path("raise/", views.staff_raise, name="raise"),
    path("raise/<int:county_id>/places/", views.staff_places, name="places"),
    path("raise/<int:county_id>/similar/", views.staff_similar, name="similar"),
    path("people/search/", views.person_search, name="person_search"),
    path("bulk-assign/", views.bulk_assign, name="bulk_assign"),
    # the matter page and what it posts
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/transition/", views.transition, name="transition"),
    path("<int:pk>/note/", views.note, name="note"),
    path("<int:pk>/merge/", views.merge, name="merge"),
    path("<int:pk>/reporter/", views.reveal_reporter, name="reporter"),
    path("<int:pk>/files/<int:file_id>/", views.attachment, name="file"),
]
