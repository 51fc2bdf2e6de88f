"""Open311's permissions and the roles that hold them by default (registered in ``apps.py``).

- ``open311.configure``: edit the Open311 questions of the county's categories and issue or
  revoke the apps' ``api_key``s.

Reading and posting through ``/open311/v2/`` needs no account: reads are public (the board's
anonymising rules apply) and posts carry an ``api_key``.
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

PERMISSIONS = [
    ("open311.configure", _("配置 Open311 接口（补充问题与应用密钥）"),
     (R.COUNTY_OFFICE, R.ADMINISTRATOR)),
]
