"""Permissions of 晒 beyond ``matters.publish`` (approving and publishing lives there).

Drafting an honour or shame list (红黑榜) is ``board.change``; approving, publishing and
withdrawing one, and publishing or withdrawing a matter by hand, is ``matters.publish``, held
by the secretaries: the approver must not be the list's author (four eyes).
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

PERMISSIONS = [
    ("board.view", _("查看红黑榜草稿与审批"), (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY,
                                             R.TOWN_STAFF, R.TOWN_SECRETARY, R.COUNTY_OFFICE,
                                             R.SUPERVISOR, R.ADMINISTRATOR)),
    ("board.change", _("编制红黑榜"), (R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF,
                                      R.TOWN_SECRETARY, R.COUNTY_OFFICE, R.ADMINISTRATOR)),
]
