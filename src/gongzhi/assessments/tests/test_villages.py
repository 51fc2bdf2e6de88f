"""Villages assessed over HTTP on 富源's seven indicator classes, every score checked by hand.

The scenario (``scenario.py``): 高城寨村 received 4 matters in the first quarter of 2025, closed 3
(办结率 75%), 2 of them on time (按期办结率 2/3), all 3 answers satisfied or basic (满意率
100%); 东关社区 received 1 and did everything right. The county office adopts the preset and
sets the minimum volume to 3, so 东关社区 is listed but not ranked.

Rules of the preset: 办结率 and 按期办结率 linear from 50% (0) to 100% (100); 满意率 from 60%
to 100%. So 高城寨村 scores V2 = (0.75 − 0.5) ÷ 0.5 = 50.00, V3 = (2/3 − 0.5) ÷ 0.5 = 33.33,
V8 = 100; 东关社区 100 on all three.

Manual scores (weights): V1 人居环境 15, V4 三务三资 15, V5 党支部 15, V6 社会治安 10, V7 党风廉政
10. 高城寨村 90, 80, 85, 70, 100; 东关社区 80 on each.

- 高城寨村: (15×90 + 10×50 + 10×33.33 + 15×80 + 15×85 + 10×70 + 10×100 + 15×100) ÷ 100
  = 7858.30 ÷ 100 = 78.58; approved bonus +3 → 81.58, 合格, rank 1.
- 东关社区: (15×80 + 10×100 + 10×100 + 15×80 + 15×80 + 10×80 + 10×80 + 15×100) ÷ 100 = 87.00,
  合格, volume 1 < 3: not ranked.

The annual round counts the households' points for 60%, relative to the best village per
household: 高城寨村 12 points ÷ 2 households = 6 → 100; 东关社区 5 ÷ 1 = 5 → 83.33.

- 高城寨村: 0.4 × 78.58 + 0.6 × 100 = 91.432 → 91.43, 优秀.
- 东关社区: 0.4 × 87.00 + 0.6 × 83.33 = 84.798 → 84.80.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from gongzhi.assessments.models import (
    Adjustment,
    AssessmentRound,
    IndicatorSystem,
    RoundStatus,
    UnitResult,
)
from gongzhi.audit.log import verify
from gongzhi.audit.models import AuditEvent
from gongzhi.testing import api_client, login_client

from .helpers import edit_data, error_of, result_of, scores_of, workbook
from .scenario import build_matters, build_points

D = Decimal
MANUAL_A = {"V1": "90", "V4": "80", "V5": "85", "V6": "70", "V7": "100"}
MANUAL_B = {"V1": "80", "V4": "80", "V5": "80", "V6": "80", "V7": "80"}


@pytest.fixture
def scenario(tree):
    build_matters(tree)
    build_points(tree)
    return tree


def _system(tree, office: Client) -> IndicatorSystem:
    r = office.post("/assessments/systems/adopt/", {"county": tree.county.pk,
                                                     "preset": "fuyuan_village"})
    assert r.status_code == 302, error_of(r)
    system = IndicatorSystem.objects.get()
    assert system.name in office.get("/assessments/systems/").content.decode()
    # Only the county office keeps the systems.
    r = login_client(tree.user("town_secretary")).post(
        "/assessments/systems/adopt/", {"county": tree.county.pk, "preset": "fuyuan_grid"})
    assert IndicatorSystem.objects.count() == 1
    assert login_client(tree.user("town_secretary")).get(
        f"/assessments/systems/{system.pk}/edit/").status_code == 403
    page = office.get(f"/assessments/systems/{system.pk}/").content.decode()
    for klass in ("人居环境星级化管理", "矛盾纠纷调处化解", "“三务”公开和“三资”管理",
                  "农村党支部管理", "社会治安", "党风廉政建设", "综合评价"):
        assert klass in page
    # Editing saves a new version; the weights must add up to 100.
    edit = f"/assessments/systems/{system.pk}/edit/"
    assert office.get(edit).status_code == 200
    data = edit_data(system.current(), min_volume="3", note="最低业务量改为3件")
    r = office.post(edit, {**data, "form-0-weight": "20"})
    assert r.status_code == 400 and "权重之和应为100，现在是 105" in error_of(r)
    r = office.post(edit, data)
    assert r.status_code == 302, error_of(r)
    system = IndicatorSystem.objects.get(pk=system.pk)
    version = system.current()
    assert version.number == 2 and version.policy["min_volume"] == 3
    assert version.policy["points_share"] == {"share": 0.6, "basis": "best",
                                              "per": "household"}
    assert [i.code for i in version.indicators.all()] == [
        "V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8"]
    return system


def _manual(client: Client, result: UnitResult, scores: dict[str, str]) -> None:
    indicators = {i.code: i for i in result.round.version.indicators.all()}
    for code, score in scores.items():
        r = client.post(f"/assessments/results/{result.pk}/scores/{indicators[code].pk}/",
                        {"score": score, "evidence": f"{code} 检查记录"})
        assert r.status_code == 302, error_of(r)


def test_quarter_round_of_villages(scenario):
    tree = scenario
    office = login_client(tree.user("county_office"))
    town_staff = login_client(tree.user("town_staff"))
    town_secretary = login_client(tree.user("town_secretary"))
    system = _system(tree, office)

    index = office.get("/assessments/").content.decode()
    assert 'action="/assessments/rounds/new/"' in index
    r = office.post("/assessments/rounds/new/", {"system": system.pk, "scope": tree.county.pk,
                                                 "period_kind": "quarter", "year": "2025",
                                                 "quarter": "1"})
    assert r.status_code == 302, r.content[:300]
    rnd = AssessmentRound.objects.get()
    assert rnd.title in office.get("/assessments/").content.decode()
    assert rnd.title == "测试县2025年第一季度村（社区）考核"
    assert (rnd.version.number, rnd.points_share) == (2, D("0"))
    assert office.post(f"/assessments/rounds/{rnd.pk}/compute/").status_code == 302
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.COMPUTED and rnd.computed_at is not None

    # Only the county office and town secretaries compute, and only over their own places.
    assert login_client(tree.user("village_secretary")).post(
        f"/assessments/rounds/{rnd.pk}/compute/").status_code == 403
    assert town_secretary.post(f"/assessments/rounds/{rnd.pk}/compute/").status_code == 403

    a, b = result_of(rnd, "高城寨村"), result_of(rnd, "东关社区")
    assert (a.volume, b.volume) == (4, 1)
    assert a.counts["received"] == 4 and a.counts["closed"] == 3
    assert scores_of(a) == {"V1": None, "V2": D("50.00"), "V3": D("33.33"), "V4": None,
                            "V5": None, "V6": None, "V7": None, "V8": D("100.00")}
    assert scores_of(b) == {"V1": None, "V2": D("100.00"), "V3": D("100.00"), "V4": None,
                            "V5": None, "V6": None, "V7": None, "V8": D("100.00")}
    assert not a.complete and not b.complete

    # Town staff score the villages of their town; 东关社区 is beyond them.
    _manual(town_staff, a, MANUAL_A)
    assert town_staff.get(f"/assessments/results/{b.pk}/").status_code == 404
    _manual(office, b, MANUAL_B)
    # A score needs its evidence and must lie within 0..100.
    v1 = rnd.version.indicators.get(code="V1")
    r = town_staff.post(f"/assessments/results/{a.pk}/scores/{v1.pk}/", {"score": "90"})
    assert r.status_code == 400
    r = town_staff.post(f"/assessments/results/{a.pk}/scores/{v1.pk}/",
                        {"score": "120", "evidence": "x"})
    assert r.status_code == 400
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.indicator_score, a.final_score, a.rank, a.ranked) == (D("78.58"), D("78.58"), 1,
                                                                     True)
    assert (b.indicator_score, b.final_score, b.rank, b.ranked) == (D("87.00"), D("87.00"),
                                                                     None, False)
    assert a.complete and b.complete

    # A bonus needs a second person's approval (four eyes); a rejection needs a reason.
    r = town_secretary.post(f"/assessments/results/{a.pk}/adjustments/",
                            {"kind": "bonus", "points": "3", "reason": "获评省级乡村治理示范村"})
    assert r.status_code == 302, error_of(r)
    bonus = Adjustment.objects.get(kind="bonus")
    a.refresh_from_db()
    assert a.final_score == D("78.58") and bonus.status == "pending"
    r = town_secretary.post(f"/assessments/adjustments/{bonus.pk}/approve/")
    assert r.status_code == 403
    assert town_staff.post(f"/assessments/results/{a.pk}/adjustments/",
                           {"kind": "bonus", "points": "11", "reason": "x"}).status_code == 400
    r = town_staff.post(f"/assessments/results/{a.pk}/adjustments/",
                        {"kind": "deduction", "points": "2", "reason": "上级通报环境问题"})
    assert r.status_code == 302
    deduction = Adjustment.objects.get(kind="deduction")
    # Town staff may ask but not approve.
    assert town_staff.post(f"/assessments/adjustments/{deduction.pk}/approve/").status_code == 403
    assert office.post(f"/assessments/adjustments/{deduction.pk}/reject/").status_code == 400
    r = office.post(f"/assessments/adjustments/{deduction.pk}/reject/",
                    {"note": "已在当月整改完毕"})
    assert r.status_code == 302
    r = office.post(f"/assessments/adjustments/{bonus.pk}/approve/")
    assert r.status_code == 302
    bonus.refresh_from_db()
    assert bonus.status == "approved" and bonus.decided_by == tree.user("county_office")
    a.refresh_from_db()
    assert (a.bonus, a.deduction, a.final_score, a.grade, a.rank) == (3, 0, D("81.58"), "pass",
                                                                      1)
    assert AuditEvent.objects.filter(action="assessments.adjustment.decide").count() == 2

    # The league table: 东关社区 listed but not ranked; a bar chart with no inline script.
    page = office.get(f"/assessments/rounds/{rnd.pk}/").content.decode()
    assert "81.58" in page and "87.00" in page and "不排名" in page
    assert 'id="league-data" type="application/json"' in page
    assert "vendor/echarts.min.js" in page and "assessments/league.js" in page
    for tag in re.findall(r"<script[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    sheet = office.get(f"/assessments/results/{a.pk}/").content.decode()
    assert "V2 群众诉求办结率" in sheet and "75.0%" in sheet and "获评省级乡村治理示范村" in sheet

    # A village cadre sees the round with their own village only; not the other one's sheet.
    cadre = login_client(tree.user("village_cadre"))
    page = cadre.get(f"/assessments/rounds/{rnd.pk}/").content.decode()
    assert "高城寨村" in page and "东关社区" not in page
    assert cadre.get(f"/assessments/results/{a.pk}/").status_code == 200
    assert cadre.get(f"/assessments/results/{b.pk}/").status_code == 404
    assert cadre.get(f"/assessments/rounds/{rnd.pk}/export.xlsx").status_code == 403
    assert login_client(tree.user("resident")).get(
        f"/assessments/rounds/{rnd.pk}/").status_code == 404
    assert Client().get(f"/assessments/rounds/{rnd.pk}/").status_code == 302

    # The workbook names the place and the period and holds the same figures.
    wb = workbook(office.get(f"/assessments/rounds/{rnd.pk}/export.xlsx"))
    ws = wb["考核结果"]
    assert ws["A1"].value == "测试县2025年第一季度村（社区）考核"
    assert "测试县" in ws["A2"].value and "2025-01-01 — 2025-03-31" in ws["A2"].value
    header = [c.value for c in ws[3]]
    rows = {r[1]: dict(zip(header, r, strict=True))
            for r in ws.iter_rows(min_row=4, values_only=True)}
    assert rows["高城寨村"]["名次"] == 1 and rows["高城寨村"]["业务量"] == 4
    assert rows["高城寨村"]["V2 群众诉求办结率（数值）"] == 0.75
    assert rows["高城寨村"]["V3 按期办结率（得分，权重10）"] == 33.33
    assert rows["高城寨村"]["指标得分"] == 78.58
    assert (rows["高城寨村"]["加分"], rows["高城寨村"]["总分"], rows["高城寨村"]["等次"]) == (
        3, 81.58, "合格")
    assert rows["东关社区"]["名次"] is None and rows["东关社区"]["总分"] == 87.0
    assert "业务量不足" in rows["东关社区"]["说明"]
    assert [r[0] for r in wb["加减分"].iter_rows(min_row=2, values_only=True)] == [
        "高城寨村", "高城寨村"]

    # Finalised, the round no longer moves.
    assert office.post(f"/assessments/rounds/{rnd.pk}/finalise/").status_code == 302
    r = town_staff.post(f"/assessments/results/{a.pk}/scores/{v1.pk}/",
                        {"score": "10", "evidence": "改分"})
    assert r.status_code == 400 and "已定稿" in error_of(r)
    assert office.post(f"/assessments/rounds/{rnd.pk}/compute/").status_code == 400

    # A town secretary computes a round over their own town.
    r = town_secretary.post("/assessments/rounds/new/", {
        "system": system.pk, "scope": tree.town.pk, "period_kind": "quarter", "year": "2025",
        "quarter": "1"})
    assert r.status_code == 302
    town_round = AssessmentRound.objects.get(place=tree.town)
    assert town_secretary.post(f"/assessments/rounds/{town_round.pk}/compute/").status_code == 302
    assert list(town_round.results.values_list("label", flat=True)) == ["高城寨村"]
    assert verify() == []


def test_annual_round_counts_points_for_sixty_percent(scenario):
    tree = scenario
    office = login_client(tree.user("county_office"))
    system = _system(tree, office)
    client, headers = api_client(tree.user("county_office"))
    r = client.post("/api/v1/assessments/rounds", {
        "system": system.pk, "scope": tree.county.pk, "period_kind": "year", "year": 2025},
        content_type="application/json", headers=headers)
    assert r.status_code == 201, r.content
    round_id = r.json()["id"]
    assert r.json()["points_share"] == 0.6 and r.json()["title"] == "测试县2025年度村（社区）考核"
    r = client.post(f"/api/v1/assessments/rounds/{round_id}/compute",
                    content_type="application/json", headers=headers)
    assert r.status_code == 200, r.content
    rnd = AssessmentRound.objects.get(pk=round_id)
    codes = {i.code: i.pk for i in rnd.version.indicators.all()}
    for label, scores in (("高城寨村", MANUAL_A), ("东关社区", MANUAL_B)):
        result = result_of(rnd, label)
        for code, score in scores.items():
            r = client.post(f"/api/v1/assessments/results/{result.pk}/scores",
                            {"indicator": codes[code], "score": score, "evidence": "年度检查"},
                            content_type="application/json", headers=headers)
            assert r.status_code == 200, r.content
    # A computed indicator is not scored by hand.
    r = client.post(f"/api/v1/assessments/results/{result.pk}/scores",
                    {"indicator": codes["V2"], "score": 100, "evidence": "x"},
                    content_type="application/json", headers=headers)
    assert r.status_code == 404

    league = client.get(f"/api/v1/assessments/rounds/{round_id}", headers=headers).json()
    rows = {row["label"]: row for row in league["results"]}
    a, b = rows["高城寨村"], rows["东关社区"]
    assert a["points_value"] == 6.0 and b["points_value"] == 5.0
    assert (D(a["indicator_score"]), D(a["points_score"]), D(a["final_score"])) == (
        D("78.58"), D("100.00"), D("91.43"))
    assert (D(b["indicator_score"]), D(b["points_score"]), D(b["final_score"])) == (
        D("87.00"), D("83.33"), D("84.80"))
    assert (a["rank"], a["ranked"], a["grade"]) == (1, True, "excellent")
    assert (b["rank"], b["ranked"], b["grade"]) == (None, False, "pass")
    sheet = client.get(f"/api/v1/assessments/results/{a['id']}", headers=headers).json()
    assert sheet["base_score"] == "91.43" and sheet["counts"]["received"] == 4
    # Out of scope is not found.
    other, other_headers = api_client(tree.user("resident"))
    assert other.get(f"/api/v1/assessments/rounds/{round_id}",
                     headers=other_headers).status_code == 404
