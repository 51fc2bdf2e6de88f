"""The endpoints the hotline calls: new orders, 催办, 撤单 and its 回访 result.

Each request is checked in this order, and answered as ``docs/hotline-12345.md`` says:
unknown connection 404; disabled connection 403; missing or malformed timestamp, timestamp
more than five minutes away from our clock, or a wrong signature 401; the same signed request
seen before 409 (replay); a body that is not a JSON object or misses a field 400 (nothing is
created); an order id we do not know 404. Every request, answered or refused, is logged.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gongzhi.core.errors import ActionError

from . import actions, signing
from .delivery import log_exchange
from .models import Connection, Direction, HotlineOrder, Nonce

REPLAY_WINDOW = dt.timedelta(seconds=2 * signing.MAX_SKEW_SECONDS)


class Refused(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _check(connection: Connection, request: HttpRequest) -> str:
    """The signature of an authentic, fresh request (raises :class:`Refused` otherwise)."""
    if not connection.is_active:
        raise Refused(403, _("该热线对接已停用。"))
    stamp = request.headers.get(signing.TIMESTAMP_HEADER, "").strip()
    signature = request.headers.get(signing.SIGNATURE_HEADER, "").strip().lower()
    if not stamp.isdigit() or not signature:
        raise Refused(401, _("缺少签名：请求须带 X-Hotline-Timestamp 和 X-Hotline-Signature。"))
    skew = abs(timezone.now().timestamp() - int(stamp))
    if skew > signing.MAX_SKEW_SECONDS:
        raise Refused(401, _("请求时间戳与服务器时间相差超过5分钟，已拒绝。"))
    if not signing.verify(signing.inbound_secret(connection), stamp, request.body, signature):
        raise Refused(401, _("签名不正确。"))
    return signature


def _claim_nonce(connection: Connection, signature: str) -> None:
    """Inside the request's transaction: a signature is accepted once."""
    now = timezone.now()
    Nonce.objects.filter(connection=connection, at__lt=now - REPLAY_WINDOW).delete()
    try:
        with transaction.atomic():
            Nonce.objects.create(connection=connection, signature=signature, at=now)
    except IntegrityError:
        raise Refused(409, _("重复的请求（同一签名已处理过），已拒绝。")) from None


def _redacted(body: bytes) -> str:
    """The body for the log, with the caller's phone masked."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text
    caller = data.get("caller") if isinstance(data, dict) else None
    if isinstance(caller, dict) and isinstance(caller.get("phone"), str):
        phone = caller["phone"]
        caller["phone"] = phone[:3] + "****" + phone[-4:] if len(phone) > 7 else "****"
        return json.dumps(data, ensure_ascii=False)
    return text


Handler = Callable[[Connection, dict[str, Any]], tuple[int, dict[str, Any], int | None]]


def _handle(request: HttpRequest, key: str, kind: str, order_ref: str,
            handler: Handler) -> JsonResponse:
    connection = Connection.objects.filter(key=key).first()
    if connection is None:
        return JsonResponse({"detail": _("未知的热线对接。")}, status=404)
    status, out, matter_id = 500, {"detail": _("服务器内部错误。")}, None
    try:
        signature = _check(connection, request)
        with transaction.atomic():
            _claim_nonce(connection, signature)
            data = actions.parse_json(request.body)
            status, out, matter_id = handler(connection, data)
    except Refused as exc:
        status, out = exc.status, {"detail": exc.detail}
    except ActionError as exc:
        status, out = 400, {"detail": " ".join(str(m) for m in exc.messages)}
    except actions.OrderNotFound:
        status, out = 404, {"detail": _("未找到该热线工单。")}
    finally:
        with transaction.atomic():
            log_exchange(connection, direction=Direction.IN, kind=kind,
                         order_ref=order_ref or str(out.get("order_id", "")),
                         matter_id=matter_id, url=request.path,
                         request_body=_redacted(request.body[:20000]), status_code=status,
                         response=json.dumps(out, ensure_ascii=False))
    return JsonResponse(out, status=status, json_dumps_params={"ensure_ascii": False})


def _order_out(order: HotlineOrder) -> dict[str, Any]:
    return {"order_id": order.order_id, "matter_id": order.matter_id,
            "tracking_code": order.matter.tracking_code, "status": order.status}


@csrf_exempt
@require_POST
def orders(request: HttpRequest, key: str) -> JsonResponse:
    def handler(connection, data):
        order, created = actions.do_receive_order(connection, actions.clean_order(data))
        return (201 if created else 200), {**_order_out(order), "created": created}, \
            order.matter_id

    return _handle(request, key, "order", "", handler)


def _update(kind: str, action):
    @csrf_exempt
    @require_POST
    def view(request: HttpRequest, key: str, order_id: str) -> JsonResponse:
        def handler(connection, data):
            order = action(connection, order_id, data)
            return 200, _order_out(order), order.matter_id

        return _handle(request, key, kind, order_id, handler)

    view.__name__ = kind
    return view


urge = _update("urge", actions.do_urge_order)
withdraw = _update("withdraw", actions.do_withdraw_order)
visit_result = _update("visit_result", actions.do_receive_visit_result)
