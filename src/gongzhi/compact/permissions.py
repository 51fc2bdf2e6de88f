"""村规民约与群众组织: permissions and the roles that hold them (registered in ``apps.py``).

- ``compact.view``: the staff pages (amendments in progress, associations and their members,
  moral reviews with their criticisms). The published compact is public without any login.
- ``compact.manage``: register a village's first compact text, propose an amendment and put it
  on a meeting's agenda; set up associations and their members and call their meetings.
  Adopting an amendment is not a permission: only a passed vote and its resolution adopt one.
- ``compact.review``: hold a moral review round (道德评议) and record its results; proposing
  the commended for the honour list also needs ``board.change``.
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

STAFF = (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
         R.COUNTY_OFFICE, R.SUPERVISOR, R.ADMINISTRATOR)
MANAGERS = (R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY, R.COUNTY_OFFICE,
            R.ADMINISTRATOR)
REVIEWERS = (R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
             R.COUNTY_OFFICE, R.ADMINISTRATOR)

PERMISSIONS = [
    ("compact.view", _("查看村规民约修订与群众组织"), STAFF),
    ("compact.manage", _("管理村规民约修订与群众组织"), MANAGERS),
    ("compact.review", _("记录道德评议"), REVIEWERS),
]
