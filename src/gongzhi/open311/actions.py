"""Every write of the Open311 app: a request posted by an app, the questions, the app keys."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.actions import do_raise_matter
from gongzhi.matters.models import Category, Channel, Ledger, Matter
from gongzhi.places.models import Place, PlaceKind

from .models import LIST_TYPES, AppKey, Datatype, ServiceQuestion, ServiceRequest, hash_key
from .service import attributes_by_category, parse_w3

CODE_RE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")
NEAR_KM = 3.0
PLACE_KINDS = (PlaceKind.VILLAGE, PlaceKind.GRID, PlaceKind.BUILDING, PlaceKind.HOUSEHOLD)


# ---------------------------------------------------------------------------------------------
# App keys


def find_key(raw: str | None, county: Place) -> AppKey | None:
    """The active key of ``county`` matching ``raw`` (None if missing, unknown or revoked)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    return AppKey.objects.filter(key_hash=hash_key(raw), county=county,
                                 revoked_at__isnull=True).first()


def _check_configure(county: Place, acting_user) -> None:
    if acting_user is not None and not has_permission(acting_user, "open311.configure", county):
        raise ActionForbidden(_("您没有配置 Open311 接口的权限。"))


@transaction.atomic
def do_create_key(county: Place, name: str, *, acting_user) -> tuple[AppKey, str]:
    """Issue an ``api_key`` to an app for ``county``; the key is shown once, only its hash kept."""
    if county.kind != PlaceKind.COUNTY:
        raise ActionError(_("应用密钥按县（区）签发。"))
    _check_configure(county, acting_user)
    name = (name or "").strip()
    if not name:
        raise ActionError(_("请填写应用名称。"))
    if len(name) > 80:
        raise ActionError(_("应用名称不能超过80个字。"))
    raw = AppKey.generate()
    key = AppKey(name=name, prefix=raw[:12], key_hash=hash_key(raw),
                 created_by=acting_user if getattr(acting_user, "is_authenticated", False)
                 else None)
    key.set_place(county)
    key.save()
    record("open311.key.create", actor=acting_user, obj=key, county_id=county.pk,
           after={"name": name, "prefix": key.prefix})
    return key, raw


@transaction.atomic
def do_revoke_key(key: AppKey, *, acting_user) -> AppKey:
    key = AppKey.objects.select_for_update().get(pk=key.pk)
    _check_configure(key.county, acting_user)
    if key.revoked_at is not None:
        raise ActionError(_("该密钥已经停用。"))
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    record("open311.key.revoke", actor=acting_user, obj=key, county_id=key.county_id,
           after={"prefix": key.prefix})
    return key


# ---------------------------------------------------------------------------------------------
# Questions (Open311 attributes)


def _clean_values(datatype: str, values: list[dict[str, str]] | None) -> list[dict[str, str]]:
    if datatype not in LIST_TYPES:
        return []
    cleaned, keys = [], set()
    for v in values or []:
        key, name = str(v.get("key", "")).strip(), str(v.get("name", "")).strip()
        if not key or not name:
            raise ActionError(_("每个选项都要有编码和名称。"))
        if key in keys:
            raise ActionError(_("选项编码“%(k)s”重复。") % {"k": key})
        keys.add(key)
        cleaned.append({"key": key, "name": name})
    if not cleaned:
        raise ActionError(_("单选或多选题至少要有一个选项。"))
    return cleaned


