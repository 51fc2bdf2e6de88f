"""Builders for the points tests: rules, approved deeds, a stocked shop."""

from __future__ import annotations

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gongzhi.points import actions, ledger
from gongzhi.points.models import Account, Claim, RuleItem
from gongzhi.points.rules import current_version

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def photo(name: str = "现场.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, JPEG, content_type="image/jpeg")


def adopt(tree, preset: str = "default"):
    return actions.do_adopt_rules(tree.village, preset, acting_user=None)


def item(place, code: str) -> RuleItem:
    return current_version(place).items.get(code=code)


def deed(tree, household, code: str, day: date | None = None, *, by=None,
         account: Account | None = None) -> Claim:
    """A deed recorded by the grid's village cadre (or ``by``), pending."""
    by = by or tree.user("village_cadre")
    account = account or ledger.household_account(household)
    rule = item(account.place, code)
    return actions.do_record_deed(account, rule, occurred_on=day or timezone.localdate(),
                                  location="村委会", reason="测试", files=[photo()],
                                  acting_user=by)


def award(tree, household, code: str = "A01", day: date | None = None) -> Claim:
    """A deed recorded and approved (by the points reviewer)."""
    claim = deed(tree, household, code, day)
    return actions.do_approve_claim(claim, acting_user=tree.user("points_reviewer"))


def grant_points(tree, household, amount: int) -> None:
    """``amount`` points for ``household`` as a correction (no caps): for shop tests."""
    actions.do_post_correction(ledger.household_account(household), amount,
                               reason="期初积分", acting_user=tree.user("points_reviewer"))


def stocked_shop(tree, *, price: int = 5, stock: int = 10, name: str = "洗衣粉"):
    keeper = tree.user("shop_keeper")
    shop = actions.do_create_shop(tree.village, acting_user=keeper)
    good = actions.do_save_good(shop, name=name, price=price, acting_user=keeper)
    if stock:
        actions.do_stock_in(good, stock, acting_user=keeper)
    return shop, good
