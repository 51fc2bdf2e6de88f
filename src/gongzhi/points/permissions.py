"""Permissions of 积分. A role holds them where it is granted and beneath.

Residents hold ``points.view`` and ``points.declare`` at their own household: they see their
household's points, deeds and receipts, declare deeds and object to a published ranking.
Reviewing (``points.review``) is four-eyes: nobody approves a deed they recorded themselves.
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import STAFF_ROLES
from gongzhi.accounts.roles import Role as R

REVIEWERS = (R.POINTS_REVIEWER, R.VILLAGE_SECRETARY, R.ADMINISTRATOR)

PERMISSIONS = [
    ("points.view", _("查看积分"), (*STAFF_ROLES, R.POINTS_REVIEWER, R.SHOP_KEEPER, R.RESIDENT)),
    ("points.declare", _("申报积分事项"), (R.RESIDENT,)),
    ("points.record", _("记录积分事项"), (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY,
                                         R.TOWN_STAFF, R.POINTS_REVIEWER, R.ADMINISTRATOR)),
    ("points.review", _("审核积分"), REVIEWERS),
    ("points.close", _("月度结账"), REVIEWERS),
    ("points.correct", _("更正与冲销积分"), REVIEWERS),
    ("points.rules", _("维护积分细则"), (R.VILLAGE_SECRETARY, R.TOWN_SECRETARY, R.COUNTY_OFFICE,
                                       R.ADMINISTRATOR)),
    ("points.rank", _("积分排名与公示"), (R.POINTS_REVIEWER, R.VILLAGE_SECRETARY, R.TOWN_STAFF,
                                         R.TOWN_SECRETARY, R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("points.year", _("年度核算"), (R.VILLAGE_SECRETARY, R.TOWN_SECRETARY, R.ADMINISTRATOR)),
    ("points.export", _("导出积分台账"), (R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.POINTS_REVIEWER,
                                         R.TOWN_STAFF, R.TOWN_SECRETARY, R.COUNTY_OFFICE,
                                         R.SUPERVISOR, R.ADMINISTRATOR)),
    ("points.shop", _("积分超市兑换与库存"), (R.SHOP_KEEPER, R.VILLAGE_SECRETARY, R.ADMINISTRATOR)),
]
