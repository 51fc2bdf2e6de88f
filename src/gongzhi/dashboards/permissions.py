"""The dashboards' permission and the roles that hold it by default (registered in ``apps.py``).

- ``dashboards.view``: the dashboard of a place (and of every place beneath it) where it is
  held — the figures of ``docs/figures.md`` as charts. Secretaries, the county office,
  supervisors and administrators hold it; residents, grid workers and departments do not.
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

PERMISSIONS = [
    ("dashboards.view", _("查看数据看板"), (R.VILLAGE_SECRETARY, R.TOWN_SECRETARY,
                                           R.COUNTY_OFFICE, R.SUPERVISOR, R.ADMINISTRATOR)),
]
