"""Every write of 接诉即办: the connection's settings, what the hotline sends us (orders, 催办,
撤单, its 回访 result), 退单, and the hooks that queue what we push back.

Inbound actions run with no acting user: the signature (checked by the view) is the
authority. Outbound messages are written here, in the transaction of the change, and sent
after commit by :func:`gongzhi.hotline.delivery.deliver_hotline_outbox`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters import workflow
from gongzhi.matters.actions import do_raise_matter
from gongzhi.matters.models import (
    Category,
    Channel,
    EventKind,
    Ledger,
    Matter,
    MatterEvent,
    StageKind,
    Urgency,
)
from gongzhi.notifications.outbox import notify
from gongzhi.places.models import Place, PlaceKind
from gongzhi.places.validators import validate_phone

from . import signing
from .models import (
    Classification,
    Connection,
    HotlineOrder,
    OrderStatus,
    OutboundKind,
    OutboundMessage,
)

# 投诉/举报 are complaints (the caller is kept confidential), 求助 a claim, 建议/咨询 suggestions.
LEDGER_OF = {
    Classification.COMPLAINT: Ledger.COMPLAINT,
    Classification.REPORT: Ledger.COMPLAINT,
    Classification.HELP: Ledger.CLAIM,
    Classification.SUGGESTION: Ledger.SUGGESTION,
    Classification.CONSULT: Ledger.SUGGESTION,
}
SATISFACTION_OF = {"满意": "satisfied", "基本满意": "basic", "不满意": "dissatisfied",
                   "satisfied": "satisfied", "basic": "basic", "dissatisfied": "dissatisfied"}
MAX_CONTENT = 5000
MAX_ATTACHMENTS = 20
MAX_REASON = 500


class OrderNotFound(Exception):
    """The order named in an inbound update is not known on this connection."""


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


# ---------------------------------------------------------------------------------------------
# The connection (settings page)


def _check_manage(acting_user, county: Place) -> None:
    if not has_permission(acting_user, "hotline.manage", county):
        raise ActionForbidden(_("您没有配置12345热线对接的权限。"))


def _clean_settings(county: Place, *, name: str, outbound_url: str, default_place: Place | None,
                    category_map: Any) -> dict[str, Any]:
    name = (name or "").strip()
    if not name:
        raise ActionError(_("请填写对接名称。"))
    if len(name) > 80:
        raise ActionError(_("对接名称不能超过80个字。"))
    outbound_url = (outbound_url or "").strip()
    if outbound_url:
        parts = urlsplit(outbound_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ActionError(_("热线接收地址必须是以 http:// 或 https:// 开头的网址。"))
    if default_place is None:
        default_place = county
    if default_place.county_id != county.pk:
        raise ActionError(_("默认承办地点必须在本县（区）内。"))
    if not isinstance(category_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in category_map.items()
    ):
        raise ActionError(_("分类对照必须是“热线分类 → 本地分类编码”的对应表。"))
    known = set(Category.objects.filter(county=county).values_list("code", flat=True))
    unknown = sorted(set(category_map.values()) - known)
    if unknown:
        raise ActionError(_("分类对照中的本地分类编码不存在：%(codes)s。")
                          % {"codes": "、".join(unknown)})
    return {"name": name, "outbound_url": outbound_url, "default_place": default_place,
            "category_map": category_map}


def _settings_snapshot(c: Connection) -> dict[str, Any]:
    return {"name": c.name, "outbound_url": c.outbound_url, "is_active": c.is_active,
            "default_place": c.default_place_id, "category_map": c.category_map}


def secrets_of(connection: Connection) -> dict[str, str]:
    return {"inbound": signing.inbound_secret(connection),
            "outbound": signing.outbound_secret(connection)}


@transaction.atomic
def do_create_connection(county: Place, *, acting_user, name: str, outbound_url: str = "",
                         default_place: Place | None = None,
                         category_map: dict[str, str] | None = None
                         ) -> tuple[Connection, dict[str, str]]:
    """A county's connection to 12345. Returns it with its two secrets, shown this once."""
    if county.kind != PlaceKind.COUNTY:
        raise ActionError(_("12345热线对接只能按县（区）设置。"))
    _check_manage(acting_user, county)
    clean = _clean_settings(county, name=name, outbound_url=outbound_url,
                            default_place=default_place, category_map=category_map or {})
    connection = Connection(**clean)
    connection.set_place(county)
    connection.save(force_insert=True)
    record("hotline.connection.create", actor=acting_user, obj=connection,
           after={**_settings_snapshot(connection), "key": connection.key})
    return connection, secrets_of(connection)


