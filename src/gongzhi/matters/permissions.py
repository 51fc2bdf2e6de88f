from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

STAFF = (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
         R.COUNTY_OFFICE, R.SUPERVISOR, R.ADMINISTRATOR)

PERMISSIONS = [
    # Department liaisons are not in place-scoped view/handle: they reach exactly the matters their
    # organisation is responsible for or summoned to (Matter.extra_scope_q).
    ("matters.view", _("查看事项"), STAFF),
    ("matters.raise", _("代群众登记事项"), (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY,
                                           R.TOWN_STAFF, R.TOWN_SECRETARY, R.COUNTY_OFFICE,
                                           R.ADMINISTRATOR)),
    ("matters.handle", _("办理事项"), (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY,
                                      R.TOWN_STAFF, R.TOWN_SECRETARY, R.COUNTY_OFFICE,
                                      R.ADMINISTRATOR)),
    ("matters.assign", _("交办与批量分派"), (R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
                                           R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("matters.merge", _("合并重复事项"), (R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF,
                                         R.TOWN_SECRETARY, R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("matters.whistle", _("吹哨召集部门"), (R.VILLAGE_SECRETARY, R.TOWN_SECRETARY,
                                           R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("matters.view_reporter", _("查看投诉举报人身份"), (R.VILLAGE_SECRETARY, R.TOWN_SECRETARY,
                                                      R.COUNTY_OFFICE, R.SUPERVISOR,
                                                      R.ADMINISTRATOR)),
    ("matters.supervise", _("督办"), (R.SUPERVISOR, R.COUNTY_OFFICE, R.TOWN_SECRETARY,
                                     R.ADMINISTRATOR)),
    ("matters.evaluate", _("代评与回访"), (R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF,
                                          R.TOWN_SECRETARY, R.COUNTY_OFFICE, R.SUPERVISOR,
                                          R.ADMINISTRATOR)),
    ("matters.publish", _("审批公示与红黑榜"), (R.VILLAGE_SECRETARY, R.TOWN_SECRETARY,
                                              R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("workflows.change", _("配置流程与事项分类"), (R.COUNTY_OFFICE, R.ADMINISTRATOR)),
]
