"""Writes owned by notifications: reading in-app notifications, residents' preferences,
WeChat bindings, retrying a failed message."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record, snapshot
from gongzhi.core.errors import ActionError
from gongzhi.core.privacy import mask_phone

from .models import (
    LANGUAGE_CHOICES,
    Notification,
    OutboxMessage,
    OutboxStatus,
    Preference,
    WeChatBinding,
)
from .preferences import normalise_phone

PREFERENCE_FIELDS = ["language", "quiet_start", "quiet_end", "opt_out_all", "opt_out_sms",
                     "opt_out_wechat", "opt_out_email"]


@transaction.atomic
def do_mark_read(user, *, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications read (all of them, or those in ``ids``)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    marked = qs.update(read_at=timezone.now())
    if marked:
        record("notifications.read", actor=user, county_id=user.county_id,
               object_type="notifications.notification", object_id=user.pk,
               after={"marked": marked, "ids": ids or "all"})
    return marked


@transaction.atomic
def do_set_preferences(phone: str, *, acting_user=None, person=None, county_id=None,
                       language: str = "zh-hans", quiet_start: dt.time | None = None,
                       quiet_end: dt.time | None = None, opt_out_all: bool = False,
                       opt_out_sms: bool = False, opt_out_wechat: bool = False,
                       opt_out_email: bool = False) -> Preference:
    """Set how the holder of ``phone`` is told things. ``acting_user`` is None when the
    resident uses their signed link."""
    phone = normalise_phone(phone)
    if not phone:
        raise ActionError(_("没有手机号，无法保存通知偏好。"))
    if language not in dict(LANGUAGE_CHOICES):
        raise ActionError(_("不支持所选的语言。"))
    pref = Preference.objects.select_for_update().filter(phone=phone).first()
    before = snapshot(pref, PREFERENCE_FIELDS) if pref else None
    if pref is None:
        pref = Preference(phone=phone)
    if person is not None:
        pref.person = person
        county_id = county_id or person.county_id
    if county_id:
        pref.county_id = county_id
    pref.language = language
    pref.quiet_start = quiet_start or dt.time(22, 0)
    pref.quiet_end = quiet_end or dt.time(8, 0)
    pref.opt_out_all, pref.opt_out_sms = bool(opt_out_all), bool(opt_out_sms)
    pref.opt_out_wechat, pref.opt_out_email = bool(opt_out_wechat), bool(opt_out_email)
    pref.updated_at = timezone.now()
    pref.save()
    record("notifications.preferences.set", actor=acting_user or _("本人（通过链接）"),
           obj=pref, county_id=pref.county_id, object_repr=_("通知偏好"),
           before=before, after=snapshot(pref, PREFERENCE_FIELDS))
    return pref


def _binding_owner(person, user, phone) -> tuple[dict, int | None]:
    """The one owner of a binding as filter arguments, and its county."""
    phone = normalise_phone(phone) if phone else ""
    if sum(x is not None and x != "" for x in (person, user, phone)) != 1:
        raise ActionError(_("微信绑定须对应一个人员、一个用户或一个手机号。"))
    if person is not None:
        return {"person": person}, person.county_id
    if user is not None:
        return {"user": user}, user.county_id
    pref = Preference.objects.filter(phone=phone).only("county_id").first()
    return {"phone": phone}, pref.county_id if pref else None


@transaction.atomic
def do_bind_wechat(openid: str, *, acting_user, person=None, user=None,
                   phone: str | None = None) -> WeChatBinding:
    """Record the openid of a person, a user or a phone number under the official account
    (replacing theirs, and any other binding of the openid). ``acting_user`` is None when the
    resident binds themselves through WeChat's web authorisation."""
    openid = (openid or "").strip()
    if not openid or len(openid) > 64:
        raise ActionError(_("请填写正确的微信 openid。"))
    owner, county_id = _binding_owner(person, user, phone)
    before = [{**b, "phone": mask_phone(b["phone"]) if b["phone"] else None} for b in
              WeChatBinding.objects.filter(openid=openid).values("person", "user", "phone")]
    WeChatBinding.objects.filter(openid=openid).delete()
    WeChatBinding.objects.filter(**owner).delete()
    binding = WeChatBinding.objects.create(openid=openid, county_id=county_id, **owner)
    record("notifications.wechat.bind", actor=acting_user or _("本人（通过微信授权）"),
           obj=binding, county_id=county_id, object_repr=_("微信绑定"),
           before=before or None,
           after={"person": person.pk if person else None, "user": user.pk if user else None,
                  "phone": mask_phone(binding.phone) if binding.phone else None})
    return binding


@transaction.atomic
def do_unbind_wechat(*, acting_user, person=None, user=None, phone: str | None = None) -> int:
    """Remove the WeChat binding of a person, a user or a phone number; returns how many
    were removed (0 when there was none, and then nothing is recorded)."""
    owner, county_id = _binding_owner(person, user, phone)
    binding = WeChatBinding.objects.select_for_update().filter(**owner).first()
    if binding is None:
        return 0
    county_id = binding.county_id or county_id
    binding_id = binding.pk
    binding.delete()
    record("notifications.wechat.unbind", actor=acting_user or _("本人（通过链接）"),
           county_id=county_id, object_type="notifications.wechatbinding",
           object_id=binding_id, object_repr=_("微信绑定"),
           before={"person": person.pk if person else None, "user": user.pk if user else None,
                   "phone": mask_phone(owner["phone"]) if "phone" in owner else None})
    return 1


@transaction.atomic
def do_retry_message(msg: OutboxMessage, *, acting_user) -> OutboxMessage:
    """Send a failed message again (a fresh round of attempts, the same idempotency key)."""
    from .outbox import deliver_outbox

    msg = OutboxMessage.objects.select_for_update().get(pk=msg.pk)
    if msg.status != OutboxStatus.FAILED:
        raise ActionError(_("只有发送失败的消息可以重发。"))
    msg.status = OutboxStatus.PENDING
    msg.attempts = 0
    msg.not_before = timezone.now()
    msg.save(update_fields=["status", "attempts", "not_before"])
    record("notifications.outbox.retry", actor=acting_user, obj=msg, county_id=msg.county_id,
           object_repr=f"{msg.channel} {msg.event}", after={"status": msg.status})
    transaction.on_commit(lambda: deliver_outbox.enqueue())
    return msg