@transaction.atomic
def do_update_connection(connection: Connection, *, acting_user, name: str, outbound_url: str,
                         default_place: Place | None, category_map: dict[str, str],
                         is_active: bool) -> Connection:
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    _check_manage(acting_user, connection.county)
    before = _settings_snapshot(connection)
    clean = _clean_settings(connection.county, name=name, outbound_url=outbound_url,
                            default_place=default_place, category_map=category_map)
    for field, value in clean.items():
        setattr(connection, field, value)
    connection.is_active = bool(is_active)
    connection.save(update_fields=[*clean, "is_active"])
    record("hotline.connection.update", actor=acting_user, obj=connection, before=before,
           after=_settings_snapshot(connection))
    return connection


@transaction.atomic
def do_rotate_secrets(connection: Connection, *, acting_user) -> dict[str, str]:
    """New secrets for both directions (the old ones stop working at once)."""
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    _check_manage(acting_user, connection.county)
    from .models import new_salt

    connection.inbound_salt = new_salt()
    connection.outbound_salt = new_salt()
    connection.secrets_rotated_at = timezone.now()
    connection.save(update_fields=["inbound_salt", "outbound_salt", "secrets_rotated_at"])
    found = secrets_of(connection)
    record("hotline.connection.rotate", actor=acting_user, obj=connection,
           after={"inbound": signing.fingerprint(found["inbound"]),
                  "outbound": signing.fingerprint(found["outbound"])})
    return found


# ---------------------------------------------------------------------------------------------
# Inbound: parsing


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ActionError(_("请求内容不是有效的 UTF-8 JSON。")) from None
    if not isinstance(data, dict):
        raise ActionError(_("请求内容必须是一个 JSON 对象。"))
    return data


def _text(data: dict[str, Any], name: str, *, required: bool = False, limit: int = 200) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ActionError(_("字段 %(f)s 必须是文字。") % {"f": name})
    value = value.strip()
    if required and not value:
        raise ActionError(_("缺少必填字段 %(f)s。") % {"f": name})
    if len(value) > limit:
        raise ActionError(_("字段 %(f)s 不能超过 %(n)d 个字。") % {"f": name, "n": limit})
    return value


def _moment(data: dict[str, Any], name: str) -> dt.datetime | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None or timezone.is_naive(moment):
        raise ActionError(_("字段 %(f)s 必须是带时区的 ISO 8601 时间，例如 "
                            "2025-03-12T10:00:00+08:00。") % {"f": name})
    return moment


def clean_order(data: dict[str, Any]) -> dict[str, Any]:
    """The order's fields, checked; raises :class:`ActionError` naming the first problem."""
    order_id = _text(data, "order_id", required=True, limit=64)
    classification = _text(data, "classification", required=True, limit=4)
    if classification not in Classification.values:
        raise ActionError(_("诉求类型 classification 只能是 咨询、求助、投诉、举报 或 建议。"))
    content = _text(data, "content", required=True, limit=MAX_CONTENT)
    title = _text(data, "title", limit=120) or content[:30]
    caller = data.get("caller") or {}
    if not isinstance(caller, dict):
        raise ActionError(_("字段 caller 必须是对象，包含 name 和 phone。"))
    attachments = data.get("attachments") or []
    if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS or not all(
        isinstance(a, str) and urlsplit(a).scheme in ("http", "https") and len(a) <= 500
        for a in attachments
    ):
        raise ActionError(_("字段 attachments 必须是不超过20个 http(s) 网址的列表。"))
    for flag in ("anonymous", "urgent"):
        if not isinstance(data.get(flag, False), bool):
            raise ActionError(_("字段 %(f)s 必须是 true 或 false。") % {"f": flag})
    return {
        "order_id": order_id, "classification": classification, "title": title,
        "content": content, "category": _text(data, "category", limit=80),
        "caller_name": _text(caller, "name", limit=40),
        "caller_phone": _text(caller, "phone", limit=30),
        "anonymous": data.get("anonymous", False), "urgent": data.get("urgent", False),
        "address": _text(data, "address", limit=200),
        "place_hint": _text(data, "place_hint", limit=120),
        "deadline": _moment(data, "deadline"), "attachments": attachments,
    }


