"""一年一核算 as a workbook: a village's year per household, per grid and per person.

Every figure is summed from the ledger in a few grouped queries (no query per household):

- 年初余额: the balance before 1 January; 全年得分: earned points dated in the year (awards,
  deductions and their fixes); 兑换: points spent in the shop, net of cancellations;
  年末余额: the balance on 31 December; 年末清零: the expiry posted for the year (under the
  ``expire`` policy, dated the day the year was closed); 结转: what carries into next year.
- 星级 from the year's earned points and the locality's thresholds.

Heads of household appear by name to staff who may see the village's people, masked otherwise.
The export is audited.
"""

from __future__ import annotations

import io

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.privacy import mask_name
from gongzhi.places.models import Household, Person, Place, PlaceKind, Relation

from .models import Account, AccountKind, Posting, TxnKind, YearClose
from .periods import year_bounds
from .queries import stars_for
from .rules import current_version, policy_for

HOUSEHOLD_HEADERS = ("网格", "户", "户主", "年初余额", "全年得分", "兑换", "年末余额",
                     "年末清零", "结转下年", "星级")


def _sums(qs, **filters) -> dict[int, int]:
    return {r["account_id"]: int(r["s"]) for r in qs.filter(**filters).values("account_id")
            .annotate(s=Sum("amount")).order_by()}


def year_figures(village: Place, year: int) -> dict[int, dict[str, int]]:
    """``{account_id: {opening, earned, redeemed, closing, expired, carried}}``."""
    start, end = year_bounds(year)
    postings = Posting.objects.filter(village=village).exclude(account_kind=AccountKind.POOL)
    opening = _sums(postings, posted_on__lt=start)
    closing = _sums(postings, posted_on__lte=end)
    in_year = postings.filter(posted_on__gte=start, posted_on__lte=end)
    earned = _sums(in_year, is_earned=True)
    spent = _sums(in_year.filter(Q(kind=TxnKind.REDEMPTION) | Q(
        kind=TxnKind.REVERSAL, transaction__original__kind=TxnKind.REDEMPTION)))
    expired = _sums(postings, kind=TxnKind.EXPIRY, transaction__source=f"expire:{year}")
    out = {}
    for account_id in set(opening) | set(closing) | set(earned) | set(expired):
        c = closing.get(account_id, 0)
        x = -expired.get(account_id, 0)
        out[account_id] = {"opening": opening.get(account_id, 0),
                           "earned": earned.get(account_id, 0),
                           "redeemed": -spent.get(account_id, 0), "closing": c,
                           "expired": x, "carried": c - x}
    return out


def year_workbook(village: Place, year: int, *, acting_user) -> bytes:
    policy = policy_for(village)
    stars_policy = policy.get("stars", [])
    figures = year_figures(village, year)
    full_names = has_permission(acting_user, "people.view", village)

    households = list(Place.objects.filter(village=village, kind=PlaceKind.HOUSEHOLD)
                      .order_by("grid_id", "sort_order", "pk"))
    grids = dict(Place.objects.filter(village=village, kind=PlaceKind.GRID)
                 .values_list("pk", "name"))
    doors = dict(Household.objects.filter(place__in=households).values_list("place_id",
                                                                            "address"))
    heads: dict[int, str] = {}
    for pid, name in (Person.objects.filter(place__in=households, relation=Relation.HEAD,
                                            is_active=True).order_by("id")
                      .values_list("place_id", "name")):
        heads.setdefault(pid, name)
    accounts = dict(Account.objects.filter(kind=AccountKind.HOUSEHOLD, village=village)
                    .values_list("household_id", "pk"))

    wb = Workbook()
    ws = wb.active
    ws.title = "户积分"
    ws.append(HOUSEHOLD_HEADERS)
    grid_totals: dict[int | None, dict[str, int]] = {}
    zero = {"opening": 0, "earned": 0, "redeemed": 0, "closing": 0, "expired": 0, "carried": 0}
    totals = dict(zero)
    for h in households:
        f = figures.get(accounts.get(h.pk), zero)
        head = heads.get(h.pk, "")
        ws.append((grids.get(h.grid_id, ""), doors.get(h.pk) or h.name,
                   head if full_names else mask_name(head), f["opening"], f["earned"],
                   f["redeemed"], f["closing"], f["expired"], f["carried"],
                   stars_for(f["earned"], stars_policy)))
        g = grid_totals.setdefault(h.grid_id, {"households": 0, **zero})
        g["households"] += 1
        for key in zero:
            g[key] += f[key]
            totals[key] += f[key]
    ws.append(("合计", f"{len(households)} 户", "", totals["opening"], totals["earned"],
               totals["redeemed"], totals["closing"], totals["expired"], totals["carried"], ""))

    gs = wb.create_sheet("网格汇总")
    gs.append(("网格", "户数", "全年得分", "户均得分", "兑换", "年末余额", "年末清零"))
    for grid_id, g in grid_totals.items():
        gs.append((grids.get(grid_id, "—"), g["households"], g["earned"],
                   round(g["earned"] / g["households"], 2) if g["households"] else 0,
                   g["redeemed"], g["closing"], g["expired"]))

    version = current_version(village)
    people = list(Account.objects.filter(kind=AccountKind.PERSON, village=village)
                  .select_related("person").order_by("klass", "pk"))
    if people:
        ps = wb.create_sheet("个人积分")
        ps.append(("类别", "姓名", "全年得分", "年末余额", "年末清零"))
        for a in people:
            f = figures.get(a.pk, zero)
            ps.append((version.class_label(a.klass) if version else a.klass,
                       a.person.name if full_names else mask_name(a.person.name),
                       f["earned"], f["closing"], f["expired"]))

    closed = YearClose.objects.filter(village=village, year=year).first()
    info = wb.create_sheet("说明")
    info.append(("村（社区）", village.full_name()))
    info.append(("年度", year))
    info.append(("年末政策", "年末清零" if policy["year_end"] == "expire" else "结转下年"))
    info.append(("核算状态", timezone.localtime(closed.closed_at).strftime("%Y-%m-%d") + " 已核算"
                 if closed else "未核算"))
    info.append(("全年得分合计", totals["earned"]))
    info.append(("导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")))
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    wb.save(buffer)
    with transaction.atomic():
        record("points.year.export", actor=acting_user, obj=village, county_id=village.county_id,
               object_repr=_("%(v)s %(y)d年度积分台账") % {"v": village.name, "y": year},
               after={"year": year, "households": len(households)})
    return buffer.getvalue()
