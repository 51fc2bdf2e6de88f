"""Reports as PDF: the quarterly or annual 工作报告 and the 信访-style annual report.

Every figure comes from :func:`gongzhi.figures.compute.compute` (the same numbers as the
board, dashboards and ledgers), except a few counts the figures do not define, which are
counted here and described in ``docs/reports.md``: complaints by the unit complained about,
matters by handling mode (自办/代办/联办) and supervision items and 约谈 records.
Rendered from a template to HTML, then to PDF with WeasyPrint (CJK fonts via fontconfig).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.figures.compute import compute, percent, rank
from gongzhi.matters.models import HandlingMode, Ledger, Matter

from . import charts
from .context import PDF, Built, Context
from .ledgers import child_level

REPORT_SETS = ["matters", "handling_time", "satisfaction", "resolution", "summons"]
MIN_COMPLAINTS = 3


def _headline(f: dict[str, Any]) -> list[tuple[str, str]]:
    """The figures of docs/figures.md, as offices print them."""
    days = f.get("avg_handling_days")
    rows = [
        (_("受理事项"), str(f["received"])), (_("办结"), str(f["closed"])),
        (_("办结率"), percent(f["completion_rate"])),
        (_("按期办结率"), percent(f["on_time_rate"])),
        (_("响应率"), percent(f["response_rate"])), (_("重办率"), percent(f["reopen_rate"])),
        (_("平均办理用时"), "—" if days is None else _("%(d).1f 个工作日") % {"d": days}),
        (_("满意率"), _("%(rate)s（作出评价 %(n)d 件，未评价 %(x)d 件）") % {
            "rate": percent(f["satisfaction_rate"]), "n": f["answered"], "x": f["no_answer"]}),
        (_("解决率"), percent(f["resolution_rate"])),
        (_("吹哨次数"), str(f["summoned"])), (_("报到率"), percent(f["check_in_rate"])),
        (_("及时报到率"), percent(f["on_time_check_in_rate"])),
    ]
    if "open" in f:
        rows += [(_("当前在办"), str(f["open"])), (_("当前超期"), str(f["overdue"]))]
    if "visits" in f:
        rows += [(_("走访次数"), str(f["visits"])),
                 (_("走访覆盖率"), percent(f["coverage_rate"])),
                 (_("走访任务达标率"), percent(f["quota_rate"]))]
    return rows


def _table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of a breakdown with their rates formatted."""
    out = []
    for r in rows:
        out.append({**r, "completion": percent(r.get("completion_rate")),
                    "on_time": percent(r.get("on_time_rate")),
                    "satisfaction": percent(r.get("satisfaction_rate"))})
    return out


def _render(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html).write_pdf()


def work_report(ctx: Context) -> Built:
    """工作报告 (季度/年度): the figures for the place and period, by child place, ledger,
    category and month, with charts."""
    place, start, end, now = ctx.place, ctx.start, ctx.end, ctx.now
    ctx.progress(10, _("正在统计总体指标。"))
    total = {**compute(REPORT_SETS, place, start, end, now=now)["total"],
             **compute("overdue", place, start, end, now=now)["total"],
             **compute(["visits", "visit_quota"], place, start, end, now=now)["total"]}
    level = child_level(place)
    ctx.progress(30, _("正在按地区、台账和分类统计。"))
    children = compute(REPORT_SETS, place, start, end, group_by="children",
                       now=now)["rows"] if level else []
    ledgers = compute(REPORT_SETS, place, start, end, group_by="ledger", now=now)["rows"]
    categories = compute(REPORT_SETS, place, start, end, group_by="category", now=now)["rows"]
    ctx.progress(50, _("正在统计逐月趋势。"))
    unit = "month" if ctx.period.kind != "month" else "week"
    trend = compute(["matters"], place, start, end, group_by=unit, now=now)["rows"]
    ctx.progress(70, _("正在绘制图表。"))
    figures = []
    if children:
        figures.append(charts.bars(
            _("各地受理与办结"), [r["label"] for r in children],
            {_("受理"): [r["received"] for r in children],
             _("办结"): [r["closed"] for r in children]}))
    if any(r["received"] for r in ledgers):
        figures.append(charts.pie(_("三本账构成"), {r["label"]: r["received"] for r in ledgers}))
    if len(trend) > 1:
        figures.append(charts.lines(
            _("受理与办结趋势"), [r["label"] for r in trend],
            {_("受理"): [r["received"] for r in trend], _("办结"): [r["closed"] for r in trend]}))
    ctx.progress(85, _("正在生成 PDF。"))
    kind_label = _("年度工作报告") if ctx.period.kind == "year" else (
        _("季度工作报告") if ctx.period.kind == "quarter" else _("工作报告"))
    data = _render("reports/work_report.html", {
        "title": _("%(place)s %(period)s %(kind)s") % {
            "place": place.name, "period": ctx.period.label, "kind": kind_label},
        "place": place, "period": ctx.period, "headline": _headline(total),
        "children": _table(children), "ledgers": _table(ledgers),
        "categories": _table(categories), "charts": figures,
        "generated_at": timezone.localtime(now),
    })
    return Built(data, "pdf", PDF, rows=total["received"],
                 facts={"received": total["received"], "closed": total["closed"]})


