"""Permissions of 办 beyond the matters.* ones (matters.assign, matters.whistle live there)."""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

PERMISSIONS = [
    ("handling.escalate", _("提级上报"), (R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
                                         R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("handling.transfer", _("移交处置"), (R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
                                         R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("handling.mediate", _("说事评理与调解记录"), (R.VILLAGE_CADRE, R.VILLAGE_SECRETARY,
                                                 R.TOWN_STAFF, R.TOWN_SECRETARY,
                                                 R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("handling.check_in", _("部门报到与处置"), (R.DEPARTMENT_LIAISON,)),
    ("handling.view_stats", _("查看吹哨报到统计"), (R.VILLAGE_SECRETARY, R.TOWN_STAFF,
                                                  R.TOWN_SECRETARY, R.COUNTY_OFFICE,
                                                  R.SUPERVISOR, R.ADMINISTRATOR)),
]