def _resolve_place(connection: Connection, hint: str) -> Place:
    """The place a hint names (a town, village or grid of the county, by code or exact name);
    the connection's default place otherwise."""
    if hint:
        candidates = Place.objects.filter(
            county_id=connection.county_id,
            kind__in=[PlaceKind.TOWN, PlaceKind.VILLAGE, PlaceKind.GRID],
        )
        for field in ("code", "name"):
            found = list(candidates.filter(**{field: hint})[:2])
            if len(found) == 1:
                return found[0]
    return connection.default_place


def _resolve_category(connection: Connection, name: str) -> Category | None:
    if not name:
        return None
    code = connection.category_map.get(name)
    qs = Category.objects.filter(county_id=connection.county_id, is_active=True)
    if code:
        return qs.filter(code=code).first()
    return qs.filter(name=name).first()


def _caller(clean: dict[str, Any]) -> tuple[str, str]:
    """A mobile number goes in the reporter's phone; any other number (a landline) is kept
    beside the name, so nothing the hotline gave is lost."""
    name, phone = clean["caller_name"], clean["caller_phone"]
    if not phone:
        return name, ""
    try:
        return name, validate_phone(phone)
    except ActionError:
        digits = re.sub(r"[^\d\-+]", "", phone)
        return f"{name}（{digits}）"[:60], ""


# ---------------------------------------------------------------------------------------------
# Inbound: the actions


@transaction.atomic
def do_receive_order(connection: Connection, clean: dict[str, Any]) -> tuple[HotlineOrder, bool]:
    """A work order from 12345 becomes a matter with channel 12345 and the hotline's id.

    The same order again returns the first one (``created`` False), also when two copies
    arrive at once: the unique key on (connection, order id) decides, and the loser reads the
    winner's row.
    """
    existing = (HotlineOrder.objects.select_related("matter")
                .filter(connection=connection, order_id=clean["order_id"]).first())
    if existing is not None:
        return existing, False
    place = _resolve_place(connection, clean["place_hint"])
    name, phone = _caller(clean)
    attributes = {"hotline": {"classification": clean["classification"],
                              "category": clean["category"], "address": clean["address"],
                              "place_hint": clean["place_hint"],
                              "attachments": clean["attachments"]}}
    if clean["deadline"]:
        attributes["hotline"]["deadline"] = clean["deadline"].isoformat()
    try:
        with transaction.atomic():
            matter = do_raise_matter(
                place=place, title=clean["title"], text=clean["content"],
                channel=Channel.HOTLINE_12345, ledger=LEDGER_OF[clean["classification"]],
                category=_resolve_category(connection, clean["category"]),
                urgency=Urgency.URGENT if clean["urgent"] else Urgency.NORMAL,
                reporter_name=name, reporter_phone=phone, is_anonymous=clean["anonymous"],
                attributes=attributes, source_ref=clean["order_id"], acting_user=None,
            )
            order = HotlineOrder(connection=connection, order_id=clean["order_id"],
                                 matter=matter, classification=clean["classification"],
                                 hotline_category=clean["category"],
                                 hotline_deadline=clean["deadline"])
            order.set_place(place)
            order.save(force_insert=True)
    except IntegrityError:
        order = (HotlineOrder.objects.select_related("matter")
                 .filter(connection=connection, order_id=clean["order_id"]).first())
        if order is None:
            raise
        return order, False
    except ActionError:
        # Registered under this id by another route (or another connection of the county).
        order = (HotlineOrder.objects.select_related("matter")
                 .filter(connection=connection, order_id=clean["order_id"]).first())
        if order is None:
            raise
        return order, False
    record("hotline.order.receive", actor=None, obj=order,
           after={"order_id": order.order_id, "matter": matter.pk,
                  "classification": order.classification, "place": place.pk})
    return order, True