def _complained_units(ctx: Context, min_volume: int) -> list[dict[str, Any]]:
    """Complaints received in the period naming each unit (被投诉单位), most first; units with
    fewer than ``min_volume`` are left out. One grouped query."""
    rows = (Matter.objects.filter(ctx.place.scope_q(), created_at__gte=ctx.start,
                                  created_at__lt=ctx.end, merged_into__isnull=True,
                                  ledger=Ledger.COMPLAINT, accused_organisation__isnull=False)
            .values("accused_organisation_id", "accused_organisation__name")
            .annotate(n=Count("pk")).order_by("-n", "accused_organisation__name"))
    return [{"name": r["accused_organisation__name"], "complaints": r["n"]}
            for r in rows if r["n"] >= min_volume]


def _modes(ctx: Context) -> list[dict[str, Any]]:
    """Matters received in the period by handling mode (自办/代办/联办; 未交办)."""
    counts = dict(Matter.objects.filter(ctx.place.scope_q(), created_at__gte=ctx.start,
                                        created_at__lt=ctx.end, merged_into__isnull=True)
                  .values_list("handling_mode").annotate(n=Count("pk")).order_by())
    out = [{"label": label, "count": counts.get(value, 0)}
           for value, label in HandlingMode.choices]
    out.append({"label": _("未交办"), "count": counts.get("", 0)})
    return out


def _supervision(ctx: Context) -> dict[str, Any]:
    from gongzhi.supervision import bulletins
    from gongzhi.supervision.models import Reason, RecordKind, SupervisionItem, SupervisionRecord

    items = SupervisionItem.objects.filter(ctx.place.scope_q("matter__"),
                                           opened_at__gte=ctx.start, opened_at__lt=ctx.end)
    counts = items.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(
        reason=Reason.OVERDUE)), open=Count("pk", filter=Q(status="open")))
    talks = SupervisionRecord.objects.filter(ctx.place.scope_q("matter__"),
                                             kind=RecordKind.TALK, at__gte=ctx.start,
                                             at__lt=ctx.end).count()
    overdue = bulletins.figures(ctx.place, ctx.period.start, ctx.period.end, now=ctx.now)
    return {"items": counts["total"], "overdue_items": counts["overdue"],
            "open_items": counts["open"], "talks": talks,
            "overdue_matters": overdue["totals"]["overdue"],
            "still_overdue": overdue["totals"]["still_overdue"],
            "units": overdue["units"][:10]}


def petition_report(ctx: Context) -> Built:
    """信访-style annual report: statistics, the most-complained units, assignment and
    summons figures, supervision."""
    place, start, end, now = ctx.place, ctx.start, ctx.end, ctx.now
    min_volume = int(ctx.params.get("min_volume") or MIN_COMPLAINTS)
    ctx.progress(10, _("正在统计受理情况。"))
    total = compute(REPORT_SETS, place, start, end, now=now)["total"]
    by = {dim: _table(compute(REPORT_SETS, place, start, end, group_by=dim, now=now)["rows"])
          for dim in ("ledger", "channel", "category")}
    ctx.progress(40, _("正在统计投诉举报较多的单位。"))
    complaints_by_department = rank(
        compute(REPORT_SETS, place, start, end, group_by="department",
                filters={"ledger": Ledger.COMPLAINT}, now=now)["rows"],
        "completion_rate", min_volume=min_volume)
    complaints_by_department = sorted(
        (r for r in complaints_by_department if r["received"] >= min_volume),
        key=lambda r: (-r["received"], str(r["label"])))
    ctx.progress(60, _("正在统计交办与吹哨报到。"))
    summons = [r for r in compute(["summons"], place, start, end, group_by="department",
                                  now=now)["rows"] if r["summoned"]]
    for r in summons:
        r["check_in"] = percent(r["check_in_rate"])
        r["on_time"] = percent(r["on_time_check_in_rate"])
    ctx.progress(75, _("正在统计督查督办。"))
    supervision = _supervision(ctx)
    figures = []
    if any(r["received"] for r in by["channel"]):
        figures.append(charts.bars(_("各渠道受理事项"), [r["label"] for r in by["channel"]],
                                   {_("受理"): [r["received"] for r in by["channel"]],
                                    _("办结"): [r["closed"] for r in by["channel"]]}))
    ctx.progress(85, _("正在生成 PDF。"))
    data = _render("reports/petition_report.html", {
        "title": _("%(place)s %(period)s 信访工作情况报告") % {
            "place": place.name, "period": ctx.period.label},
        "place": place, "period": ctx.period, "total": total,
        "headline": _headline(total), "by": by, "min_volume": min_volume,
        "complained": _complained_units(ctx, min_volume),
        "complaints_by_department": _table(complaints_by_department),
        "modes": _modes(ctx), "summons": summons, "supervision": supervision,
        "charts": figures, "generated_at": timezone.localtime(now),
        "satisfaction": percent(total["satisfaction_rate"]),
        "completion": percent(total["completion_rate"]),
        "on_time": percent(total["on_time_rate"]),
    })
    return Built(data, "pdf", PDF, rows=total["received"],
                 facts={"received": total["received"], "talks": supervision["talks"]})
