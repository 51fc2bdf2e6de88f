import pytest

from gongzhi.core.privacy import mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize("raw, shown", [
    ("13812341234", "138****1234"),
    (" 13812341234 ", "138****1234"),
    ("0931-5551234", "093****1234"),
    ("5551234", "***1234"),
    ("1234", "****"),
    ("", ""),
    (None, ""),
])
def test_mask_phone(raw, shown):
    assert mask_phone(raw) == shown


@pytest.mark.parametrize("raw, shown", [
    ("11010519491231002X", "110105********002X"),
    ("110105491231002", "110105*****1002"),  # the old 15-digit form
    ("1234567890", "**********"),
    ("", ""),
    (None, ""),
])
def test_mask_id_number(raw, shown):
    assert mask_id_number(raw) == shown


@pytest.mark.parametrize("raw, shown", [
    ("张三", "张*"), ("欧阳娜娜", "欧***"), ("李", "李*"), ("", ""), (None, ""),
])
def test_mask_name(raw, shown):
    assert mask_name(raw) == shown