@transaction.atomic
def do_save_question(category: Category, *, code: str, datatype: str, description: str,
                     acting_user, required: bool = False, variable: bool = True,
                     datatype_description: str = "", order: int = 1,
                     values: list[dict[str, str]] | None = None,
                     is_active: bool = True) -> ServiceQuestion:
    """Add a question to a category, or change the one with the same code."""
    county = category.county
    _check_configure(county, acting_user)
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise ActionError(_("问题编码只能含字母、数字、下划线和连字符，不超过40个字符。"))
    if datatype not in Datatype.values:
        raise ActionError(_("未知的问题类型。"))
    description = (description or "").strip()
    if not description:
        raise ActionError(_("请填写问题。"))
    if len(description) > 200 or len(datatype_description or "") > 200:
        raise ActionError(_("问题和填写说明都不能超过200个字。"))
    if not isinstance(order, int) or order < 1:
        raise ActionError(_("顺序须是正整数。"))
    values = _clean_values(datatype, values)
    question = ServiceQuestion.objects.select_for_update().filter(category=category,
                                                                  code=code).first()
    before = None
    if question is None:
        question = ServiceQuestion(category=category, code=code)
        question.set_place(county)
    else:
        before = question.as_attribute() | {"is_active": question.is_active}
    question.datatype = datatype
    question.description = description
    question.datatype_description = (datatype_description or "").strip()
    question.required = bool(required)
    question.variable = bool(variable)
    question.order = order
    question.values = values
    question.is_active = bool(is_active)
    question.save()
    record("open311.question.save", actor=acting_user, obj=question, county_id=county.pk,
           before=before, after=question.as_attribute() | {"is_active": question.is_active,
                                                            "category": category.code})
    return question


# ---------------------------------------------------------------------------------------------
# A request posted by an app


def clean_attributes(category: Category, given: dict[str, list[str]]) -> dict[str, Any]:
    """Check the answers against the service definition: required ones present, list values
    among the options, numbers and times well-formed. Unknown codes are refused."""
    attrs = {a["code"]: a for a in attributes_by_category([category])[category.pk]}
    problems: list[str] = []
    unknown = sorted(set(given) - set(attrs))
    if unknown:
        problems.append(_("未知的补充信息：%(c)s。") % {"c": "、".join(unknown)})
    out: dict[str, Any] = {}
    for code, a in attrs.items():
        values = [v.strip() for v in given.get(code, []) if v is not None and v.strip()]
        if not a["variable"]:
            continue
        if not values:
            if a["required"]:
                problems.append(_("请填写“%(q)s”（attribute[%(c)s]）。")
                                % {"q": a["description"], "c": code})
            continue
        keys = {v["key"] for v in a["values"]}
        dtype = a["datatype"]
        if dtype == Datatype.MULTI:
            bad = [v for v in values if v not in keys]
            if bad:
                problems.append(_("“%(q)s”的选项不在可选范围内：%(v)s。")
                                % {"q": a["description"], "v": "、".join(bad)})
            out[code] = values
            continue
        if len(values) > 1:
            problems.append(_("“%(q)s”只能填写一个值。") % {"q": a["description"]})
            continue
        value = values[0]
        if dtype == Datatype.SINGLE and value not in keys:
            problems.append(_("“%(q)s”的选项不在可选范围内：%(v)s。")
                            % {"q": a["description"], "v": value})
        elif dtype == Datatype.NUMBER:
            try:
                number = Decimal(value)
                if not number.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                problems.append(_("“%(q)s”须填写数字。") % {"q": a["description"]})
        elif dtype == Datatype.DATETIME:
            try:
                value = parse_w3(code, value).isoformat()
            except Exception:
                problems.append(_("“%(q)s”须填写日期时间（ISO 8601）。") % {"q": a["description"]})
        elif dtype == Datatype.STRING and ("\n" in value or "\r" in value):
            problems.append(_("“%(q)s”不能换行。") % {"q": a["description"]})
        if len(value) > 1000:
            problems.append(_("“%(q)s”不能超过1000个字。") % {"q": a["description"]})
        out[code] = value
    if problems:
        raise ActionError(" ".join(problems))
    return out


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def locate(county: Place, *, lat: float | None, long: float | None, address_string: str,
           address_id: str) -> Place:
    """The place a request is about: the place named by ``address_id`` (its id or code), a
    village or grid named in ``address_string``, the nearest village or grid within 3 km of
    ``lat``/``long``, a town named in the address, or else the county (its intake queue)."""
    under = Place.objects.filter(county=county, is_active=True)
    if address_id:
        q = under.filter(kind__in=PLACE_KINDS)
        found = (q.filter(pk=int(address_id)).first() if address_id.isdigit() else None) or (
            q.filter(code=address_id).first())
        if found is not None:
            return found
    named = []
    if address_string:
        named = sorted((p for p in under.filter(kind__in=(PlaceKind.TOWN, PlaceKind.VILLAGE,
                                                          PlaceKind.GRID))
                        if len(p.name) >= 2 and p.name in address_string),
                       key=lambda p: (p.level, len(p.name)), reverse=True)
        if named and named[0].kind != PlaceKind.TOWN:
            return named[0]
    if lat is not None and long is not None:
        best, best_km = None, NEAR_KM
        for p in under.filter(kind__in=(PlaceKind.VILLAGE, PlaceKind.GRID),
                              latitude__isnull=False, longitude__isnull=False):
            km = _distance_km(lat, long, p.latitude, p.longitude)
            if km < best_km or (best is not None and km == best_km and p.level > best.level):
                best, best_km = p, km
        if best is not None:
            return best
    if named:
        return named[0]
    return county


