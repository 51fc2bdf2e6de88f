"""三共's permissions and the roles that hold them (registered in ``apps.py``).

- ``cobuilding.view``: the needs, resources and projects under the place (staff pages).
- ``cobuilding.manage``: record needs and units' resources, match a need with resources into a
  project, report progress, record contributions and complete a project.
  A department liaison or a unit's own account records its unit's resources and contributions
  (``cobuilding.unit``), on its own unit only.
The board shows public projects and their progress without any login.
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

STAFF = (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
         R.COUNTY_OFFICE, R.SUPERVISOR, R.ADMINISTRATOR, R.DEPARTMENT_LIAISON)
MANAGERS = (R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
            R.COUNTY_OFFICE, R.ADMINISTRATOR)

PERMISSIONS = [
    ("cobuilding.view", _("查看需求、资源与共建项目"), STAFF),
    ("cobuilding.manage", _("管理需求清单、资源清单与共建项目"), MANAGERS),
    ("cobuilding.unit", _("登记本单位的资源与投入"), (R.DEPARTMENT_LIAISON, *MANAGERS)),
]
