"""接诉即办's permissions and the roles that hold them by default (registered in ``apps.py``).

- ``hotline.manage``: set up the county's connection to 12345 (addresses, secrets, category
  mapping, the default place).
- ``hotline.view_log``: read the exchange log and the outbound queue (county admins).
- ``hotline.dispute``: 派单异议／退单 — ask the hotline to dispatch an order elsewhere.
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

PERMISSIONS = [
    ("hotline.manage", _("配置12345热线对接"), (R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("hotline.view_log", _("查看12345热线交互记录"), (R.COUNTY_OFFICE, R.ADMINISTRATOR,
                                                    R.SUPERVISOR)),
    ("hotline.dispute", _("对12345工单提出派单异议（退单）"),
     (R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY, R.COUNTY_OFFICE, R.ADMINISTRATOR)),
]
