"""The ledger's rules: month locks and corrections, caps, rule versions, the deduction floor,
reversals, append-only rows, and reconcile finding breaches."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from gongzhi.audit.models import AuditEvent
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.points import actions, ledger
from gongzhi.points.models import (
    Claim,
    ClaimStatus,
    MonthClose,
    Posting,
    RankingStatus,
    Transaction,
    TxnKind,
)
from gongzhi.points.periods import month_start
from gongzhi.points.rules import current_version, item_dict
from gongzhi.testing import login_client

from .helpers import adopt, award, deed, item, photo

TODAY = timezone.localdate


def last_month() -> date:
    return month_start(month_start(TODAY()) - timedelta(days=1))


@pytest.fixture
def rules(tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return adopt(tree)


def test_posting_into_a_closed_month_is_refused_and_fixed_by_a_correction(tree, rules):
    day = last_month() + timedelta(days=3)
    claim = award(tree, tree.household.place, "A01", day)
    account = claim.account
    reviewer = tree.user("points_reviewer")
    actions.do_close_month(tree.village, day, acting_user=reviewer)
    with pytest.raises(ActionError, match="已经结账"):
        actions.do_close_month(tree.village, day, acting_user=reviewer)
    pool = ledger.pool_account(tree.village)
    with pytest.raises(ActionError, match="已结账"):
        from django.db import transaction

        with transaction.atomic():
            ledger.lock_accounts([account.pk])
            ledger.post(kind=TxnKind.AWARD, lines=[(account, 1), (pool, -1)], memo="补记",
                        key="late-1", posted_on=day, place=account.place)
    with pytest.raises(ActionError, match="已审核结账"):
        deed(tree, tree.household.place, "A02", day)
    # Reversing the closed month's award lands today, in the open month, naming it.
    reversal = actions.do_reverse_transaction(claim.transaction, reason="误记",
                                              acting_user=reviewer)
    assert reversal.posted_on == TODAY() and reversal.original_id == claim.transaction_id
    assert ledger.balance(account) == 0
    with pytest.raises(ActionError, match="已经冲销过"):
        actions.do_reverse_transaction(claim.transaction, reason="再冲", acting_user=reviewer)
    fix = actions.do_post_correction(account, 2, reason="按实际核定", original=claim.transaction,
                                     acting_user=reviewer)
    assert fix.month == month_start(TODAY()) and ledger.balance(account) == 2
    # The closed month's figures still stand: reconcile agrees.
    assert ledger.reconcile() == []
    mc = MonthClose.objects.get()
    assert (mc.posting_count, mc.earned_total) == (2, 3)


def test_month_close_preconditions(tree, rules):
    reviewer = tree.user("points_reviewer")
    with pytest.raises(ActionError, match="已经过去"):
        actions.do_close_month(tree.village, TODAY(), acting_user=reviewer)
    day = last_month()
    deed(tree, tree.household.place, "A01", day)
    with pytest.raises(ActionError, match="待审核"):
        actions.do_close_month(tree.village, day, acting_user=reviewer)
    with pytest.raises(ActionForbidden):
        actions.do_close_month(tree.village, day, acting_user=tree.user("grid_worker"))
    with pytest.raises(ActionError, match="村（社区）"):
        actions.do_close_month(tree.town, day, acting_user=tree.user("administrator"))


def test_caps_per_period_count_pending_and_ignore_rejected(tree, rules):
    hh = tree.household.place
    day = TODAY()
    # A01: at most 4 times or 12 points a month (+3 each).
    claims = [deed(tree, hh, "A01", day) for _ in range(4)]
    with pytest.raises(ActionError, match="最多记 4 次"):
        deed(tree, hh, "A01", day)
    actions.do_reject_claim(claims[0], reason="重复", acting_user=tree.user("points_reviewer"))
    fifth = deed(tree, hh, "A01", day)  # the rejected one no longer counts
    assert fifth.status == ClaimStatus.PENDING
    # Another month is another period.
    deed(tree, hh, "A01", last_month())
    # At approval only approved deeds count, checked under the lock.
    for c in [*claims[1:], fifth]:
        actions.do_approve_claim(c, acting_user=tree.user("points_reviewer"))
    assert ledger.balance(ledger.household_account(hh)) == 12


def test_cap_by_points_and_by_quarter(tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    adopt(tree, "fuyuan")
    hh = tree.household.place
    # H03: twice a quarter.
    start = date(TODAY().year, 3 * ((TODAY().month - 1) // 3) + 1, 1)
    deed(tree, hh, "H03", start)
    deed(tree, hh, "H03", TODAY())
    with pytest.raises(ActionError, match="每季度最多记 2 次"):
        deed(tree, hh, "H03", TODAY())
    # H06: +2 each, at most 4 times and 8 points a month; 8 points reached after four.
    for _ in range(4):
        deed(tree, hh, "H06", TODAY())
    with pytest.raises(ActionError, match="最多记 4 次"):
        deed(tree, hh, "H06", TODAY())


def test_rule_versions_keep_old_deeds_and_are_audited(tree, rules):
    hh = tree.household.place
    old = deed(tree, hh, "A01")
    book = rules
    items = [item_dict(i) for i in current_version(tree.village).items.all()]
    for i in items:
        if i["code"] == "A01":
            i["points"] = 4
    version = actions.do_save_rules(book, items=items, note="提高志愿服务分值",
                                    acting_user=tree.user("village_secretary"))
    assert version.number == 2
    with pytest.raises(ActionError, match="没有改动"):
        actions.do_save_rules(book, items=items, acting_user=tree.user("village_secretary"))
    event = AuditEvent.objects.filter(action="points.rules.version").get()
    assert [i["points"] for i in event.before["items"] if i["code"] == "A01"] == [3]
    assert [i["points"] for i in event.after["items"] if i["code"] == "A01"] == [4]
    # The pending deed keeps version 1 and its 3 points; a v1 item is no longer offered.
    claim = actions.do_approve_claim(old, acting_user=tree.user("points_reviewer"))
    assert claim.posted_points == 3 and claim.rule.version.number == 1
    with pytest.raises(ActionError, match="已修订"):
        actions.do_record_deed(claim.account, old.rule, occurred_on=TODAY(), location="村",
                               reason="x", files=[photo()], acting_user=tree.user("village_cadre"))
    new = deed(tree, hh, "A01")
    assert new.points == 4 and new.rule.version.number == 2
    # The same cap spans both versions (by item code): 3 approved + 4 pending + 4 = 11 of 12.
    deed(tree, hh, "A01")
    with pytest.raises(ActionError, match="最多记 12 分，本期已记（含待审核）11 分"):
        deed(tree, hh, "A01")
    with pytest.raises(ActionForbidden):
        actions.do_save_rules(book, items=items, acting_user=tree.user("village_cadre"))


def test_rules_edit_page_saves_a_new_version(tree, rules):
    secretary = login_client(tree.user("village_secretary"))
    url = f"/points/rules/{tree.village.pk}/edit/"
    page = secretary.get(url)
    assert page.status_code == 200 and "参加志愿服务或村级公益劳动" in page.content.decode()
    version = current_version(tree.village)
    data = {"year_end": "expire", "notice_days": "10", "public_label": "door",
            "shop_name": "爱心超市", "stars": "1:10, 2:30", "note": "改为年末清零",
            "classes": "household|农户|household"}
    items = list(version.items.all())
    data.update({"items-TOTAL_FORMS": str(len(items) + 1), "items-INITIAL_FORMS": str(len(items)),
                 "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "300"})
    for n, i in enumerate(items):
        d = item_dict(i)
        data.update({f"items-{n}-code": d["code"], f"items-{n}-klass": d["klass"],
                     f"items-{n}-category": d["category"],
                     f"items-{n}-description": d["description"],
                     f"items-{n}-points": str(d["points"]),
                     f"items-{n}-cap_period": d["cap"]["period"],
                     f"items-{n}-cap_count": d["cap"]["count"] or "",
                     f"items-{n}-cap_points": d["cap"]["points"] or ""})
        data[f"items-{n}-recorders"] = d["recorders"]
        if d["evidence"]:
            data[f"items-{n}-evidence"] = "on"
    data[f"items-{len(items) - 1}-remove"] = "on"
    n = len(items)
    data.update({f"items-{n}-code": "N01", f"items-{n}-klass": "household",
                 f"items-{n}-category": "文明新风", f"items-{n}-description": "参加读书会",
                 f"items-{n}-points": "1", f"items-{n}-recorders": ["resident", "grid_worker"]})
    response = secretary.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    new = current_version(tree.village)
    assert new.number == 2 and new.policy["year_end"] == "expire"
    assert new.policy["stars"] == [{"stars": 1, "min": 10}, {"stars": 2, "min": 30}]
    codes = list(new.items.values_list("code", flat=True))
    assert "N01" in codes and items[-1].code not in codes and len(codes) == len(items)
    # A resident declaring a deduction item is refused when saving.
    data[f"items-{n}-points"] = "-1"
    response = secretary.post(url, data)
    assert response.status_code == 400 and "扣分项" in response.content.decode()
    assert login_client(tree.user("village_cadre")).get(url).status_code == 403


def test_deductions_stop_at_zero(tree, rules):
    hh = tree.household.place
    award(tree, hh, "A01")  # +3
    claim = actions.do_approve_claim(deed(tree, hh, "D01"),
                                     acting_user=tree.user("points_reviewer"))
    assert (claim.points, claim.posted_points) == (-3, -3)
    claim = actions.do_approve_claim(deed(tree, hh, "D02"),
                                     acting_user=tree.user("points_reviewer"))
    assert (claim.points, claim.posted_points, claim.transaction) == (-10, 0, None)
    assert ledger.balance(claim.account) == 0
    assert ledger.reconcile() == []


def test_reversing_spent_points_is_refused(tree, rules):
    from .helpers import stocked_shop

    claim = award(tree, tree.household.place, "A01")  # +3
    shop, good = stocked_shop(tree, price=3)
    actions.do_redeem(shop, card_code=tree.household.card_code, lines=[(good.pk, 1)],
                      key="spend-all-0001", acting_user=tree.user("shop_keeper"))
    with pytest.raises(ActionError, match="余额不足"):
        actions.do_reverse_transaction(claim.transaction, reason="误记",
                                       acting_user=tree.user("points_reviewer"))
    with pytest.raises(ActionError, match="兑换凭证"):
        actions.do_reverse_transaction(Transaction.objects.get(kind=TxnKind.REDEMPTION),
                                       reason="x", acting_user=tree.user("points_reviewer"))


def test_four_eyes_and_scope(tree, rules):
    reviewer = tree.user("points_reviewer")
    own = deed(tree, tree.household.place, "A01", by=reviewer)
    with pytest.raises(ActionForbidden, match="自己"):
        actions.do_approve_claim(own, acting_user=reviewer)
    actions.do_approve_claim(own, acting_user=tree.user("village_secretary"))
    with pytest.raises(ActionForbidden):
        deed(tree, tree.household.place, "A05", by=tree.user("grid_worker"))  # not a recorder


def test_ledger_rows_are_append_only(tree, rules):
    claim = award(tree, tree.household.place, "A01")
    posting = Posting.objects.filter(transaction=claim.transaction).first()
    posting.amount = 100
    with pytest.raises(RuntimeError, match="append-only"):
        posting.save()
    with pytest.raises(RuntimeError, match="append-only"):
        claim.transaction.delete()
    if connection.vendor == "postgresql":
        from django.db import DatabaseError, transaction

        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            Posting.objects.filter(pk=posting.pk).update(amount=100)


def _tamper(sql: str, params) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # the database itself refuses; switch it off
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE points_posting DISABLE TRIGGER points_posting_append_only")
        cursor.execute(sql, params)


def test_reconcile_reports_breaches_and_the_command_fails(tree, rules, capsys):
    day = last_month()
    claim = award(tree, tree.household.place, "A01", day)
    actions.do_close_month(tree.village, day, acting_user=tree.user("points_reviewer"))
    call_command("points", "reconcile")
    assert "no breach" in capsys.readouterr().out
    posting = Posting.objects.get(transaction=claim.transaction, account=claim.account)
    _tamper("UPDATE points_posting SET amount = %s WHERE id = %s", [-5, posting.pk])
    codes = {b.code for b in ledger.reconcile()}
    assert {"unbalanced", "negative_balance", "overdrawn", "wrong_sign",
            "closed_month"} <= codes
    with pytest.raises(SystemExit) as exit_info:
        call_command("points", "reconcile")
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "BREACH [unbalanced]" in out and str(claim.transaction_id) in out


def test_people_in_classes_rank_apart(tree, settings, tmp_path):
    """富源: cadres and party members are scored in classes with their own items."""
    settings.MEDIA_ROOT = tmp_path
    adopt(tree, "fuyuan")
    head = tree.household.place.household_record.place
    from gongzhi.places.models import Person

    zhang = Person.objects.get(name="张建国")
    li = Person.objects.get(name="李秀英")
    secretary = tree.user("village_secretary")
    a = actions.do_enrol_person(zhang, "resident_member", acting_user=secretary)
    b = actions.do_enrol_person(li, "resident_member", acting_user=secretary)
    with pytest.raises(ActionError, match="已在该类别"):
        actions.do_enrol_person(zhang, "resident_member", acting_user=secretary)
    with pytest.raises(ActionError, match="按个人计分"):
        actions.do_enrol_person(zhang, "household", acting_user=secretary)
    with pytest.raises(ActionError, match="不能删除"):  # default has no person classes
        actions.do_adopt_rules(tree.village, "default", acting_user=secretary)
    # Class items only: a household item is refused for a person account.
    with pytest.raises(ActionError, match="不适用"):
        actions.do_record_deed(a, item(tree.village, "H01"), occurred_on=TODAY(),
                               location="村", reason="x", files=[photo()],
                               acting_user=tree.user("village_cadre"))
    c = actions.do_record_deed(a, item(tree.village, "M02"), occurred_on=TODAY(),
                               location="村委会", reason="带头志愿服务", files=[photo()],
                               acting_user=tree.user("grid_worker"))
    actions.do_approve_claim(c, acting_user=tree.user("points_reviewer"))
    assert ledger.balance(a) == 3 and ledger.balance(b) == 0
    assert ledger.balance(ledger.household_account(head)) == 0
    quarter = (TODAY().month - 1) // 3 + 1
    snap = actions.do_compute_ranking(tree.village, TODAY().year, quarter, unit="person",
                                      klass="resident_member", acting_user=secretary)
    assert list(snap.rows.order_by("rank").values_list("account_id", "rank", "total")) == [
        (a.pk, 1, 3), (b.pk, 2, 0)]
    from gongzhi.points.labels import row_labels

    assert sorted(row_labels(snap, snap.rows.all()).values()) == ["张**", "李**"]


def test_rankings_rank_with_ties_and_publish_only_closed_quarters(tree, rules):
    reviewer = tree.user("points_reviewer")
    from gongzhi.places.actions import do_create_household

    third = do_create_household(tree.grid, acting_user=None, address="高城寨村3号",
                                members=[{"name": "刘三", "relation": "head"}])
    day = last_month()
    award(tree, tree.household.place, "A01", day)
    award(tree, third.place, "A01", day)
    year, quarter = day.year, (day.month - 1) // 3 + 1
    snap = actions.do_compute_ranking(tree.village, year, quarter, unit="household",
                                      acting_user=reviewer)
    rows = list(snap.rows.order_by("rank", "place_id").values_list("place_id", "rank", "total"))
    assert rows == sorted([(tree.household.place.pk, 1, 3), (third.place.pk, 1, 3),
                           (tree.household2.place.pk, 3, 0)], key=lambda r: (r[1], r[0]))
    grid = actions.do_compute_ranking(tree.village, year, quarter, unit="grid",
                                      acting_user=reviewer)
    assert list(grid.rows.order_by("rank").values_list("place_id", "total", "households",
                                                       "average")) == [
        (tree.grid.pk, 6, 2, 3.0), (tree.grid2.pk, 0, 1, 0.0)]
    with pytest.raises(ActionError, match="尚未审核结账"):
        actions.do_publish_ranking(snap, acting_user=reviewer)
    with pytest.raises(ActionError, match="之下"):
        actions.do_compute_ranking(tree.grid, year, quarter, unit="village",
                                   acting_user=reviewer)
    with pytest.raises(ActionForbidden):
        actions.do_compute_ranking(tree.village, year, quarter, unit="household",
                                   acting_user=tree.user("grid_worker"))


def test_publishing_recomputes_and_notice_period_ends_in_final(tree, rules):
    from gongzhi.points.periods import quarter_bounds

    reviewer = tree.user("points_reviewer")
    year = TODAY().year - 1
    _start, end = quarter_bounds(year, 4)
    snap = actions.do_compute_ranking(tree.village, year, 4, unit="household",
                                      acting_user=reviewer)
    assert snap.rows.filter(total__gt=0).count() == 0
    award(tree, tree.household.place, "A01", end)  # reviewed after the draft was computed
    for m in (10, 11, 12):
        actions.do_close_month(tree.village, date(year, m, 1), acting_user=reviewer)
    actions.do_publish_ranking(snap, acting_user=reviewer)
    snap.refresh_from_db()
    assert snap.rows.get(place=tree.household.place).total == 3
    assert actions.finalise_due_rankings() == {}
    later = timezone.now() + timedelta(days=30)
    assert actions.finalise_due_rankings(later) == {"finalised": 1}
    snap.refresh_from_db()
    assert snap.status == RankingStatus.FINAL


def test_claims_api_declare_review_and_close(tree, rules):
    from gongzhi.testing import api_client

    client, headers = api_client(tree.user("resident"))
    rule = item(tree.village, "A04")  # no evidence needed
    r = client.post("/api/v1/points/claims", {
        "household": tree.household.place.pk, "rule": rule.pk,
        "occurred_on": str(last_month()), "location": "村委会", "reason": "参加说事日"},
        content_type="application/json", headers=headers)
    assert r.status_code == 201, r.content
    claim_id = r.json()["id"]
    assert r.json()["channel"] == "declared"
    staff, staff_headers = api_client(tree.user("points_reviewer"))
    listing = staff.get("/api/v1/points/claims?status=pending", headers=staff_headers).json()
    assert [c["id"] for c in listing["items"]] == [claim_id]
    r = client.post(f"/api/v1/points/claims/{claim_id}/approve", {},
                    content_type="application/json", headers=headers)
    assert r.status_code == 403
    r = staff.post(f"/api/v1/points/claims/{claim_id}/approve", {"reason": "属实"},
                   content_type="application/json", headers=staff_headers)
    assert r.status_code == 200 and r.json()["posted_points"] == 2
    r = staff.post("/api/v1/points/months/close",
                   {"village": tree.village.pk, "month": last_month().strftime("%Y-%m")},
                   content_type="application/json", headers=staff_headers)
    assert r.status_code == 201 and r.json()["earned_total"] == 2
    balance = client.get(f"/api/v1/points/households/{tree.household.place.pk}/balance",
                         headers=headers)
    assert balance.status_code == 200 and balance.json()["balance"] == 2
    other = client.get(f"/api/v1/points/households/{tree.household2.place.pk}/balance",
                       headers=headers)
    assert other.status_code == 404
    assert Claim.objects.get(pk=claim_id).status == ClaimStatus.APPROVED


def test_commands_and_the_periodic_task(tree, capsys):
    from gongzhi.core.scheduling import PERIODIC
    from gongzhi.points.tasks import finalise_rankings_task

    call_command("points", "presets")
    out = capsys.readouterr().out
    assert all(key in out for key in ("default", "jingning", "fuyuan", "anze", "shiquan"))
    call_command("points", "adopt", str(tree.village.pk), "anze")
    assert "安泽县星级积分管理细则 v1" in capsys.readouterr().out
    assert current_version(tree.household.place).policy["stars"][0] == {"stars": 1, "min": 10}
    call_command("points", "finalise")
    assert capsys.readouterr().out.strip() == "{}"
    assert finalise_rankings_task.module_path in PERIODIC
    assert finalise_rankings_task.enqueue().return_value == {}
