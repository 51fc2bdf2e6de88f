"""The five ledgers (台账) as workbooks: 三本账, 说事议事, 积分, 走访, 督办.

Each reads only rows the user may see (``restrict``), under the place and in the period,
with names, phones and free text masked as the user's permissions say; the summary blocks
quote :func:`gongzhi.figures.compute.compute`. Queries are grouped or prefetched: none per row.
"""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from django.db.models import Count, Prefetch, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from gongzhi.board.anonymise import mask_numbers
from gongzhi.core.access import has_permission
from gongzhi.core.privacy import mask_name, mask_phone
from gongzhi.evaluation.models import EvaluatorKind
from gongzhi.figures.compute import compute
from gongzhi.figures.registry import PLACE_DIMENSIONS
from gongzhi.matters.models import Ledger, Matter, WorkflowDefinition, reporter_visible_to
from gongzhi.matters.workflow import workflow_of
from gongzhi.places.models import LEVELS, Household, Person, Place, PlaceKind, Relation

from .context import XLSX, Built, Context
from .sheets import PERCENT, Column, LedgerSheet, rate


def _title(ctx: Context, name: str) -> str:
    return _("%(place)s %(period)s %(name)s") % {
        "place": ctx.place.name, "period": ctx.period.label, "name": name}


def _day(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d")


def _save(wb: Workbook, rows: int, **facts) -> Built:
    buffer = io.BytesIO()
    wb.save(buffer)
    return Built(buffer.getvalue(), "xlsx", XLSX, rows=rows, facts=facts)


def child_level(place: Place) -> str | None:
    """The level below ``place`` that figures break down by (None under a grid)."""
    nxt = place.level + 1
    return LEVELS[nxt] if nxt < len(LEVELS) and LEVELS[nxt] in PLACE_DIMENSIONS else None


# ---------------------------------------------------------------------------------------------
# 三本账台账

MATTER_COLUMNS = (
    Column(_("序号"), 6), Column(_("受理日期"), 11), Column(_("来源渠道"), 11),
    Column(_("反映人"), 16), Column(_("事项内容"), 40), Column(_("分类"), 10),
    Column(_("责任单位/责任人"), 16), Column(_("办理期限"), 11), Column(_("办理情况"), 30),
    Column(_("办结日期"), 11), Column(_("回访/满意度"), 16), Column(_("状态"), 12),
)
FIGURE_COLUMNS = (
    Column(_("单位"), 16), Column(_("受理事项"), 9), Column(_("办结"), 8),
    Column(_("办结率"), 9, PERCENT), Column(_("按期办结"), 9), Column(_("按期办结率"), 10, PERCENT),
    Column(_("响应率"), 9, PERCENT), Column(_("满意"), 7), Column(_("基本满意"), 8),
    Column(_("不满意"), 7), Column(_("未评价"), 7), Column(_("满意率"), 9, PERCENT),
    Column(_("重办率"), 9, PERCENT),
)
MATTER_SETS = ["matters", "satisfaction"]


def matter_summary(f: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (_("受理事项"), f["received"]), (_("办结"), f["closed"]),
        (_("办结率"), rate(f["completion_rate"])), (_("按期办结率"), rate(f["on_time_rate"])),
        (_("响应率"), rate(f["response_rate"])), (_("满意率"), rate(f["satisfaction_rate"])),
        (_("作出评价"), f["answered"]), (_("未评价"), f["no_answer"]),
    ]


def _figure_row(label: str, f: dict[str, Any]) -> list[Any]:
    return [label, f["received"], f["closed"], rate(f["completion_rate"]), f["closed_on_time"],
            rate(f["on_time_rate"]), rate(f["response_rate"]), f["satisfied"], f["basic"],
            f["dissatisfied"], f["no_answer"], rate(f["satisfaction_rate"]),
            rate(f["reopen_rate"])]


class MatterRows:
    """Shapes matters into ledger rows for one user: stage names, last ratings and return
    visits, reporters masked as the user's permissions say."""

    def __init__(self, ctx: Context, qs):
        from gongzhi.evaluation.models import Evaluation, ReturnVisit

        self.ctx = ctx
        ids = qs.values("pk")
        self.ratings: dict[int, str] = {}
        for matter_id, label in (Evaluation.objects.filter(matter__in=ids,
                                                           kind=EvaluatorKind.REPORTER)
                                 .order_by("matter_id", "at", "pk")
                                 .values_list("matter_id", "outcome")):
            self.ratings[matter_id] = label
        self.calls: dict[int, Any] = {}
        for call in ReturnVisit.objects.filter(matter__in=ids).order_by("matter_id", "at", "pk"):
            self.calls[call.matter_id] = call
        workflow_ids = set(qs.values_list("workflow_id", flat=True).distinct())
        self.workflows = {w.pk: workflow_of(w) for w in
                          WorkflowDefinition.objects.filter(pk__in=workflow_ids)}
        self.reporters_shown = 0
        self.reporters_hidden = 0

    def stage_name(self, m: Matter) -> str:
        try:
            return self.workflows[m.workflow_id].stage(m.stage).get("name", m.stage)
        except KeyError:
            return m.get_stage_kind_display()

    def reporter(self, m: Matter) -> str:
        user = self.ctx.user
        if m.is_complaint and not reporter_visible_to(user, m):
            self.reporters_hidden += 1
            return _("（依规保护，不显示）")
        if m.is_anonymous:
            return _("匿名")
        person = m.reporter_person
        name = m.reporter_name or (person.name if person else "")
        phone = m.reporter_phone or (person.phone if person else "")
        if not has_permission(user, "matters.handle", m.place):
            phone = mask_phone(phone)
        if m.is_complaint:
            self.reporters_shown += 1
        return f"{name}（{phone}）" if phone else name

    def row(self, n: int, m: Matter) -> list[Any]:
        from gongzhi.evaluation.models import Outcome as Rating

        user = self.ctx.user
        text = f"{m.title}\n{m.text}" if m.text and m.text != m.title else m.title
        if not has_permission(user, "people.view_sensitive", m.place):
            text = mask_numbers(text)
        who = " / ".join(x for x in (m.responsible_org.name if m.responsible_org else "",
                                      str(m.responsible_user) if m.responsible_user else "") if x)
        handling = m.get_outcome_display() if m.outcome else ""
        if m.outcome_text:
            handling = f"{handling}：{m.outcome_text}" if handling else m.outcome_text
        feedback = []
        if m.pk in self.ratings:
            feedback.append(str(dict(Rating.choices).get(self.ratings[m.pk],
                                                         self.ratings[m.pk])))
        call = self.calls.get(m.pk)
        if call is not None:
            feedback.append(_("回访：%(r)s") % {
                "r": call.get_resolved_display() if call.reached and call.resolved
                else (_("已联系") if call.reached else _("未联系上"))})
        if m.is_closed:
            status = _("已办结")
        else:
            status = self.stage_name(m)
            if m.is_overdue(self.ctx.now):
                status = _("%(stage)s（超期）") % {"stage": status}
        due = m.due_at or (m.stage_deadline if not m.is_closed else None)
        return [n, _day(m.created_at), m.get_channel_display(), self.reporter(m), text,
                m.category.name if m.category else "", who, _day(due), handling,
                _day(m.closed_at), "；".join(feedback), status]


def matters_queryset(ctx: Context):
    return (Matter.objects.restrict(ctx.user, "view")
            .filter(ctx.place.scope_q(), created_at__gte=ctx.start, created_at__lt=ctx.end,
                    merged_into__isnull=True)
            .select_related("category", "responsible_org", "responsible_user",
                            "reporter_person", "place")
            .order_by("created_at", "pk"))


def matters_ledger(ctx: Context) -> Built:
    wb = Workbook()
    ws = wb.active
    ws.title = _("汇总")
    ctx.progress(5, _("正在统计本期指标。"))
    level = child_level(ctx.place)
    figures = compute(MATTER_SETS, ctx.place, ctx.start, ctx.end,
                      group_by="children" if level else "ledger", now=ctx.now)
    summary = LedgerSheet(ws, _title(ctx, _("三本账汇总")), FIGURE_COLUMNS, unit=ctx.unit)
    summary.summary(matter_summary(figures["total"]))
    summary.rows(_figure_row(r["label"], r) for r in figures["rows"])
    summary.row(_figure_row(_("合计"), figures["total"]))
    summary.finish()

    qs = matters_queryset(ctx)
    shaper = MatterRows(ctx, qs)
    total = 0
    for i, (ledger, label) in enumerate(Ledger.choices):
        ctx.progress(15 + 25 * i, _("正在写入%(ledger)s台账。") % {"ledger": label})
        sheet = LedgerSheet(wb.create_sheet(str(label)), _title(ctx, _("%(ledger)s台账") % {
            "ledger": label}), MATTER_COLUMNS, unit=ctx.unit)
        by_ledger = compute(MATTER_SETS, ctx.place, ctx.start, ctx.end,
                            filters={"ledger": ledger}, now=ctx.now)
        sheet.summary(matter_summary(by_ledger["total"]))
        for n, m in enumerate(qs.filter(ledger=ledger).iterator(chunk_size=500), start=1):
            sheet.row(shaper.row(n, m))
        total += sheet.count
        sheet.finish()
    return _save(wb, total, complaint_reporters_shown=shaper.reporters_shown,
                 complaint_reporters_hidden=shaper.reporters_hidden,
                 received=figures["total"]["received"])


# ---------------------------------------------------------------------------------------------
# 说事议事台账

MEETING_COLUMNS = (
    Column(_("序号"), 6), Column(_("会议日期"), 11), Column(_("会议名称"), 18),
    Column(_("会议类型"), 12), Column(_("应到/实到"), 9), Column(_("议题"), 24),
    Column(_("来源"), 9), Column(_("讨论情况"), 28), Column(_("表决结果"), 16),
    Column(_("决议内容"), 28), Column(_("责任方"), 12), Column(_("完成时限"), 11),
    Column(_("办理情况"), 14), Column(_("办理结果"), 18),
)


def _vote_text(vote) -> str:
    if vote is None:
        return ""
    if vote.consensus:
        text = _("协商一致")
    else:
        text = _("赞成%(a)d，反对%(b)d，弃权%(c)d") % {
            "a": vote.votes_for, "b": vote.votes_against, "c": vote.abstentions}
    return f"{text}，{_('通过') if vote.passed else _('未通过')}"


def meetings_ledger(ctx: Context) -> Built:
    from gongzhi.meetings.minutes import related
    from gongzhi.meetings.models import Meeting, MeetingStatus, Topic, TopicStatus

    topics = (Topic.objects.exclude(status=TopicStatus.WITHDRAWN)
              .select_related("vote", "resolution", "resolution__matter",
                              "resolution__responsible_org", "matter")
              .order_by("order", "pk"))
    meetings = list(
        Meeting.objects.restrict(ctx.user, "view")
        .filter(ctx.place.scope_q(), starts_at__gte=ctx.start, starts_at__lt=ctx.end)
        .exclude(status=MeetingStatus.CANCELLED)
        .select_related("kind")
        .annotate(present=Count("invitations", filter=Q(invitations__signed_in_at__isnull=False)))
        .prefetch_related(Prefetch("topics", queryset=topics))
        .order_by("starts_at", "pk"))
    ctx.progress(30, _("正在写入说事议事台账。"))
    wb = Workbook()
    sheet = LedgerSheet(wb.active, _title(ctx, _("说事议事台账")), MEETING_COLUMNS,
                        unit=ctx.unit)
    wb.active.title = _("说事议事")
    counts = {"topics": 0, "passed": 0, "resolutions": 0, "done": 0}
    rows = []
    for m in meetings:
        head = [_day(m.starts_at), m.title, m.kind.name,
                f"{m.invited_count}/{m.present}" if m.status == MeetingStatus.CLOSED
                else m.get_status_display()]
        ts = list(m.topics.all())
        if not ts:
            rows.append([*head, "", "", "", "", "", "", "", "", ""])
        for t in ts:
            vote, res = related(t, "vote"), related(t, "resolution")
            counts["topics"] += 1
            counts["passed"] += bool(vote and vote.passed)
            matter = res.matter if res else None
            progress = result = ""
            if res is not None:
                counts["resolutions"] += 1
                if matter is not None:
                    progress = _("已办结") if matter.is_closed else matter.get_stage_kind_display()
                    counts["done"] += matter.is_closed
                    result = " ".join(x for x in (matter.get_outcome_display()
                                                  if matter.outcome else "",
                                                  matter.outcome_text) if x)
                else:
                    progress = _("未转为事项")
            rows.append([*head, t.title, t.get_source_display(), t.discussion, _vote_text(vote)
                         or t.get_status_display(), res.text if res else "",
                         (res.responsible_name or (res.responsible_org.name
                                                   if res.responsible_org else "")) if res
                         else "", _day(res.deadline) if res else "", progress, result])
    sheet.summary([(_("会议次数"), len(meetings)), (_("议题"), counts["topics"]),
                   (_("表决通过"), counts["passed"]), (_("形成决议"), counts["resolutions"]),
                   (_("决议已办结"), counts["done"])])
    sheet.rows([n, *r] for n, r in enumerate(rows, start=1))
    sheet.finish()
    return _save(wb, len(rows), meetings=len(meetings), **counts)


# ---------------------------------------------------------------------------------------------
# 积分台账


def _months(ctx: Context) -> list:
    from .periods import _next_month

    out, day = [], ctx.period.start.replace(day=1)
    while day < ctx.period.end:
        out.append(day)
        day = _next_month(day, 1)
    return out


def points_ledger(ctx: Context) -> Built:
    from gongzhi.points.models import Account, AccountKind, Posting, TxnKind

    months = _months(ctx)
    columns = [Column(_("序号"), 6), Column(_("网格"), 12), Column(_("户"), 18),
               Column(_("户主"), 9), Column(_("期初余额"), 9)]
    columns += [Column(_("%(y)d年%(m)d月") % {"y": d.year, "m": d.month}, 9) for d in months]
    columns += [Column(_("本期合计"), 9), Column(_("其中得分"), 9), Column(_("其中兑换"), 9),
                Column(_("期末余额"), 9)]
    place, p = ctx.place, ctx.period
    postings = (Posting.objects.restrict(ctx.user, "view")
                .filter(place.scope_q(), account_kind=AccountKind.HOUSEHOLD))

    def sums(qs) -> dict[int, int]:
        return {r["account_id"]: int(r["s"]) for r in
                qs.values("account_id").annotate(s=Sum("amount")).order_by()}

    ctx.progress(20, _("正在汇总积分分录。"))
    opening = sums(postings.filter(posted_on__lt=p.start))
    closing = sums(postings.filter(posted_on__lt=p.end))
    within = postings.filter(posted_on__gte=p.start, posted_on__lt=p.end)
    earned = sums(within.filter(is_earned=True))
    spent = sums(within.filter(Q(kind=TxnKind.REDEMPTION) | Q(
        kind=TxnKind.REVERSAL, transaction__original__kind=TxnKind.REDEMPTION)))
    monthly: dict[int, dict] = defaultdict(dict)
    for r in (within.annotate(mo=TruncMonth("posted_on")).values("account_id", "mo")
              .annotate(s=Sum("amount")).order_by()):
        mo = r["mo"].date() if hasattr(r["mo"], "date") else r["mo"]
        monthly[r["account_id"]][mo] = int(r["s"])

    households = list(Place.objects.filter(place.scope_q(), kind=PlaceKind.HOUSEHOLD)
                      .order_by("grid_id", "sort_order", "pk"))
    grids = dict(Place.objects.filter(place.scope_q() if place.kind != PlaceKind.HOUSEHOLD
                                      else Q(pk=place.grid_id), kind=PlaceKind.GRID)
                 .values_list("pk", "name"))
    doors = dict(Household.objects.filter(place__in=households).values_list("place_id",
                                                                            "address"))
    heads: dict[int, str] = {}
    for pid, name in (Person.objects.filter(place__in=households, relation=Relation.HEAD,
                                            is_active=True).order_by("id")
                      .values_list("place_id", "name")):
        heads.setdefault(pid, name)
    accounts = dict(Account.objects.filter(place.scope_q(), kind=AccountKind.HOUSEHOLD)
                    .values_list("household_id", "pk"))
    full_names = has_permission(ctx.user, "people.view", place)

    ctx.progress(60, _("正在写入积分台账。"))
    wb = Workbook()
    wb.active.title = _("积分台账")
    sheet = LedgerSheet(wb.active, _title(ctx, _("积分台账")), columns, unit=ctx.unit)
    totals = {"opening": 0, "earned": 0, "redeemed": 0, "change": 0, "closing": 0}
    month_totals = dict.fromkeys(months, 0)
    rows = []
    for n, h in enumerate(households, start=1):
        a = accounts.get(h.pk)
        per_month = [monthly.get(a, {}).get(d, 0) for d in months]
        change = sum(per_month)
        row_f = {"opening": opening.get(a, 0), "earned": earned.get(a, 0),
                 "redeemed": -spent.get(a, 0), "change": change, "closing": closing.get(a, 0)}
        for k in totals:
            totals[k] += row_f[k]
        for d, v in zip(months, per_month, strict=True):
            month_totals[d] += v
        head = heads.get(h.pk, "")
        rows.append([n, grids.get(h.grid_id, ""), doors.get(h.pk) or h.name,
                     head if full_names else mask_name(head), row_f["opening"], *per_month,
                     change, row_f["earned"], row_f["redeemed"], row_f["closing"]])
    sheet.summary([(_("户数"), len(households)), (_("本期得分合计"), totals["earned"]),
                   (_("本期兑换合计"), totals["redeemed"]), (_("期末余额合计"), totals["closing"]),
                   (_("户均得分"), round(totals["earned"] / len(households), 2)
                    if households else "—")])
    sheet.rows(rows)
    if rows:
        sheet.row([_("合计"), "", _("%(n)d 户") % {"n": len(households)}, "",
                   totals["opening"], *month_totals.values(), totals["change"],
                   totals["earned"], totals["redeemed"], totals["closing"]])
    sheet.finish()
    return _save(wb, len(rows), households=len(households), earned=totals["earned"])


# ---------------------------------------------------------------------------------------------
# 走访台账

VISIT_COLUMNS = (
    Column(_("序号"), 6), Column(_("走访日期"), 11), Column(_("网格"), 12), Column(_("户"), 18),
    Column(_("走访类型"), 11), Column(_("走访人"), 10), Column(_("见到的家庭成员"), 16),
    Column(_("听到的需求和意见"), 40), Column(_("转为事项"), 22),
)


def visits_ledger(ctx: Context) -> Built:
    from gongzhi.visits.access import holds_over, matters_shown
    from gongzhi.visits.models import Visit

    ctx.progress(10, _("正在统计走访覆盖。"))
    f = compute(["visits", "visit_quota"], ctx.place, ctx.start, ctx.end, now=ctx.now)["total"]
    visits = list(Visit.objects.restrict(ctx.user, "view")
                  .filter(ctx.place.scope_q(), visited_on__gte=ctx.period.start,
                          visited_on__lt=ctx.period.end)
                  .select_related("household__household_record", "visitor", "grid")
                  .prefetch_related("met", "visit_matters__matter__place")
                  .order_by("visited_on", "pk"))
    shown = matters_shown(ctx.user, [link for v in visits for link in v.visit_matters.all()])
    ctx.progress(50, _("正在写入走访台账。"))
    wb = Workbook()
    wb.active.title = _("走访台账")
    sheet = LedgerSheet(wb.active, _title(ctx, _("走访台账")), VISIT_COLUMNS, unit=ctx.unit)
    sheet.summary([(_("走访次数"), f["visits"]), (_("走访户数"), f["households_visited"]),
                   (_("户数"), f["households"]), (_("走访覆盖率"), rate(f["coverage_rate"])),
                   (_("重点关爱户"), f["special_households"]),
                   (_("重点户走访覆盖率"), rate(f["special_coverage_rate"])),
                   (_("走访任务达标率"), rate(f["quota_rate"]))])
    for n, v in enumerate(visits, start=1):
        record = getattr(v.household, "household_record", None)
        met = _("无人在家") if v.nobody_home else "、".join(p.name for p in v.met.all())
        notes = v.notes if holds_over(ctx.user, "people.view_sensitive", v) else mask_numbers(
            v.notes)
        matters = "；".join(f"{link.matter.tracking_code} {link.matter.title}"
                           for link in v.visit_matters.all() if link.matter_id in shown)
        sheet.row([n, _day(v.visited_on), v.grid.name if v.grid else "",
                   (record.address if record else "") or v.household.name,
                   v.get_kind_display(), str(v.visitor), met, notes, matters])
    sheet.finish()
    return _save(wb, len(visits), visits=f["visits"])


# ---------------------------------------------------------------------------------------------
# 督办台账

SUPERVISION_COLUMNS = (
    Column(_("序号"), 6), Column(_("督办时间"), 11), Column(_("督办事项"), 28),
    Column(_("所在地"), 12), Column(_("责任单位/责任人"), 16), Column(_("督办原因"), 10),
    Column(_("督办层级"), 10), Column(_("环节及时限"), 18), Column(_("督办要求"), 22),
    Column(_("督办记录"), 34), Column(_("结束时间"), 11), Column(_("督办结果"), 22),
    Column(_("事项状态"), 10),
)


def supervision_ledger(ctx: Context) -> Built:
    from gongzhi.supervision.models import ItemStatus, Reason, RecordKind, SupervisionItem

    items = list(SupervisionItem.objects.restrict(ctx.user, "view")
                 .filter(ctx.place.scope_q("matter__"), opened_at__gte=ctx.start,
                         opened_at__lt=ctx.end)
                 .select_related("matter", "matter__place", "matter__responsible_org",
                                 "matter__responsible_user")
                 .prefetch_related("records")
                 .order_by("opened_at", "pk"))
    ctx.progress(40, _("正在写入督办台账。"))
    overdue_now = compute("overdue", ctx.place, ctx.start, ctx.end, now=ctx.now)["total"]
    talks = sum(1 for i in items for r in i.records.all() if r.kind == RecordKind.TALK)
    wb = Workbook()
    wb.active.title = _("督办台账")
    sheet = LedgerSheet(wb.active, _title(ctx, _("督办台账")), SUPERVISION_COLUMNS,
                        unit=ctx.unit)
    sheet.summary([
        (_("督办事项"), len(items)),
        (_("超期督办"), sum(i.reason == Reason.OVERDUE for i in items)),
        (_("督办中"), sum(i.status == ItemStatus.OPEN for i in items)),
        (_("约谈"), talks), (_("当前在办"), overdue_now["open"]),
        (_("当前超期"), overdue_now["overdue"]),
    ])
    for n, item in enumerate(items, start=1):
        m = item.matter
        who = " / ".join(x for x in (m.responsible_org.name if m.responsible_org else "",
                                      str(m.responsible_user) if m.responsible_user else "") if x)
        records = "\n".join(
            f"{_day(r.at)} {r.get_kind_display()}："
            + (f"（{r.talked_to_name}{r.talked_to_position and '，' + r.talked_to_position}）"
               if r.kind == RecordKind.TALK and r.talked_to_name else "")
            + r.notes for r in sorted(item.records.all(), key=lambda r: (r.at, r.pk)))
        stage = item.stage_name or item.stage
        if item.deadline:
            stage = f"{stage}（{_day(item.deadline)}）"
        sheet.row([n, _day(item.opened_at), f"{m.tracking_code} {m.title}", m.place.name, who,
                   item.get_reason_display(), item.level_name or str(item.level), stage,
                   item.note, records, _day(item.closed_at),
                   item.close_note or item.get_status_display(),
                   _("已办结") if m.is_closed else m.get_stage_kind_display()])
    sheet.finish()
    return _save(wb, len(items), items=len(items), talks=talks)
