"""Permissions of 考核. A role holds them where it is granted and beneath.

Computing a round is for the county office and town secretaries (and administrators); the
assessors who enter manual scores and ask for bonuses or deductions are town staff too; an
adjustment is approved by a holder of ``assessments.approve`` other than the one who asked
(four eyes). A cadre always sees their own result sheet, a department's staff their
department's (``UnitResult.extra_scope_q``), without any of these.
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

PERMISSIONS = [
    ("assessments.view", _("查看考核结果"), (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY,
                                          R.TOWN_STAFF, R.TOWN_SECRETARY, R.COUNTY_OFFICE,
                                          R.SUPERVISOR, R.ADMINISTRATOR)),
    ("assessments.systems", _("维护考核指标体系"), (R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("assessments.compute", _("建立和计算考核"), (R.COUNTY_OFFICE, R.TOWN_SECRETARY,
                                               R.ADMINISTRATOR)),
    ("assessments.score", _("录入人工评分"), (R.COUNTY_OFFICE, R.TOWN_SECRETARY, R.TOWN_STAFF,
                                            R.ADMINISTRATOR)),
    ("assessments.adjust", _("申请加减分"), (R.COUNTY_OFFICE, R.TOWN_SECRETARY, R.TOWN_STAFF,
                                          R.ADMINISTRATOR)),
    ("assessments.approve", _("审批加减分"), (R.COUNTY_OFFICE, R.TOWN_SECRETARY, R.SUPERVISOR,
                                           R.ADMINISTRATOR)),
    ("assessments.export", _("导出考核结果"), (R.COUNTY_OFFICE, R.TOWN_SECRETARY, R.TOWN_STAFF,
                                            R.SUPERVISOR, R.ADMINISTRATOR)),
]
