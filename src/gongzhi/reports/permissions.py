"""台账与报表's permission (registered in ``apps.py``).

- ``reports.export``: ask for ledgers and reports of the places where it is held. Each kind
  also needs the permission of the data it holds at that place (``matters.view`` for 三本账
  and the reports, ``meetings.view``, ``points.export``, ``visits.view``,
  ``matters.supervise``): see :mod:`gongzhi.reports.kinds`.
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

EXPORTERS = (R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
             R.COUNTY_OFFICE, R.SUPERVISOR, R.ADMINISTRATOR)

PERMISSIONS = [
    ("reports.export", _("导出台账与报表"), EXPORTERS),
]
