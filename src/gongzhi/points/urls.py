"""/points/: residents' and staff's pages, the shop, and the public ranking board."""

from django.urls import path

from . import public_views, shop_views, views

app_name = "points"
urlpatterns = [
    path("", views.index, name="index"),
    # 一日一记录
    path("declare/", views.declare, name="declare"),
    path("record/", views.record, name="record"),
    # 一月一审核
    path("claims/", views.claims, name="claims"),
    path("claims/<int:pk>/", views.claim_detail, name="claim"),
    path("claims/<int:pk>/review/", views.claim_review, name="claim_review"),
    path("claims/<int:pk>/files/<int:file_id>/", views.claim_file, name="claim_file"),
    path("months/", views.months, name="months"),
    path("months/close/", views.month_close, name="month_close"),
    # the ledger
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/", views.account_detail, name="account"),
    path("accounts/<int:pk>/correct/", views.account_correct, name="account_correct"),
    path("transactions/<int:pk>/", views.transaction_detail, name="transaction"),
    path("transactions/<int:pk>/reverse/", views.transaction_reverse,
         name="transaction_reverse"),
    # rule books and classes
    path("rules/", views.rules_index, name="rules"),
    path("rules/<int:place_id>/", views.rules_detail, name="rules_place"),
    path("rules/<int:place_id>/edit/", views.rules_edit, name="rules_edit"),
    path("rules/<int:place_id>/adopt/", views.rules_adopt, name="rules_adopt"),
    path("classes/<int:village_id>/", views.classes, name="classes"),
    # 一季一评议
    path("rankings/", views.rankings, name="rankings"),
    path("rankings/new/", views.ranking_new, name="ranking_new"),
    path("rankings/<int:pk>/", views.ranking_detail, name="ranking"),
    path("rankings/<int:pk>/<slug:step>/", views.ranking_step, name="ranking_step"),
    path("objections/<int:pk>/answer/", views.objection_answer, name="objection_answer"),
    # 一年一核算
    path("year/", views.year, name="year"),
    path("year/<int:village_id>/<int:year>/close/", views.year_close, name="year_close"),
    path("year/<int:village_id>/<int:year>/export.xlsx", views.year_export,
         name="year_export"),
    path("year/<int:village_id>/<int:year>/stars/", views.year_stars, name="year_stars"),
    # the shop
    path("shops/", shop_views.shops, name="shops"),
    path("shops/<int:pk>/", shop_views.shop_detail, name="shop"),
    path("shops/<int:pk>/goods/", shop_views.good_save, name="good_new"),
    path("shops/<int:pk>/goods/<int:good_id>/", shop_views.good_save, name="good_save"),
    path("shops/<int:pk>/goods/<int:good_id>/stock/", shop_views.good_stock,
         name="good_stock"),
    path("shops/<int:pk>/redeem/", shop_views.redeem, name="redeem"),
    path("redemptions/", shop_views.redemptions, name="redemptions"),
    path("redemptions/<int:pk>/", shop_views.receipt, name="receipt"),
    path("redemptions/<int:pk>/cancel/", shop_views.redemption_cancel,
         name="redemption_cancel"),
    # the public board (no login)
    path("public/<int:place_id>/", public_views.public_place, name="public"),
    path("public/<int:place_id>/rankings/<int:pk>/", public_views.public_ranking,
         name="public_ranking"),
    path("public/<int:place_id>/rankings/<int:pk>/object/", public_views.public_object,
         name="public_object"),
]
