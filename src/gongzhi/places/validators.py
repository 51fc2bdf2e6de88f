"""Validation of identity numbers and phones, with messages residents' cadres understand."""

import re

from django.utils.translation import gettext as _

from gongzhi.core.errors import ActionError

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def id_number_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def validate_id_number(value: str) -> str:
    """A mainland resident ID (GB 11643): 17 digits and a check character."""
    v = str(value).strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", v):
        raise ActionError(_("身份证号应为18位（最后一位可为X）。"))
    if id_number_check_digit(v[:17]) != v[17]:
        raise ActionError(_("身份证号 %(id)s 校验位不正确。") % {"id": v})
    return v


def validate_phone(value: str) -> str:
    v = re.sub(r"[\s]", "", str(value))
    if not _PHONE.match(v):
        raise ActionError(_("电话号码 %(phone)s 格式不正确。") % {"phone": v})
    return v