def _lock_order(connection: Connection, order_id: str) -> tuple[HotlineOrder, Matter]:
    order = HotlineOrder.objects.filter(connection=connection, order_id=order_id).first()
    if order is None:
        raise OrderNotFound(order_id)
    matter = Matter.objects.select_for_update().select_related("workflow", "queue_place").get(
        pk=order.matter_id)
    order = HotlineOrder.objects.select_for_update().get(pk=order.pk)
    return order, matter


def _staff(matter: Matter) -> list:
    from gongzhi.handling.actions import level_staff, organisation_users

    users = list(level_staff(matter.queue_place))
    if matter.responsible_user_id:
        users.append(matter.responsible_user)
    if matter.responsible_org_id:
        users += organisation_users(matter.responsible_org)
    return list({u.pk: u for u in users}.values())


def _matter_url(matter: Matter) -> str:
    from django.urls import reverse

    return reverse("matters:detail", args=[matter.pk])


@transaction.atomic
def do_urge_order(connection: Connection, order_id: str, data: dict[str, Any]) -> HotlineOrder:
    """催办: the hotline presses for the order; the matter's handlers hear of it."""
    note = _text(data, "note", limit=1000)
    order, matter = _lock_order(connection, order_id)
    now = timezone.now()
    order.urge_count += 1
    order.last_urged_at = now
    order.save(update_fields=["urge_count", "last_urged_at"])
    MatterEvent.objects.create(
        county_id=matter.county_id, matter=matter, kind=EventKind.SUPERVISION,
        summary=_("12345热线第%(n)d次催办") % {"n": order.urge_count}, comment=note,
        data={"hotline_order": order.order_id, "urge": order.urge_count},
    )
    if not matter.is_closed:
        notify(event="hotline.urged", users=_staff(matter), url=_matter_url(matter),
               matter=matter, title=_("12345热线催办：%(title)s") % {"title": matter.title},
               body=note)
    record("hotline.order.urge", actor=None, obj=order,
           after={"order_id": order.order_id, "urge_count": order.urge_count, "note": note})
    return order


@transaction.atomic
def do_withdraw_order(connection: Connection, order_id: str,
                      data: dict[str, Any]) -> HotlineOrder:
    """撤单: the hotline withdraws the order; an open matter is closed with the reason."""
    reason = _text(data, "reason", required=True, limit=MAX_REASON)
    order, matter = _lock_order(connection, order_id)
    if order.status == OrderStatus.WITHDRAWN:
        return order
    before = {"status": order.status, "stage": matter.stage}
    order.status = OrderStatus.WITHDRAWN
    order.save(update_fields=["status"])
    if not matter.is_closed:
        wf = workflow.workflow_of(matter.workflow)
        closed = next(s for s in wf.stages() if s["kind"] == StageKind.CLOSED)
        fields = workflow.enter_stage(matter, closed)
        matter.save(update_fields=fields)
        notify(event="hotline.withdrawn", users=_staff(matter), url=_matter_url(matter),
               matter=matter, title=_("12345热线已撤单：%(title)s") % {"title": matter.title},
               body=reason)
    MatterEvent.objects.create(
        county_id=matter.county_id, matter=matter, kind=EventKind.NOTE,
        summary=_("12345热线撤单"), comment=reason, to_stage=matter.stage,
        data={"hotline_order": order.order_id}, is_public=True,
    )
    record("hotline.order.withdraw", actor=None, obj=order, before=before,
           after={"status": order.status, "stage": matter.stage, "reason": reason})
    return order


