"""The four rhythms over HTTP, with figures checked by hand.

高城寨村 adopts 富源's rules (year-end expiry). In the fourth quarter of 2025:

====================  =====================================  ========  ===============
household             deed                                   points    ledger
====================  =====================================  ========  ===============
张建国家 (1号, grid 1)  H01 reports a hazard (declared, photo)  +5        +5
张建国家               H02 helps settle a dispute (recorded)    +5        +5
王桂兰家 (2号, grid 2)  H03 at the sunshine meeting (recorded)   +2        +2
王桂兰家               HD1 breaks the village rules (recorded)  −5        −2 (扣完为止)
张建国家               H06 volunteers (declared)                +2        rejected
====================  =====================================  ========  ===============

So Q4: 张建国家 10 (rank 1), 王桂兰家 0 (rank 2); grid 1 average 10, grid 2 average 0. Then a
correction of +3 in the open month (today); the 2025 year close expires min(10, 13) = 10 for
张建国家, leaving 3; the shop sells one 2-point good, leaving 1; a second is refused.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from gongzhi.audit.log import verify
from gongzhi.board.models import HonourList
from gongzhi.points import ledger
from gongzhi.points.models import (
    Claim,
    ClaimStatus,
    MonthClose,
    Objection,
    RankingSnapshot,
    RankingStatus,
    Redemption,
    Transaction,
    TxnKind,
    YearClose,
)
from gongzhi.testing import login_client

from .helpers import item, photo


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def error_of(response) -> str:
    match = re.search(r'class="msg msg-error"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    return match.group(1) if match else response.content.decode()[:300]


def _claim(response) -> Claim:
    assert response.status_code == 302, error_of(response)
    return Claim.objects.order_by("-pk").first()


def test_four_rhythms_over_http(tree):
    secretary = login_client(tree.user("village_secretary"))
    reviewer = login_client(tree.user("points_reviewer"))
    resident = login_client(tree.user("resident"))
    cadre = login_client(tree.user("village_cadre"))
    keeper = login_client(tree.user("shop_keeper"))
    v, hh, hh2 = tree.village, tree.household.place, tree.household2.place

    # The village adopts 富源's rules.
    assert secretary.post(f"/points/rules/{v.pk}/adopt/", {"preset": "fuyuan"}).status_code == 302
    page = resident.get(f"/points/rules/{v.pk}/").content.decode()
    assert "富源街道乡村治理积分制管理细则" in page and "发现并及时报告安全隐患" in page

    # 一日一记录: the resident declares from a phone, with a photo; the cadre records others.
    form = resident.get("/points/declare/")
    assert form.status_code == 200 and "发现并及时报告安全隐患" in form.content.decode()
    hazard = _claim(resident.post("/points/declare/", {
        "rule": item(v, "H01").pk, "occurred_on": "2025-10-08", "occurred_time": "09:30",
        "location": "村东桥头", "reason": "桥栏松动，已报告村委会", "files": [photo()]}))
    assert (hazard.status, hazard.points, hazard.channel) == ("pending", 5, "declared")
    assert hazard.files.count() == 1
    # A deduction item is not for residents to declare; a missing photo is refused.
    response = resident.post("/points/declare/", {
        "rule": item(v, "H01").pk, "occurred_on": "2025-10-09", "location": "村口",
        "reason": "再次报告"})
    assert response.status_code == 400 and "佐证" in response.content.decode()

    dispute = _claim(cadre.post("/points/record/", {
        "household": hh.pk, "rule": item(v, "H02").pk, "occurred_on": "2025-10-20",
        "location": "张家院子", "reason": "协助调解邻里纠纷"}))
    meeting = _claim(cadre.post("/points/record/", {
        "household": hh2.pk, "rule": item(v, "H03").pk, "occurred_on": "2025-11-05",
        "location": "村委会", "reason": "阳光报告会上提出建议"}))
    breach = _claim(cadre.post("/points/record/", {
        "household": hh2.pk, "rule": item(v, "HD1").pk, "occurred_on": "2025-11-10",
        "location": "村道", "reason": "占道堆放柴草，劝导不改", "files": [photo()]}))
    volunteer = _claim(resident.post("/points/declare/", {
        "rule": item(v, "H06").pk, "occurred_on": "2025-12-01", "location": "村广场",
        "reason": "参加政策宣讲", "files": [photo()]}))

    # 一月一审核: a month with pending deeds cannot close.
    response = reviewer.post("/points/months/close/", {"village": v.pk, "month": "2025-10"},
                             follow=True)
    assert "待审核" in response.content.decode()
    assert not MonthClose.objects.exists()

    queue = reviewer.get("/points/claims/?status=pending").content.decode()
    assert "桥栏松动" in queue and "占道堆放柴草" in queue
    # Rejecting needs a reason.
    assert reviewer.post(f"/points/claims/{volunteer.pk}/review/",
                         {"decision": "reject"}).status_code == 400
    for claim in (hazard, dispute, meeting, breach):
        r = reviewer.post(f"/points/claims/{claim.pk}/review/", {"decision": "approve"})
        assert r.status_code == 302, r.content.decode()[:500]
    r = reviewer.post(f"/points/claims/{volunteer.pk}/review/",
                      {"decision": "reject", "reason": "照片不能证明参加了宣讲"})
    assert r.status_code == 302
    # Approving twice posts nothing more.
    assert reviewer.post(f"/points/claims/{hazard.pk}/review/",
                         {"decision": "approve"}).status_code == 400
    breach.refresh_from_db()
    assert (breach.status, breach.points, breach.posted_points) == ("approved", -5, -2)
    volunteer.refresh_from_db()
    assert volunteer.status == ClaimStatus.REJECTED and volunteer.transaction is None
    assert ledger.balance(ledger.household_account(hh)) == 10
    assert ledger.balance(ledger.household_account(hh2)) == 0
    assert Transaction.objects.count() == 4  # one per approved deed (the deduction: −2)

    for month in ("2025-10", "2025-11", "2025-12"):
        r = reviewer.post("/points/months/close/", {"village": v.pk, "month": month})
        assert r.status_code == 302
    assert MonthClose.objects.filter(village=v).count() == 3
    assert MonthClose.objects.get(month=date(2025, 10, 1)).earned_total == 10
    assert MonthClose.objects.get(month=date(2025, 11, 1)).earned_total == 0
    # The month is locked: no new deed for it.
    response = resident.post("/points/declare/", {
        "rule": item(v, "H01").pk, "occurred_on": "2025-11-12", "location": "村口",
        "reason": "晚报的隐患", "files": [photo()]})
    assert response.status_code == 400 and "已审核结账" in response.content.decode()

    # 一季一评议: rank households and grids, publish, object, answer, propose a 红榜.
    r = reviewer.post("/points/rankings/new/", {"place": v.pk, "year": 2025, "quarter": 4,
                                                "unit": "household"})
    assert r.status_code == 302
    snap = RankingSnapshot.objects.get(unit="household")
    assert list(snap.rows.order_by("rank").values_list("place_id", "rank", "total")) == [
        (hh.pk, 1, 10), (hh2.pk, 2, 0)]
    reviewer.post("/points/rankings/new/", {"place": v.pk, "year": 2025, "quarter": 4,
                                            "unit": "grid"})
    grids = RankingSnapshot.objects.get(unit="grid")
    assert list(grids.rows.order_by("rank").values_list("place_id", "rank", "total",
                                                        "households", "average")) == [
        (tree.grid.pk, 1, 10, 1, 10.0), (tree.grid2.pk, 2, 0, 1, 0.0)]

    assert Client().get(f"/points/public/{v.pk}/rankings/{snap.pk}/").status_code == 404
    assert reviewer.post(f"/points/rankings/{snap.pk}/publish/").status_code == 302
    snap.refresh_from_db()
    assert snap.status == RankingStatus.PUBLISHED and snap.notice_until > timezone.localdate()
    public = Client().get(f"/points/public/{v.pk}/rankings/{snap.pk}/")
    html = public.content.decode()
    assert public.status_code == 200
    assert "高城寨村1号 · 张**" in html and "高城寨村2号 · 王**" in html
    assert "张建国" not in html and "13812341234" not in html and "王桂兰" not in html
    assert "登录后提出异议" in html
    assert snap.title in Client().get(f"/points/public/{tree.county.pk}/").content.decode()
    assert f'href="/points/public/{v.pk}/"' in Client().get(f"/board/{v.pk}/").content.decode()

    r = resident.post(f"/points/public/{v.pk}/rankings/{snap.pk}/object/",
                      {"text": "我家十月还参加了宣讲，未计分。"})
    assert r.status_code == 302
    objection = Objection.objects.get()
    assert objection.household_id == hh.pk and objection.status == "open"
    # Staff may not object; the ranking cannot be final during its notice period.
    assert cadre.post(f"/points/public/{v.pk}/rankings/{snap.pk}/object/",
                      {"text": "x"}).status_code == 403
    assert reviewer.post(f"/points/rankings/{snap.pk}/finalise/").status_code == 400
    r = reviewer.post(f"/points/objections/{objection.pk}/answer/",
                      {"answer": "经核实，该次宣讲的照片不能证明参加，维持原排名。"})
    assert r.status_code == 302
    objection.refresh_from_db()
    assert objection.status == "answered"
    assert "已答复 1 条" in Client().get(
        f"/points/public/{v.pk}/rankings/{snap.pk}/").content.decode()

    r = secretary.post(f"/points/rankings/{snap.pk}/honour/", {"top": "5"})
    assert r.status_code == 302
    hl = HonourList.objects.get()
    assert hl.status == "draft" and hl.kind == "red"
    assert [(e.name, e.reason) for e in hl.entries.all()] == [
        ("高城寨村1号 · 张**", "第4季度积分 10 分，排名第 1。")]

    # A later fix is a correcting entry in the open month, naming the original.
    dispute.refresh_from_db()
    account = ledger.household_account(hh)
    form = reviewer.get(f"/points/accounts/{account.pk}/").content.decode()
    assert "记一笔更正" in form
    r = reviewer.post(f"/points/accounts/{account.pk}/correct/", {
        "amount": "3", "reason": "调解另有一次漏记", "original": dispute.transaction_id,
        "key": "fix-0001-abcdef"})
    assert r.status_code == 302
    fix = Transaction.objects.get(kind=TxnKind.CORRECTION)
    assert fix.original_id == dispute.transaction_id and fix.posted_on == timezone.localdate()
    assert ledger.balance(account) == 13

    # 一年一核算: expire under 富源's policy, then export.
    assert cadre.post(f"/points/year/{v.pk}/2025/close/").status_code == 403
    r = secretary.post(f"/points/year/{v.pk}/2025/close/")
    assert r.status_code == 302
    closed = YearClose.objects.get(village=v, year=2025)
    assert (closed.policy, closed.earned_total, closed.expired_total) == ("expire", 10, 10)
    assert ledger.balance(account) == 3  # min(10 at year end, 13 now) expired
    r = secretary.post(f"/points/year/{v.pk}/2025/close/", follow=True)
    assert "已经核算过了" in r.content.decode()
    assert Transaction.objects.filter(kind=TxnKind.EXPIRY).count() == 1

    export = secretary.get(f"/points/year/{v.pk}/2025/export.xlsx")
    assert export.status_code == 200
    wb = load_workbook(io.BytesIO(export.content))
    rows = list(wb["户积分"].iter_rows(values_only=True))
    assert rows[0][:10] == ("网格", "户", "户主", "年初余额", "全年得分", "兑换", "年末余额",
                            "年末清零", "结转下年", "星级")
    by_door = {r[1]: r for r in rows[1:]}
    assert by_door["高城寨村1号"][2:] == ("张建国", 0, 10, 0, 10, 10, 0, 0)
    assert by_door["高城寨村2号"][2:] == ("王桂兰", 0, 0, 0, 0, 0, 0, 0)
    total = next(r for r in rows if r[0] == "合计")
    assert total[4] == 10 and total[7] == 10
    grid_rows = list(wb["网格汇总"].iter_rows(values_only=True))
    assert ("第一网格", 1, 10, 10, 0, 10, 10) in grid_rows

    # The shop: one 2-point good for the 3 points left, then refused.
    assert keeper.post("/points/shops/", {"village": v.pk, "name": ""}).status_code == 302
    from gongzhi.points.models import Good, Shop

    shop = Shop.objects.get()
    assert shop.name == "积分超市"
    assert keeper.post(f"/points/shops/{shop.pk}/goods/", {
        "name": "洗衣粉", "unit": "袋", "price": "2", "is_active": "on"}).status_code == 302
    good = Good.objects.get()
    assert keeper.post(f"/points/shops/{shop.pk}/goods/{good.pk}/stock/", {
        "quantity": "5", "kind": "stock_in", "key": "stock-key-0001"}).status_code == 302
    card = tree.household.card_code
    counter = keeper.get(f"/points/shops/{shop.pk}/redeem/?card={card}").content.decode()
    assert "可用积分 <strong>3</strong>" in counter
    r = keeper.post(f"/points/shops/{shop.pk}/redeem/", {
        "card": card, "key": "sale-0001-abcdef", f"qty_{good.pk}": "1"})
    assert r.status_code == 302
    assert ledger.balance(account) == 1
    r = keeper.post(f"/points/shops/{shop.pk}/redeem/", {
        "card": card, "key": "sale-0002-abcdef", f"qty_{good.pk}": "1"})
    assert r.status_code == 400 and "积分余额不足" in r.content.decode()
    assert Redemption.objects.count() == 1

    from django.core.management import call_command

    call_command("points", "reconcile")  # exits 1 on any breach
    assert verify() == []
