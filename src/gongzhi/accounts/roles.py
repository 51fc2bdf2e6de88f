"""Roles, granted at a place, and the permissions each holds by default.

Permissions are declared by the app that owns them (``core.registry``); this table says which
roles hold the foundation's. Later apps add theirs in their own ``apps.py``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    GRID_WORKER = "grid_worker", _("网格员")
    VILLAGE_CADRE = "village_cadre", _("村（社区）两委干部")
    VILLAGE_SECRETARY = "village_secretary", _("村（社区）书记")
    TOWN_STAFF = "town_staff", _("镇（街道）工作人员")
    TOWN_SECRETARY = "town_secretary", _("镇（街道）书记")
    COUNTY_OFFICE = "county_office", _("县联系办")
    DEPARTMENT_LIAISON = "department_liaison", _("部门联络员")
    SUPERVISOR = "supervisor", _("纪检督办")
    POINTS_REVIEWER = "points_reviewer", _("积分审核员")
    SHOP_KEEPER = "shop_keeper", _("积分超市管理员")
    ADMINISTRATOR = "administrator", _("系统管理员")


R = Role
STAFF_ROLES = (
    R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
    R.COUNTY_OFFICE, R.SUPERVISOR, R.ADMINISTRATOR,
)
SECRETARY_ROLES = (R.VILLAGE_SECRETARY, R.TOWN_SECRETARY, R.COUNTY_OFFICE, R.ADMINISTRATOR)

FOUNDATION_PERMISSIONS = [
    # code, label, roles
    ("places.view", _("查看地点"), (*STAFF_ROLES, R.POINTS_REVIEWER, R.SHOP_KEEPER,
                                    R.DEPARTMENT_LIAISON, R.RESIDENT)),
    ("places.change", _("维护地点"), (R.VILLAGE_SECRETARY, R.TOWN_SECRETARY, R.ADMINISTRATOR)),
    ("people.view", _("查看户与人员"), (*STAFF_ROLES, R.POINTS_REVIEWER, R.SHOP_KEEPER,
                                        R.RESIDENT)),
    ("people.change", _("维护户与人员"), (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY,
                                          R.ADMINISTRATOR)),
    ("people.import", _("导入户与人员"), (R.VILLAGE_CADRE, R.VILLAGE_SECRETARY,
                                          R.TOWN_STAFF, R.ADMINISTRATOR)),
    ("people.export", _("导出户与人员"), (R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF,
                                          R.TOWN_SECRETARY, R.ADMINISTRATOR)),
    ("people.view_sensitive", _("查看完整电话与身份证号"),
     (R.VILLAGE_SECRETARY, R.TOWN_SECRETARY, R.ADMINISTRATOR)),
    ("organisations.view", _("查看组织"), (*STAFF_ROLES, R.DEPARTMENT_LIAISON)),
    ("organisations.change", _("维护组织"), (R.TOWN_SECRETARY, R.COUNTY_OFFICE,
                                             R.ADMINISTRATOR)),
    ("accounts.manage", _("管理账号与授权"), (R.ADMINISTRATOR,)),
    ("accounts.tokens", _("管理接口令牌"), (R.ADMINISTRATOR,)),
    ("audit.view", _("查看审计日志"), (R.ADMINISTRATOR, R.SUPERVISOR)),
]
