"""Every write of 大走访: record a visit, turn a need into a matter, set the weekly quota.

Views, the API and commands all call these; each is atomic, checks its preconditions and the
acting user's permission, and writes the audit event.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.roles import Role
from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.actions import do_raise_matter
from gongzhi.matters.models import Category, Channel, Ledger, Matter, Urgency
from gongzhi.places.models import Household, Person, Place, PlaceKind, Relation

from .access import recording_grant
from .models import Visit, VisitKind, VisitMatter, VisitPhoto, VisitQuota

PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
MAX_PHOTOS = 9
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_NOTES = 4000
OLDEST_DAYS = 366  # a visit may be entered late, but not more than a year after


# ---------------------------------------------------------------------------------------------
# Recording a visit


@transaction.atomic
def do_record_visit(
    household: Household,
    *,
    acting_user,
    kind: str = VisitKind.ROUTINE,
    visited_on: dt.date | None = None,
    met: Iterable[Person | int] = (),
    nobody_home: bool = False,
    notes: str = "",
    photos: list | None = None,
    need: dict[str, Any] | None = None,
) -> Visit:
    """Record that ``acting_user`` visited ``household`` on ``visited_on`` (default today).

    ``met`` are members of the household the visitor spoke with; ``nobody_home`` says no one
    was in (one or the other is required). ``need``, when given, is raised as a matter linked
    to the visit in the same transaction (the arguments of :func:`do_raise_visit_matter`).
    """
    place = household.place
    if not has_permission(acting_user, "visits.record", place):
        raise ActionForbidden(_("您没有走访这户的权限。"))
    today = timezone.localdate()
    visited_on = visited_on or today
    if visited_on > today:
        raise ActionError(_("走访日期不能晚于今天。"))
    if visited_on < today - dt.timedelta(days=OLDEST_DAYS):
        raise ActionError(_("只能补录一年以内的走访。"))
    if kind not in VisitKind.values:
        raise ActionError(_("请选择走访类型。"))
    ids = {m.pk if isinstance(m, Person) else int(m) for m in met}
    people = list(Person.objects.filter(pk__in=ids, household_id=place.pk, is_active=True))
    if len(people) != len(ids):
        raise ActionError(_("所选的人员不是这户的在册成员。"))
    if nobody_home and people:
        raise ActionError(_("已勾选“无人在家”，就不能再选择见到的人。"))
    if not nobody_home and not people:
        raise ActionError(_("请选择见到了哪位家庭成员，或勾选“无人在家”。"))
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ActionError(_("需求和意见不能超过4000个字。"))
    grant = recording_grant(acting_user, place)
    visit = Visit(visitor=acting_user, visitor_role=grant.role if grant else "",
                  visitor_place_id=grant.place_id if grant else None, visited_on=visited_on,
                  kind=kind, nobody_home=nobody_home, notes=notes)
    visit.set_place(place)
    visit.save(force_insert=True)
    if people:
        visit.met.set(people)
    saved = attach_photos(visit, photos or [], acting_user=acting_user)
    record("visits.visit.record", actor=acting_user, obj=visit,
           after={"household": place.pk, "visited_on": visited_on, "kind": kind,
                  "met": sorted(p.pk for p in people), "nobody_home": nobody_home,
                  "photos": len(saved), "role": visit.visitor_role,
                  "role_place": visit.visitor_place_id})
    if need:
        do_raise_visit_matter(visit, acting_user=acting_user, **need)
    return visit


def attach_photos(visit: Visit, uploads: list, *, acting_user) -> list[VisitPhoto]:
    """Store the visit's photos after checking type and size (called inside an action)."""
    if len(uploads) > MAX_PHOTOS:
        raise ActionError(_("一次最多上传 %(n)d 张照片。") % {"n": MAX_PHOTOS})
    saved = []
    for upload in uploads:
        name = getattr(upload, "name", "photo")
        ctype = getattr(upload, "content_type", None) or mimetypes.guess_type(name)[0] or ""
        if ctype not in PHOTO_TYPES:
            raise ActionError(_("%(n)s 不是照片。请上传 JPG、PNG 或 WebP 图片。") % {"n": name})
        if upload.size > MAX_PHOTO_BYTES:
            raise ActionError(_("照片 %(n)s 超过 10MB。") % {"n": name})
        head = upload.read(16)
        upload.seek(0)
        if not _looks_like_image(head):
            raise ActionError(_("照片 %(n)s 不是有效的图片。") % {"n": name})
        saved.append(VisitPhoto.objects.create(
            visit=visit, file=upload, name=name[:120], content_type=ctype, size=upload.size,
            uploaded_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        ))
    return saved


