"""三务公开: disclosure items of 党务, 村务 and 财务, the legal rhythm, and the reminders.

The rhythm is a county's policy (:class:`~gongzhi.meetings.models.DisclosurePolicy`); a county
without a row has the defaults of 村民委员会组织法 (§30): 村务 at least every quarter, 财务 every
month (where the village's accounts are busy), 党务 every quarter; items are due within
``due_days`` (10) days after their period ends, so a month's 财务 by the 10th of the next month.
Major items (``is_major``) are published at once, outside the rhythm.

Every item is published when it is created (``published_at``): an item is the act of 公开.

Coverage of a period (per village and domain) comes from the published routine (non-major)
items whose own period overlaps it:

- ``covered``: the first such item was published by the due date;
- ``late``: it was published, after the due date;
- ``due``: the period has ended, nothing is published yet, the due date has not passed;
- ``overdue``: the due date has passed with nothing published;
- ``open``: the period has not ended yet and nothing is published (nothing is owed yet).

Periods that ended before the village was registered in gongzhi are not owed and not shown.

:func:`remind_disclosures` (the task :func:`disclosure_reminders_task`, the command
``gongzhi disclosures remind``) tells each village's secretaries once when the last ended
period of a domain is due and once when it is overdue; running it again sends nothing new.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.models import RoleGrant
from gongzhi.accounts.roles import Role
from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.notifications.models import Notification
from gongzhi.notifications.outbox import notify
from gongzhi.places.models import Place, PlaceKind

from .models import (
    Disclosure,
    DisclosureDomain,
    DisclosurePolicy,
    DisclosureRhythm,
    Meeting,
    MeetingStatus,
)

PERMISSION = "meetings.disclose"
DEFAULT_DUE_DAYS = 10
MAX_PERIOD_DAYS = 366

# The rhythms the law leaves a locality to choose from, per domain (村务 at least quarterly;
# 财务 monthly where busy, else at least quarterly; 党务 is the party's own rule).
ALLOWED_RHYTHMS = {
    DisclosureDomain.PARTY: (DisclosureRhythm.MONTH, DisclosureRhythm.QUARTER,
                             DisclosureRhythm.YEAR),
    DisclosureDomain.VILLAGE: (DisclosureRhythm.MONTH, DisclosureRhythm.QUARTER),
    DisclosureDomain.FINANCE: (DisclosureRhythm.MONTH, DisclosureRhythm.QUARTER),
}

STATUS_LABELS = {
    "covered": gettext_lazy("已按期公开"),
    "late": gettext_lazy("逾期后已公开"),
    "due": gettext_lazy("待公开"),
    "overdue": gettext_lazy("逾期未公开"),
    "open": gettext_lazy("本期进行中"),
}


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


# ---------------------------------------------------------------------------------------------
# The rhythm


@dataclass(frozen=True)
class Rhythm:
    """A county's rhythm: ``by_domain`` maps party/village/finance to month/quarter/year."""

    by_domain: dict[str, str]
    due_days: int

    def of(self, domain: str) -> str:
        return self.by_domain[domain]


DEFAULT_RHYTHM = Rhythm({DisclosureDomain.PARTY: DisclosureRhythm.QUARTER,
                         DisclosureDomain.VILLAGE: DisclosureRhythm.QUARTER,
                         DisclosureDomain.FINANCE: DisclosureRhythm.MONTH}, DEFAULT_DUE_DAYS)


def _rhythm_of(row: DisclosurePolicy | None) -> Rhythm:
    if row is None:
        return DEFAULT_RHYTHM
    return Rhythm({DisclosureDomain.PARTY: row.party, DisclosureDomain.VILLAGE: row.village,
                   DisclosureDomain.FINANCE: row.finance}, row.due_days)


def disclosure_rhythm(county_id: int) -> Rhythm:
    return _rhythm_of(DisclosurePolicy.objects.filter(county_id=county_id).first())


def rhythms_for(county_ids: Iterable[int]) -> dict[int, Rhythm]:
    ids = set(county_ids)
    rows = {p.county_id: p for p in DisclosurePolicy.objects.filter(county_id__in=ids)}
    return {cid: _rhythm_of(rows.get(cid)) for cid in ids}


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_containing(day: dt.date, rhythm: str) -> tuple[dt.date, dt.date]:
    """The calendar month, quarter or year that contains ``day``."""
    if rhythm == DisclosureRhythm.MONTH:
        return day.replace(day=1), _last_day(day.year, day.month)
    if rhythm == DisclosureRhythm.QUARTER:
        first = 3 * ((day.month - 1) // 3) + 1
        return dt.date(day.year, first, 1), _last_day(day.year, first + 2)
    return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)


