"""志愿服务's permissions and the roles that hold them by default (registered in ``apps.py``).

- ``volunteers.view``: teams, the menu, activities with their rosters, orders and figures
  under the place.
- ``volunteers.manage``: organise there: teams and members, the menu, activities (publish,
  show the check-in code, correct and confirm hours) and handle orders.
- ``volunteers.take_part``: sign up for activities, check in and out, join a team and order
  a service, at and around the place (a resident: their household's village and above).
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

STAFF = (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
         R.COUNTY_OFFICE, R.SUPERVISOR, R.POINTS_REVIEWER, R.ADMINISTRATOR)
ORGANISERS = (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF,
              R.TOWN_SECRETARY, R.COUNTY_OFFICE, R.ADMINISTRATOR)

PERMISSIONS = [
    ("volunteers.view", _("查看志愿服务队、活动与服务订单"), STAFF),
    ("volunteers.manage", _("组织志愿服务：队伍、服务菜单、活动与订单"), ORGANISERS),
    ("volunteers.take_part", _("报名参加志愿活动、点单"),
     (R.RESIDENT, R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF,
      R.DEPARTMENT_LIAISON)),
]