def _looks_like_image(head: bytes) -> bool:
    return (head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG")
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") or head[:3] == b"GIF")


# ---------------------------------------------------------------------------------------------
# A need heard on the visit becomes a matter


def default_reporter(visit: Visit) -> Person | None:
    """The person met who speaks for the household: the head if met, else the first met."""
    met = sorted(visit.met.all(), key=lambda p: (p.relation != Relation.HEAD, p.pk))
    return met[0] if met else None


@transaction.atomic
def do_raise_visit_matter(
    visit: Visit,
    *,
    acting_user,
    title: str,
    text: str = "",
    ledger: str = Ledger.CLAIM,
    category: Category | None = None,
    urgency: str = Urgency.NORMAL,
    reporter_person: Person | None = None,
) -> Matter:
    """Raise what was heard on ``visit`` as a matter (channel 入户走访, at the household, the
    person met as reporter) and link the two. The matter's text defaults to the visit's
    notes. Needs ``visits.record`` at the household (or to be the visitor) and
    ``matters.raise`` there (checked by :func:`do_raise_matter`)."""
    place = Place.objects.get(pk=visit.place_id)
    if not (visit.visitor_id == getattr(acting_user, "pk", None)
            or has_permission(acting_user, "visits.record", place)):
        raise ActionForbidden(_("您不能为这次走访登记事项。"))
    if reporter_person is None:
        reporter_person = default_reporter(visit)
    elif not visit.met.filter(pk=reporter_person.pk).exists():
        raise ActionError(_("反映人应是这次走访见到的人。"))
    matter = do_raise_matter(
        place=place, title=title, text=(text or "").strip() or visit.notes, channel=Channel.VISIT,
        ledger=ledger, category=category, urgency=urgency, reporter_person=reporter_person,
        reporter_name=reporter_person.name if reporter_person else "",
        acting_user=acting_user, attributes={"visit": visit.pk},
    )
    VisitMatter.objects.create(
        visit=visit, matter=matter,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None)
    record("visits.visit.raise_matter", actor=acting_user, obj=visit,
           after={"matter": matter.pk, "tracking_code": matter.tracking_code,
                  "ledger": ledger, "reporter_person": getattr(reporter_person, "pk", None)})
    return matter


# ---------------------------------------------------------------------------------------------
# The weekly quota


@transaction.atomic
def do_set_visit_quota(county: Place, role: str, per_week: int, *, acting_user,
                       place: Place | None = None) -> VisitQuota:
    """Set how many households a cadre of ``role`` visits each week under ``place`` (the
    whole county when None). 0 means no quota there."""
    if county.kind != PlaceKind.COUNTY:
        raise ActionError(_("走访任务量只能按县（区）设置。"))
    if place is not None and place.county_id != county.pk:
        raise ActionError(_("所选地点不属于本县（区）。"))
    if not has_permission(acting_user, "visits.configure", place or county):
        raise ActionForbidden(_("您没有设置走访任务量的权限。"))
    if role not in Role.values:
        raise ActionError(_("未知的角色。"))
    if place is not None and place.kind == PlaceKind.HOUSEHOLD:
        raise ActionError(_("走访任务量不能按户设置。"))
    try:
        per_week = int(per_week)
    except (TypeError, ValueError):
        raise ActionError(_("每周走访户数应是0到50之间的整数。")) from None
    if not 0 <= per_week <= 50:
        raise ActionError(_("每周走访户数应是0到50之间的整数。"))
    quota = VisitQuota.objects.select_for_update().filter(
        county=county, role=role, place=place).order_by("pk").first()
    before = None if quota is None else {"per_week": quota.per_week}
    if quota is None:
        quota = VisitQuota.objects.create(county=county, role=role, place=place,
                                          per_week=per_week, updated_by=_user(acting_user))
    else:
        quota.per_week, quota.updated_by, quota.updated_at = (per_week, _user(acting_user),
                                                              timezone.now())
        quota.save(update_fields=["per_week", "updated_by", "updated_at"])
    record("visits.quota.set", actor=acting_user, obj=quota, county_id=county.pk, before=before,
           after={"role": role, "place": getattr(place, "pk", None), "per_week": per_week})
    return quota


@transaction.atomic
def do_remove_visit_quota(quota: VisitQuota, *, acting_user) -> None:
    """Remove a quota row: the one above it (or the default) applies again."""
    where = quota.place or Place.objects.get(pk=quota.county_id)
    if not has_permission(acting_user, "visits.configure", where):
        raise ActionForbidden(_("您没有设置走访任务量的权限。"))
    before = {"role": quota.role, "place": quota.place_id, "per_week": quota.per_week}
    record("visits.quota.remove", actor=acting_user, obj=quota, county_id=quota.county_id,
           before=before)
    quota.delete()


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None
