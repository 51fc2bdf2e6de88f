from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.access import grants_with, has_permission
from gongzhi.core.errors import ActionError
from gongzhi.places.models import Place

from . import actions
from .forms import SubscriptionForm
from .models import Delivery, Subscription


def _manageable_counties(user):
    if user.is_superuser:
        return list(Place.objects.filter(kind="county").order_by("name"))
    ids = {g.place_id for g in grants_with(user, "webhooks.manage") if g.kind == "county"}
    return list(Place.objects.filter(pk__in=ids).order_by("name"))


@login_required
def index(request):
    """A county's subscriptions; county admins add new ones here."""
    if not has_permission(request.user, "webhooks.view"):
        raise PermissionDenied
    counties = _manageable_counties(request.user)
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST":
        county = next((c for c in counties if str(c.pk) == request.POST.get("county")), None)
        if county is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                sub = actions.do_create_subscription(
                    county, acting_user=request.user, url=form.cleaned_data["url"],
                    event_types=form.cleaned_data["event_types"],
                    description=form.cleaned_data["description"])
                messages.success(request, _("已添加事件推送。"))
                return redirect("webhooks:detail", sub_id=sub.pk)
            except ActionError as exc:
                form.add_error(None, str(exc))
    subs = Subscription.objects.restrict(request.user, "view").select_related("county")
    return render(request, "webhooks/index.html",
                  {"subscriptions": subs, "form": form, "counties": counties})


@login_required
def detail(request, sub_id: int):
    """One subscription: its secret, settings and delivery log."""
    sub = get_object_or_404(Subscription.objects.restrict(request.user, "view"), pk=sub_id)
    can_manage = has_permission(request.user, "webhooks.manage", sub.place)
    form = SubscriptionForm(request.POST or None, initial={
        "url": sub.url, "event_types": sub.event_types, "description": sub.description,
        "is_active": sub.is_active})
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                actions.do_update_subscription(sub, acting_user=request.user,
                                               **form.cleaned_data)
                messages.success(request, _("已保存。"))
                return redirect("webhooks:detail", sub_id=sub.pk)
            except ActionError as exc:
                form.add_error(None, str(exc))
    page = Paginator(sub.deliveries.prefetch_related("log").order_by("-created_at", "-id"),
                     30).get_page(request.GET.get("page"))
    return render(request, "webhooks/detail.html",
                  {"sub": sub, "form": form, "page": page, "can_manage": can_manage})


@login_required
@require_POST
def delete(request, sub_id: int):
    sub = get_object_or_404(Subscription.objects.restrict(request.user, "manage"), pk=sub_id)
    actions.do_delete_subscription(sub, acting_user=request.user)
    messages.success(request, _("已删除事件推送。"))
    return redirect("webhooks:index")


@login_required
@require_POST
def redeliver(request, pk: int):
    subs = Subscription.objects.restrict(request.user, "manage")
    delivery = get_object_or_404(Delivery.objects.filter(subscription__in=subs), pk=pk)
    try:
        actions.do_redeliver(delivery, acting_user=request.user)
        messages.success(request, _("已重新排队推送。"))
    except ActionError as exc:
        messages.error(request, str(exc))
    return redirect("webhooks:detail", sub_id=delivery.subscription_id)
