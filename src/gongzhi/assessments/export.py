"""A round as a workbook: the league table, each unit's indicators, adjustments, and the system.

The title row names the place and the period (``城关镇2025年第一季度村（社区）考核``). Rates are
written as fractions with a percentage format, scores with two decimals. The export is audited.
"""

from __future__ import annotations

import io

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from gongzhi.audit.log import record

from .models import Adjustment, AssessmentRound, IndicatorScore, Source
from .scoring import GRADE_LABELS, plain
from .systems import describe_rule, figure_catalogue, figure_label


def _num(value):
    return float(value) if value is not None else None


def round_workbook(rnd: AssessmentRound, results, *, acting_user) -> bytes:
    """``results``: the round's results the user may see, in league order."""
    results = list(results)
    indicators = list(rnd.version.indicators.all())
    catalogue = figure_catalogue()
    scores = {(s.result_id, s.indicator_id): s
              for s in IndicatorScore.objects.filter(result__in=results)}
    share = bool(rnd.points_share)
    period = f"{rnd.period_start:%Y-%m-%d} — {rnd.period_end:%Y-%m-%d}"

    wb = Workbook()
    ws = wb.active
    ws.title = "考核结果"
    ws.append((rnd.title,))
    ws["A1"].font = Font(bold=True, size=14)
    ws.append((f"{rnd.place.full_name()} · {period} · "
               + (_("计算于 %(t)s") % {"t": timezone.localtime(rnd.computed_at)
                                      .strftime("%Y-%m-%d %H:%M")}
                  if rnd.computed_at else _("未计算"))
               + f" · {rnd.get_status_display()}",))
    headers = ["名次", "考核对象", "业务量"]
    for ind in indicators:
        if ind.source == Source.COMPUTED:
            headers.append(f"{ind.code} {ind.name}（数值）")
        headers.append(f"{ind.code} {ind.name}（得分，权重{plain(ind.weight)}）")
    headers.append("指标得分")
    if share:
        headers += ["户均积分", f"积分得分（占{plain(rnd.points_share * 100)}%）", "基础得分"]
    headers += ["加分", "扣分", "总分", "等次", "说明"]
    ws.append(headers)
    header_row = ws.max_row
    for r in results:
        row = [r.rank if r.ranked else None, r.label, r.volume]
        for ind in indicators:
            s = scores.get((r.pk, ind.pk))
            if ind.source == Source.COMPUTED:
                row.append(s.value if s else None)
            row.append(_num(s.score) if s else None)
        row.append(_num(r.indicator_score))
        if share:
            row += [r.points_value, _num(r.points_score), _num(r.base_score)]
        note = "" if r.ranked else _("业务量不足，不参与排名")
        if not r.complete:
            note = (note + "；" if note else "") + _("人工评分未录齐")
        row += [r.bonus, r.deduction, _num(r.final_score), GRADE_LABELS.get(r.grade, ""), note]
        ws.append(row)
    # Formats: rates as percentages, scores with two decimals.
    col = 4
    for ind in indicators:
        if ind.source == Source.COMPUTED:
            figure = catalogue.get(ind.figure)
            fmt = "0.0%" if figure is not None and figure.is_rate else "0.00"
            for cells in ws.iter_rows(min_row=header_row + 1, min_col=col, max_col=col):
                cells[0].number_format = fmt
            col += 1
        col += 1
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True)

    sheet = wb.create_sheet("指标体系")
    sheet.append((rnd.version.system.name, f"v{rnd.version.number}"))
    sheet.append(("编号", "指标类别", "指标", "权重", "来源", "统计指标", "计分规则", "评分标准"))
    for ind in indicators:
        sheet.append((ind.code, ind.category, ind.name, float(ind.weight),
                      ind.get_source_display(), figure_label(ind.figure) if ind.figure else "",
                      describe_rule(ind), ind.description))
    policy = rnd.version.policy
    sheet.append(())
    sheet.append(("最低业务量", policy.get("min_volume")))
    grades = policy.get("grades", {})
    sheet.append(("等次", _("优秀 ≥%(a)s，合格 ≥%(b)s，基本合格 ≥%(c)s，其余不合格") % {
        "a": plain(grades.get("excellent")), "b": plain(grades.get("pass")),
        "c": plain(grades.get("basic"))}))
    if share:
        sheet.append(("积分占比", float(rnd.points_share)))

    adj_sheet = wb.create_sheet("加减分")
    adj_sheet.append(("考核对象", "类型", "分值", "事由", "状态", "申请人", "审批人", "审批意见"))
    for a in (Adjustment.objects.filter(result__in=results)
              .select_related("result", "requested_by", "decided_by")
              .order_by("result__label", "requested_at")):
        adj_sheet.append((a.result.label, a.get_kind_display(), a.signed, a.reason,
                          a.get_status_display(), str(a.requested_by or ""),
                          str(a.decided_by or ""), a.decision_note))
    for sheet in (wb["指标体系"], adj_sheet):
        for cell in sheet[2 if sheet.title == "指标体系" else 1]:
            cell.font = Font(bold=True)

    buffer = io.BytesIO()
    wb.save(buffer)
    with transaction.atomic():
        record("assessments.round.export", actor=acting_user, obj=rnd,
               after={"results": len(results)})
    return buffer.getvalue()