def previous_period(day: dt.date, rhythm: str) -> tuple[dt.date, dt.date]:
    start, _end = period_containing(day, rhythm)
    return period_containing(start - dt.timedelta(days=1), rhythm)


def period_label(start: dt.date, rhythm: str) -> str:
    if rhythm == DisclosureRhythm.MONTH:
        return _("%(y)d年%(m)d月") % {"y": start.year, "m": start.month}
    if rhythm == DisclosureRhythm.QUARTER:
        return _("%(y)d年第%(q)d季度") % {"y": start.year, "q": (start.month - 1) // 3 + 1}
    return _("%(y)d年") % {"y": start.year}


def due_date(end: dt.date, rhythm: Rhythm) -> dt.date:
    return end + dt.timedelta(days=rhythm.due_days)


# ---------------------------------------------------------------------------------------------
# Actions


def _village_of(place: Place) -> Place:
    if place.kind == PlaceKind.VILLAGE:
        return place
    if place.village_id:
        return Place.objects.get(pk=place.village_id)
    raise ActionError(_("三务公开须发布在村（社区）。"))


def check_sunshine_meeting(meeting: Meeting, village: Place) -> None:
    """A sunshine report meeting of this village that took place (or is taking place)."""
    from .sunshine import is_sunshine_meeting

    if not is_sunshine_meeting(meeting):
        raise ActionError(_("只能关联三务三资阳光报告会。"))
    if meeting.village_id != village.pk:
        raise ActionError(_("报告会不属于该村（社区）。"))
    if meeting.status == MeetingStatus.CANCELLED:
        raise ActionError(_("报告会已取消。"))


@transaction.atomic
def do_publish_disclosure(place: Place, *, acting_user, domain: str, title: str, content: str,
                          period_start: dt.date | None = None, period_end: dt.date | None = None,
                          is_major: bool = False, meeting: Meeting | None = None) -> Disclosure:
    """Publish a 三务公开 item of a village for a period (a major item at once, for today
    unless a period is given); ``meeting`` is the sunshine report meeting it was reported at."""
    village = _village_of(place)
    if not has_permission(acting_user, PERMISSION, village):
        raise ActionForbidden(_("您没有在该村（社区）发布三务公开的权限。"))
    if domain not in DisclosureDomain.values:
        raise ActionError(_("请选择公开类别：党务、村务或财务。"))
    title, content = (title or "").strip(), (content or "").strip()
    if not title:
        raise ActionError(_("请填写公开事项的标题。"))
    if len(title) > 120:
        raise ActionError(_("标题不能超过120个字。"))
    if not content:
        raise ActionError(_("请填写公开的内容。"))
    today = timezone.localdate()
    if is_major and period_start is None and period_end is None:
        period_start = period_end = today
    if period_start is None or period_end is None:
        raise ActionError(_("请填写公开内容所属的期间。"))
    if period_start > period_end:
        raise ActionError(_("所属期间的开始日期不能晚于结束日期。"))
    if period_start > today:
        raise ActionError(_("不能公开尚未开始的期间。"))
    if (period_end - period_start).days > MAX_PERIOD_DAYS:
        raise ActionError(_("所属期间不能超过一年。"))
    if meeting is not None:
        check_sunshine_meeting(meeting, village)
    item = Disclosure(domain=domain, title=title, content=content, period_start=period_start,
                      period_end=period_end, is_major=is_major, meeting=meeting,
                      published_at=timezone.now(), created_by=_user(acting_user))
    item.set_place(village)
    item.save()
    record("meetings.disclosure.publish", actor=acting_user, obj=item,
           after={"domain": domain, "period_start": period_start, "period_end": period_end,
                  "is_major": is_major, "meeting": meeting.pk if meeting else None})
    return item


@transaction.atomic
def do_report_disclosure_at_meeting(item: Disclosure, meeting: Meeting, *,
                                    acting_user) -> Disclosure:
    """Link a published item to the sunshine report meeting it was reported at."""
    if not has_permission(acting_user, PERMISSION, item.place):
        raise ActionForbidden(_("您没有在该村（社区）发布三务公开的权限。"))
    item = Disclosure.objects.select_for_update().get(pk=item.pk)
    village = Place.objects.get(pk=item.village_id)
    check_sunshine_meeting(meeting, village)
    if item.meeting_id == meeting.pk:
        return item
    if item.meeting_id:
        raise ActionError(_("该公开事项已在另一次报告会上报告。"))
    item.meeting = meeting
    item.save(update_fields=["meeting"])
    record("meetings.disclosure.report", actor=acting_user, obj=item,
           before={"meeting": None}, after={"meeting": meeting.pk})
    return item


@transaction.atomic
def do_set_disclosure_policy(county: Place, *, acting_user, party: str, village: str,
                             finance: str, due_days: int) -> DisclosurePolicy:
    """A county sets its rhythm, within what the law allows (``ALLOWED_RHYTHMS``)."""
    if county.kind != PlaceKind.COUNTY:
        raise ActionError(_("三务公开周期由县（区）设定。"))
    if not has_permission(acting_user, "meetings.manage", county):
        raise ActionForbidden(_("您没有设定本县（区）三务公开周期的权限。"))
    chosen = {DisclosureDomain.PARTY: party, DisclosureDomain.VILLAGE: village,
              DisclosureDomain.FINANCE: finance}
    if chosen[DisclosureDomain.VILLAGE] not in ALLOWED_RHYTHMS[DisclosureDomain.VILLAGE]:
        raise ActionError(_("村务至少每季度公开一次。"))
    if chosen[DisclosureDomain.FINANCE] not in ALLOWED_RHYTHMS[DisclosureDomain.FINANCE]:
        raise ActionError(_("财务至少每季度公开一次，财务往来较多的村应每月公开。"))
    if chosen[DisclosureDomain.PARTY] not in ALLOWED_RHYTHMS[DisclosureDomain.PARTY]:
        raise ActionError(_("请选择党务公开周期：每月、每季度或每年。"))
    if isinstance(due_days, bool) or not isinstance(due_days, int) or not 1 <= due_days <= 31:
        raise ActionError(_("期满后的公开期限须在1到31天之间。"))
    row = DisclosurePolicy.objects.select_for_update().filter(county=county).first()
    before = None
    if row is None:
        row = DisclosurePolicy(county=county)
    else:
        before = {"party": row.party, "village": row.village, "finance": row.finance,
                  "due_days": row.due_days}
    row.party, row.village, row.finance, row.due_days = party, village, finance, due_days
    row.updated_at = timezone.now()
    row.save()
    record("meetings.disclosure.policy", actor=acting_user, obj=row, county_id=county.pk,
           object_repr=county.name, before=before,
           after={"party": party, "village": village, "finance": finance, "due_days": due_days})
    return row


# ---------------------------------------------------------------------------------------------
# Coverage


@dataclass
class PeriodStatus:
    domain: str
    rhythm: str
    start: dt.date
    end: dt.date
    due: dt.date
    status: str
    first_published: dt.date | None = None
    items: list[Disclosure] = field(default_factory=list)

    @property
    def label(self) -> str:
        return period_label(self.start, self.rhythm)

    @property
    def domain_label(self) -> str:
        return str(DisclosureDomain(self.domain).label)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def is_gap(self) -> bool:
        return self.status in ("due", "overdue")


def periods_back(today: dt.date, rhythm: str, count: int) -> list[tuple[dt.date, dt.date]]:
    """The period containing ``today`` and the ``count - 1`` before it, newest first."""
    periods = [period_containing(today, rhythm)]
    while len(periods) < count:
        periods.append(period_containing(periods[-1][0] - dt.timedelta(days=1), rhythm))
    return periods


def status_of(start: dt.date, end: dt.date, due: dt.date, first_published: dt.date | None,
              today: dt.date) -> str:
    """The pure rule (see the module docstring)."""
    if first_published is not None:
        return "covered" if first_published <= due else "late"
    if today <= end:
        return "open"
    return "due" if today <= due else "overdue"


# How many periods the coverage pages show per rhythm: a year back.
SHOWN = {DisclosureRhythm.MONTH: 12, DisclosureRhythm.QUARTER: 4, DisclosureRhythm.YEAR: 2}


def coverage(villages: Iterable[Place], today: dt.date | None = None,
             counts: dict[str, int] | None = None) -> dict[int, dict[str, list[PeriodStatus]]]:
    """Per village and domain, the status of the recent periods (newest first), from one query
    over the published routine items."""
    today = today or timezone.localdate()
    counts = counts or SHOWN
    villages = list(villages)
    rhythms = rhythms_for(v.county_id for v in villages)
    wanted: dict[int, dict[str, list[tuple[dt.date, dt.date]]]] = {}
    earliest = today
    for v in villages:
        r = rhythms[v.county_id]
        wanted[v.pk] = {}
        for domain in DisclosureDomain.values:
            periods = periods_back(today, r.of(domain), counts.get(r.of(domain), 4))
            wanted[v.pk][domain] = periods
            earliest = min(earliest, periods[-1][0])
    items: dict[tuple[int, str], list[Disclosure]] = defaultdict(list)
    for item in (Disclosure.objects.filter(village_id__in=list(wanted), is_major=False,
                                           published_at__isnull=False,
                                           period_end__gte=earliest)
                 .order_by("published_at", "pk")):
        items[(item.village_id, item.domain)].append(item)
    out: dict[int, dict[str, list[PeriodStatus]]] = {}
    for v in villages:
        r = rhythms[v.county_id]
        registered = timezone.localdate(v.created_at) if v.created_at else None
        out[v.pk] = {}
        for domain, periods in wanted[v.pk].items():
            rows = []
            for start, end in periods:
                if registered and end < registered:
                    break  # not owed: it ended before the village was registered here
                hits = [i for i in items[(v.pk, domain)]
                        if i.period_start <= end and i.period_end >= start]
                first = timezone.localdate(hits[0].published_at) if hits else None
                due = due_date(end, r)
                rows.append(PeriodStatus(domain, r.of(domain), start, end, due,
                                         status_of(start, end, due, first, today), first, hits))
            out[v.pk][domain] = rows
    return out


def latest_ended(statuses: list[PeriodStatus], today: dt.date) -> PeriodStatus | None:
    return next((s for s in statuses if s.end < today), None)


# ---------------------------------------------------------------------------------------------
# Reminders


def village_secretaries(village_ids: Iterable[int]) -> dict[int, list]:
    out: dict[int, list] = defaultdict(list)
    for grant in (RoleGrant.objects.filter(place_id__in=list(village_ids),
                                           role=Role.VILLAGE_SECRETARY, is_active=True,
                                           user__is_active=True)
                  .select_related("user").order_by("user_id")):
        if grant.user not in out[grant.place_id]:
            out[grant.place_id].append(grant.user)
    return out


def _reminder(village: Place, status: PeriodStatus) -> tuple[str, str, str]:
    values = {"village": village.name, "domain": status.domain_label, "period": status.label,
              "due": status.due.strftime("%Y-%m-%d")}
    if status.status == "due":
        return ("disclosure_due",
                _("%(village)s%(period)s的%(domain)s公开应在%(due)s前发布。") % values,
                _("请在期限前发布%(period)s的%(domain)s公开事项。") % values)
    return ("disclosure_overdue",
            _("%(village)s%(period)s的%(domain)s公开已逾期（期限%(due)s）。") % values,
            _("%(period)s的%(domain)s公开尚未发布，已超过公开期限，请尽快发布。") % values)


def remind_disclosures(today: dt.date | None = None) -> dict[str, int]:
    """Notify each village's secretaries once per domain when its last ended period is due,
    and once when it is overdue. Idempotent: a notice already given is not given again."""
    today = today or timezone.localdate()
    counts = {"villages": 0, "due": 0, "overdue": 0, "notified": 0}
    villages = list(Place.objects.filter(kind=PlaceKind.VILLAGE, is_active=True).order_by("pk"))
    counts["villages"] = len(villages)
    one_period = {DisclosureRhythm.MONTH: 2, DisclosureRhythm.QUARTER: 2,
                  DisclosureRhythm.YEAR: 2}
    for chunk_start in range(0, len(villages), 500):
        chunk = villages[chunk_start:chunk_start + 500]
        cov = coverage(chunk, today, one_period)
        secretaries = village_secretaries(v.pk for v in chunk)
        for v in chunk:
            users = secretaries.get(v.pk, [])
            for domain in DisclosureDomain.values:
                status = latest_ended(cov[v.pk][domain], today)
                if status is None or not status.is_gap:
                    continue
                counts[status.status] += 1
                if not users:
                    continue
                event, title, body = _reminder(v, status)
                if Notification.objects.filter(event=event, title=title[:200],
                                               user__in=users).count() >= len(users):
                    continue
                with transaction.atomic():
                    notify(event=event, title=title, body=body, users=users,
                           url=reverse("meetings:disclosure_village", args=[v.pk]),
                           county_id=v.county_id,
                           dedupe_key=f"disclosure:{status.status}:{v.pk}:{domain}:"
                                      f"{status.start:%Y%m%d}")
                counts["notified"] += 1
    return counts


@task()
def disclosure_reminders_task(day: str = "") -> dict[str, int]:
    """The periodic reminder run (``day`` as YYYY-MM-DD for a given date; today otherwise)."""
    from gongzhi.core.context import request_context

    with request_context():
        return remind_disclosures(dt.date.fromisoformat(day) if day else None)


def register_public_affairs() -> None:
    """Navigation entries and the periodic reminder run (called from ``apps.py``)."""
    from gongzhi.core.scheduling import register_periodic
    from gongzhi.core.ui import register_nav

    register_nav(gettext_lazy("四议两公开"), "meetings:fourstep_list", "meetings.view", order=42)
    register_nav(gettext_lazy("三务公开"), "meetings:disclosures", "meetings.view", order=43)
    register_periodic(disclosure_reminders_task, minutes=6 * 60)
