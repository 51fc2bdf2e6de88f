"""Workflow hooks that tell a matter's reporter where it stands: the acceptance notice when a
matter is accepted and the result when it enters a feedback stage (run inside the transition's
transaction, so the messages go out only if it commits)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from . import conf
from .outbox import notify, reporter_of


def _public_url(matter) -> str:
    return reverse("matters_public:track_code", args=[matter.tracking_code])


def on_transition(matter, transition, event, acting_user) -> None:
    from gongzhi.matters.models import StageKind

    accepted = matter.accepted_at is not None and matter.accepted_at == matter.stage_entered_at
    feedback = matter.stage_kind == StageKind.FEEDBACK
    if not (accepted or feedback) or not (conf.sms_enabled() or conf.wechat_enabled()):
        return  # nothing to tell, or no channel that reaches a resident
    resident = reporter_of(matter)
    if resident is None:
        return
    if accepted:
        notify(event="matters.accepted", matter=matter, residents=[resident],
               url=_public_url(matter), dedupe_key=f"accepted:{matter.pk}",
               title=_("您反映的事项“%(title)s”已受理，查询码 %(code)s。") % {
                   "title": matter.title, "code": matter.tracking_code})
    if feedback:
        notify(event="matters.feedback", matter=matter, residents=[resident],
               url=_public_url(matter),
               dedupe_key=f"feedback:{matter.pk}:{matter.reopen_count}",
               title=_("您反映的事项“%(title)s”已办理：%(result)s") % {
                   "title": matter.title, "result": matter.outcome_text or "—"})
