"""Notifications' permissions (registered in ``apps.py``).

- ``notifications.view_outbox``: the delivery status of outgoing messages of the county.
- ``notifications.manage``: retry a failed message; bind WeChat openids.
- ``people.change`` (the registry's) lets staff set a person's notification preferences.
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

PERMISSIONS = [
    ("notifications.view_outbox", _("查看消息发送状态"), (R.COUNTY_OFFICE, R.ADMINISTRATOR)),
    ("notifications.manage", _("重发消息、绑定微信"), (R.COUNTY_OFFICE, R.ADMINISTRATOR)),
]