@transaction.atomic
def do_receive_visit_result(connection: Connection, order_id: str,
                            data: dict[str, Any]) -> HotlineOrder:
    """The hotline's own 回访 of the caller: kept on the order and the matter's timeline."""
    reached = data.get("reached", True)
    if not isinstance(reached, bool):
        raise ActionError(_("字段 reached 必须是 true 或 false。"))
    satisfaction = _text(data, "satisfaction", limit=8)
    if satisfaction and satisfaction not in SATISFACTION_OF:
        raise ActionError(_("字段 satisfaction 只能是 满意、基本满意 或 不满意。"))
    notes = _text(data, "notes", limit=2000)
    at = _moment(data, "at") or timezone.now()
    order, matter = _lock_order(connection, order_id)
    result = {"reached": reached, "satisfaction": SATISFACTION_OF.get(satisfaction, ""),
              "notes": notes, "at": at.isoformat()}
    order.visit_result = result
    order.save(update_fields=["visit_result"])
    MatterEvent.objects.create(
        county_id=matter.county_id, matter=matter, kind=EventKind.RETURN_VISIT, at=at,
        summary=_("12345热线回访：%(s)s") % {"s": satisfaction or _("未联系上")}, comment=notes,
        data={"hotline_order": order.order_id, **result},
    )
    if result["satisfaction"] == "dissatisfied":
        notify(event="hotline.dissatisfied", users=_staff(matter), url=_matter_url(matter),
               matter=matter, title=_("12345热线回访不满意：%(title)s") % {"title": matter.title},
               body=notes)
    record("hotline.order.visit_result", actor=None, obj=order, after=result)
    return order


# ---------------------------------------------------------------------------------------------
# Outbound: what we push back


def _queue(order: HotlineOrder, kind: str, data: dict[str, Any], dedupe_key: str) -> None:
    """Write a push into the outbox (once per ``dedupe_key``) and deliver it after commit."""
    if OutboundMessage.objects.filter(dedupe_key=dedupe_key).exists():
        return
    matter = order.matter
    payload = {
        "type": kind, "order_id": order.order_id,
        "matter": {"id": matter.pk, "tracking_code": matter.tracking_code},
        "at": timezone.now().isoformat(timespec="seconds"), "data": data,
    }
    try:
        with transaction.atomic():
            OutboundMessage.objects.create(county_id=order.county_id,
                                           connection_id=order.connection_id, order=order,
                                           kind=kind, payload=payload, dedupe_key=dedupe_key)
    except IntegrityError:
        return  # written by a concurrent transaction
    from .delivery import deliver_hotline_outbox

    transaction.on_commit(lambda: deliver_hotline_outbox.enqueue())


def _handler_name(matter: Matter) -> str:
    if matter.responsible_org_id:
        return matter.responsible_org.name
    return matter.queue_place.name


def on_transition(matter: Matter, transition: dict[str, Any], event, acting_user) -> None:
    """Workflow hook (inside the transaction): 签收 when the matter is accepted, 办结反馈 when
    its result is reported (once per handling round)."""
    if matter.channel != Channel.HOTLINE_12345:
        return
    order = HotlineOrder.objects.filter(matter=matter).first()
    if order is None or order.status != OrderStatus.OPEN:
        return
    order.matter = matter
    if matter.is_closed and not matter.outcome:
        # Closed without a result (不予受理 ...): to the hotline that is a 退单.
        _queue(order, OutboundKind.RETURN, {
            "reason": event.comment if event is not None else "",
            "place": matter.queue_place.name, "by": "",
        }, f"return:{order.pk}")
        HotlineOrder.objects.filter(pk=order.pk).update(status=OrderStatus.RETURNED)
        return
    if matter.accepted_at:
        _queue(order, OutboundKind.ACCEPT, {
            "accepted_at": matter.accepted_at.isoformat(timespec="seconds"),
            "handled_by": _handler_name(matter),
        }, f"accept:{order.pk}")
    if matter.feedback_at and matter.outcome:
        _queue(order, OutboundKind.RESULT, {
            "round": matter.reopen_count + 1,
            "outcome": matter.outcome, "outcome_label": str(matter.get_outcome_display()),
            "text": matter.outcome_text, "explanation": matter.explanation,
            "handled_by": _handler_name(matter),
            "finished_at": matter.feedback_at.isoformat(timespec="seconds"),
        }, f"result:{order.pk}:{matter.reopen_count}")
    if matter.is_closed:
        HotlineOrder.objects.filter(pk=order.pk).update(status=OrderStatus.CLOSED)


