import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError
from gongzhi.core.privacy import mask_phone
from gongzhi.places.models import Person

from . import conf, preferences, wechat_auth
from .access import outbox_for
from .actions import (
    do_bind_wechat,
    do_mark_read,
    do_retry_message,
    do_set_preferences,
    do_unbind_wechat,
)
from .forms import PreferenceForm
from .models import Channel, Notification, OutboxStatus, WeChatBinding


@login_required
def inbox(request):
    """The user's in-app notifications, newest first, unread marked."""
    qs = Notification.objects.filter(user=request.user).order_by("-created_at", "-id")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_POST
def open_notification(request, pk: int):
    """Mark one read and go where it points (only to this site)."""
    note = get_object_or_404(Notification, pk=pk, user=request.user)
    do_mark_read(request.user, ids=[note.pk])
    if note.url and url_has_allowed_host_and_scheme(note.url, allowed_hosts={request.get_host()}):
        return redirect(note.url)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request):
    do_mark_read(request.user)
    return redirect("notifications:inbox")


def _preference_form(request, phone: str, *, person=None, acting_user=None):
    pref = preferences.find(phone)
    form = PreferenceForm(request.POST or None, initial=PreferenceForm.initial_for(pref))
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            do_set_preferences(phone, acting_user=acting_user, person=person,
                               **form.cleaned_data)
            saved = True
        except ActionError as exc:
            form.add_error(None, str(exc))
    return form, saved


def preferences_page(request, token: str):
    """A resident's own preferences, from the signed link in their messages (no login)."""
    phone = preferences.phone_from_token(token)
    if phone is None:
        raise Http404(_("链接无效。"))
    form, saved = _preference_form(request, phone)
    if saved:
        messages.success(request, _("已保存您的通知偏好。"))
        return redirect("notifications:preferences", token=token)
    return render(request, "notifications/preferences.html", {
        "form": form, "masked_phone": mask_phone(phone), "token": token,
        "wechat_enabled": conf.wechat_enabled(),
        "wechat_bound": WeChatBinding.objects.filter(phone=phone).exists()})


def _wechat_page(request, *, error: str = "", phone: str = "", token: str = "",
                 status: int = 200):
    return render(request, "notifications/wechat_result.html", {
        "error": error, "masked_phone": mask_phone(phone) if phone else "",
        "token": token}, status=status)


def wechat_bind(request, token: str):
    """From a resident's preferences page to WeChat's authorisation page (no login)."""
    phone = preferences.phone_from_token(token)
    if phone is None:
        raise Http404(_("链接无效。"))
    if not conf.wechat_enabled():
        return _wechat_page(request, error=_("本平台尚未开通微信通知。"), status=404)
    callback = reverse("notifications:wechat_callback")
    redirect_uri = (conf.absolute(callback) if conf.get("GONGZHI_SITE_URL")
                    else request.build_absolute_uri(callback))
    return redirect(wechat_auth.authorize_url(phone, redirect_uri))


def wechat_callback(request):
    """Where WeChat sends the resident back: check the state, exchange the code for the
    openid, bind it to the phone the state names."""
    if not conf.wechat_enabled():
        return _wechat_page(request, error=_("本平台尚未开通微信通知。"), status=404)
    try:
        phone = wechat_auth.phone_from_state(request.GET.get("state", ""))
        openid = wechat_auth.openid_for_code(request.GET.get("code", ""))
        do_bind_wechat(openid, phone=phone, acting_user=None)
    except (wechat_auth.WeChatAuthError, ActionError) as exc:
        return _wechat_page(request, error=str(exc), status=400)
    return _wechat_page(request, phone=phone, token=preferences.token_for(phone))


@require_POST
def wechat_unbind(request, token: str):
    """A resident stops WeChat messages to their phone (from the signed link, no login)."""
    phone = preferences.phone_from_token(token)
    if phone is None:
        raise Http404(_("链接无效。"))
    if do_unbind_wechat(phone=phone, acting_user=None):
        messages.success(request, _("已解除微信绑定，今后不再通过微信通知您。"))
    return redirect("notifications:preferences", token=token)


@login_required
def person_preferences(request, person_id: int):
    """Staff set a registered person's preferences (on their behalf, audited)."""
    person = get_object_or_404(Person.objects.restrict(request.user, "change"), pk=person_id)
    if not person.phone:
        messages.error(request, _("此人没有登记手机号，无法设置通知偏好。"))
        return redirect("places:household", person.place_id)
    form, saved = _preference_form(request, person.phone, person=person,
                                   acting_user=request.user)
    if saved:
        messages.success(request, _("已保存%(name)s的通知偏好。") % {"name": person.name})
        return redirect("notifications:person_preferences", person_id=person.pk)
    phone = preferences.normalise_phone(person.phone)
    return render(request, "notifications/person_preferences.html", {
        "form": form, "person": person, "wechat_enabled": conf.wechat_enabled(),
        "wechat_bound": WeChatBinding.objects.filter(person=person).exists()
        or WeChatBinding.objects.filter(phone=phone).exists(),
        "bind_qr": _bind_qr(request, phone)})


def _bind_qr(request, phone: str) -> str:
    """A QR code of the person's own binding link, for them to scan with WeChat on the spot."""
    url = reverse("notifications:wechat_bind", args=[preferences.token_for(phone)])
    url = conf.absolute(url) if conf.get("GONGZHI_SITE_URL") else request.build_absolute_uri(url)
    return segno.make(url, error="m").svg_inline(scale=4, border=2)


@login_required
@require_POST
def person_wechat_unbind(request, person_id: int):
    """Staff remove a registered person's WeChat binding (theirs and their phone's), audited."""
    person = get_object_or_404(Person.objects.restrict(request.user, "change"), pk=person_id)
    removed = do_unbind_wechat(person=person, acting_user=request.user)
    if person.phone:
        removed += do_unbind_wechat(phone=person.phone, acting_user=request.user)
    if removed:
        messages.success(request, _("已解除%(name)s的微信绑定。") % {"name": person.name})
    return redirect("notifications:person_preferences", person_id=person.pk)


@login_required
def outbox(request):
    """Delivery status of the county's outgoing messages (county admins)."""
    if not has_permission(request.user, "notifications.view_outbox"):
        raise PermissionDenied
    qs = outbox_for(request.user).select_related("matter").order_by("-created_at", "-id")
    status, channel = request.GET.get("status", ""), request.GET.get("channel", "")
    if status in OutboxStatus.values:
        qs = qs.filter(status=status)
    if channel in Channel.values:
        qs = qs.filter(channel=channel)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "notifications/outbox.html", {
        "page": page, "status": status, "channel": channel,
        "statuses": OutboxStatus.choices, "channels": Channel.choices,
        "can_retry": has_permission(request.user, "notifications.manage")})


@login_required
@require_POST
def retry(request, pk: int):
    if not has_permission(request.user, "notifications.manage"):
        raise PermissionDenied
    msg = get_object_or_404(outbox_for(request.user, "notifications.manage"), pk=pk)
    try:
        do_retry_message(msg, acting_user=request.user)
        messages.success(request, _("已重新排队发送。"))
    except ActionError as exc:
        messages.error(request, str(exc))
    return redirect("notifications:outbox")