def _coordinate(name: str, value: str, low: float, high: float) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        raise ActionError(_("%(n)s 不是有效的 WGS84 坐标。") % {"n": name})
    return number


def _title(category: Category, description: str) -> str:
    first = (description.strip().splitlines() or [""])[0].strip()
    if not first:
        return category.name
    return first if len(first) <= 40 else first[:39] + "…"


@transaction.atomic
def do_submit_request(key: AppKey, category: Category, data: dict[str, str],
                      attributes: dict[str, list[str]]) -> tuple[Matter, ServiceRequest]:
    """A request posted by an app: a matter raised with channel "Open311 app" through
    ``do_raise_matter``, and what the app sent kept beside it. No user acts: the key is the
    caller (recorded in the audit event)."""
    county = key.county
    if category.county_id != county.pk:
        raise ActionError(_("该服务不属于本县区。"))
    lat = _coordinate("lat", data.get("lat", ""), -90, 90)
    long = _coordinate("long", data.get("long", ""), -180, 180)
    if (lat is None) != (long is None):
        raise ActionError(_("lat 和 long 须同时提供。"))
    address_string = (data.get("address_string") or "").strip()
    address_id = (data.get("address_id") or "").strip()
    if lat is None and not address_string and not address_id:
        raise ActionError(_("请提供位置：lat 和 long，或 address_string，或 address_id。"))
    if len(address_string) > 300 or len(address_id) > 64:
        raise ActionError(_("地址过长。"))
    description = (data.get("description") or "").strip()
    if len(description) > 4000:
        raise ActionError(_("description 不能超过4000个字。"))
    email = (data.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ActionError(_("email 格式不正确。")) from exc
    media_url = (data.get("media_url") or "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError as exc:
            raise ActionError(_("media_url 须是 http 或 https 网址。")) from exc
    first, last = (data.get("first_name") or "").strip(), (data.get("last_name") or "").strip()
    for field in ("device_id", "account_id"):
        if len(data.get(field) or "") > 120:
            raise ActionError(_("%(f)s 过长。") % {"f": field})
    if len(first) > 30 or len(last) > 30:
        raise ActionError(_("姓名过长。"))
    answers = clean_attributes(category, attributes)
    place = locate(county, lat=lat, long=long, address_string=address_string,
                   address_id=address_id)
    ascii_name = (first + last).isascii()
    name = " ".join(x for x in (first, last) if x) if ascii_name else last + first
    phone = (data.get("phone") or "").strip()
    text = description or _("（未填写描述）")
    if address_string:
        text += "\n" + _("位置：%(a)s") % {"a": address_string}
    matter = do_raise_matter(
        place=place, title=_title(category, description), text=text, channel=Channel.OPEN311,
        ledger=Ledger.CLAIM, acting_user=None, category=category, reporter_name=name[:60],
        reporter_phone=phone, is_anonymous=not (name or phone), attributes=answers,
    )
    request = ServiceRequest.objects.create(
        matter=matter, county=county, app_key=key, service_code=category.code, lat=lat,
        long=long, address_string=address_string, address_id=address_id, email=email,
        device_id=(data.get("device_id") or "").strip(),
        account_id=(data.get("account_id") or "").strip(), first_name=first, last_name=last,
        phone=phone, media_url=media_url,
    )
    AppKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    record("open311.request.create", actor=None, obj=request, county_id=county.pk,
           object_type="open311.servicerequest", object_id=matter.pk,
           after={"key": key.prefix, "app": key.name, "service_code": category.code,
                  "place": place.pk, "matter": matter.pk})
    return matter, request
