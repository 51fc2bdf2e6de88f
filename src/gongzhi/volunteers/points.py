"""Volunteer hours become points through the points app — its rule book, caps and ledger; there
is no second ledger.

The rule book that applies to the participant's household (the nearest up the tree) holds the
item coded :data:`HOURS_CODE` ("志愿服务时长（每小时）", N points an hour, with its cap per
month, quarter or year). Confirming an activity's hours posts, for each participant with hours
and a household, one approved deed (``Claim``, channel 采集员记录, reviewed by the organiser who
confirmed) and its ledger transaction, keyed ``volunteer:<sign-up id>`` so it posts once. The
points are ``minutes × N ÷ 60`` rounded down, cut to what the cap leaves. Without a rule book,
without the item, or with the cap used up, nothing posts and the sign-up says why.

Called only from :func:`gongzhi.volunteers.actions.do_confirm_hours`, inside its transaction.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.places.models import Place
from gongzhi.points import ledger
from gongzhi.points.actions import cap_use
from gongzhi.points.models import Claim, ClaimChannel, ClaimStatus, RuleItem, TxnKind
from gongzhi.points.rules import current_version

from .models import Activity, Signup

HOURS_CODE = "VH"


def hours_rule(household: Place) -> RuleItem | None:
    version = current_version(household)
    if version is None:
        return None
    rule = version.items.filter(code=HOURS_CODE, klass="household").first()
    return rule if rule is not None and rule.points > 0 else None


def _day(activity: Activity, village_id: int) -> date:
    """The activity's day, or today when that month is already closed."""
    day = timezone.localtime(activity.starts_at).date()
    if ledger.month_closed(village_id, day):
        return timezone.localdate()
    return day


def post_hours(signup: Signup, activity: Activity, *, acting_user) -> None:
    """Post ``signup``'s confirmed hours as points (sets ``points``/``points_note``/``claim``
    on the sign-up; the caller saves it)."""
    if signup.claim_id is not None:  # posted before: never twice
        return
    household = signup.household
    if not signup.minutes:
        signup.points, signup.points_note = 0, _("没有服务时长，不记积分。")
        return
    if household is None or not household.village_id:
        signup.points, signup.points_note = 0, _("不是本地居民户，不记积分。")
        return
    rule = hours_rule(household)
    if rule is None:
        signup.points, signup.points_note = 0, _("本地积分细则没有“志愿服务时长”项目，不记积分。")
        return
    account = ledger.household_account(household)
    ledger.lock_accounts([account.pk])
    day = _day(activity, household.village_id)
    points = signup.minutes * rule.points // 60
    if rule.cap_period:
        used_count, used_points = cap_use(account, rule, day, include_pending=True)
        if rule.cap_count is not None and used_count >= rule.cap_count:
            points = 0
        if rule.cap_points is not None:
            points = min(points, max(rule.cap_points - used_points, 0))
    if points <= 0:
        signup.points, signup.points_note = 0, _("已达积分细则的上限或时长不足一小时，不记积分。")
        return
    reviewer = acting_user if getattr(acting_user, "is_authenticated", False) else None
    claim = Claim(account=account, rule=rule, points=points, occurred_on=day,
                  location=activity.address[:200],
                  reason=_("志愿服务：%(title)s，%(hours)s 小时。") % {
                      "title": activity.title, "hours": signup.hours},
                  channel=ClaimChannel.RECORDED, status=ClaimStatus.APPROVED,
                  created_by=reviewer, reviewed_by=reviewer, reviewed_at=timezone.now(),
                  review_reason=_("志愿服务时长经组织者确认。"), posted_points=points)
    claim.set_place(household)
    claim.save(force_insert=True)
    village = Place.objects.get(pk=household.village_id)
    txn = ledger.post(kind=TxnKind.AWARD,
                      lines=[(account, points), (ledger.pool_account(village), -points)],
                      memo=f"{rule.code} {rule.description} {activity.title}",
                      key=f"volunteer:{signup.pk}", posted_on=day, place=household,
                      source=f"volunteer:{signup.pk}", acting_user=acting_user)
    claim.transaction = txn
    claim.save(update_fields=["transaction"])
    signup.points, signup.points_note, signup.claim = points, "", claim