def on_return_visit(sender, instance, created: bool, **kwargs) -> None:
    """Signal receiver (inside ``do_record_return_visit``'s transaction): 回访 results of a
    12345 matter go back to the hotline."""
    if not created:
        return
    order = HotlineOrder.objects.select_related("matter").filter(
        matter_id=instance.matter_id).first()
    if order is None or order.status == OrderStatus.WITHDRAWN:
        return
    _queue(order, OutboundKind.RETURN_VISIT, {
        "reached": instance.reached, "resolved": instance.resolved,
        "satisfaction": instance.satisfaction, "notes": instance.notes,
        "visited_at": instance.at.isoformat(timespec="seconds"),
    }, f"visit:{order.pk}:{instance.pk}")


def closing_transition(matter: Matter, user) -> dict[str, Any] | None:
    """A transition the user may take now that takes the matter out of the queue (to a closed
    stage) and needs nothing but a comment."""
    wf = workflow.workflow_of(matter.workflow)
    for t in workflow.available_transitions(matter, user):
        if wf.stage(t["to"])["kind"] != StageKind.CLOSED:
            continue
        requires = t.get("requires") or {}
        if requires.get("fields") or requires.get("attachment"):
            continue
        return t
    return None


@transaction.atomic
def do_return_order(matter: Matter, *, acting_user, reason: str) -> HotlineOrder:
    """派单异议／退单: ask the hotline to dispatch the order elsewhere, with the reason.

    Where the workflow lets the user close the matter from its stage without a result (not
    ours to handle: 不予受理, for instance), the matter takes that transition and leaves the
    queue; otherwise it stays where it is until the hotline answers (a 撤单).
    """
    order = HotlineOrder.objects.filter(matter_id=matter.pk).first()
    if order is None:
        raise ActionError(_("此事项不是12345热线工单，不能退单。"))
    if not has_permission(acting_user, "hotline.dispute", matter.place) or not (
        Matter.objects.restrict(acting_user, "view").filter(pk=matter.pk).exists()
    ):
        raise ActionForbidden(_("您不能对此工单提出派单异议。"))
    matter = Matter.objects.select_for_update().select_related(
        "workflow", "place", "queue_place").get(pk=matter.pk)
    order = HotlineOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.OPEN or matter.is_closed:
        raise ActionError(_("该工单已退单、撤单或办结，不能再退单。"))
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("请说明退单的理由。"))
    if len(reason) > MAX_REASON:
        raise ActionError(_("退单理由不能超过500个字。"))
    order.status = OrderStatus.RETURNED
    order.save(update_fields=["status"])
    order.matter = matter
    user = _user(acting_user)
    _queue(order, OutboundKind.RETURN, {
        "reason": reason, "place": matter.queue_place.name,
        "by": (user.display_name or user.get_username()) if user else "",
    }, f"return:{order.pk}")
    MatterEvent.objects.create(
        county_id=matter.county_id, matter=matter, actor=user, kind=EventKind.NOTE,
        summary=_("向12345热线退单（派单异议）"), comment=reason,
        data={"hotline_order": order.order_id},
    )
    t = closing_transition(matter, acting_user)
    if t is not None:
        workflow.do_transition(matter, t["key"], acting_user=acting_user, comment=reason)
    record("hotline.order.return", actor=acting_user, obj=order,
           after={"order_id": order.order_id, "reason": reason,
                  "transition": t["key"] if t else ""})
    return order
