"""大走访's permissions and the roles that hold them by default (registered in ``apps.py``).

- ``visits.view``: the visits and the household coverage under the places where it is held
  (a cadre always sees their own visits besides).
- ``visits.record``: record a visit to a household under the place, and turn what was heard
  into a matter (which also needs ``matters.raise`` there).
- ``visits.oversee``: the weekly standing of every cadre under the place (the secretary's
  page) — who is behind their quota.
- ``visits.configure``: set the weekly quota per role and place.
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

STAFF = (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
         R.COUNTY_OFFICE, R.SUPERVISOR, R.ADMINISTRATOR)
VISITORS = (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF,
            R.TOWN_SECRETARY, R.COUNTY_OFFICE, R.ADMINISTRATOR)

PERMISSIONS = [
    ("visits.view", _("查看走访记录与走访覆盖"), STAFF),
    ("visits.record", _("录入入户走访"), VISITORS),
    ("visits.oversee", _("查看干部走访任务完成情况"), (R.VILLAGE_SECRETARY, R.TOWN_SECRETARY,
                                                    R.COUNTY_OFFICE, R.SUPERVISOR,
                                                    R.ADMINISTRATOR)),
    ("visits.configure", _("设置走访任务量"), (R.TOWN_SECRETARY, R.COUNTY_OFFICE,
                                             R.ADMINISTRATOR)),
]
