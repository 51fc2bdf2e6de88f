"""Webhooks' permissions (registered in ``apps.py``).

- ``webhooks.view``: a county's subscriptions and their delivery log.
- ``webhooks.manage``: add, change and remove subscriptions.
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

PERMISSIONS = [
    ("webhooks.view", _("查看事件推送"), (R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("webhooks.manage", _("管理事件推送"), (R.COUNTY_OFFICE, R.ADMINISTRATOR)),
]
