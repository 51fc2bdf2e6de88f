"""Builders shared by the supervision tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from gongzhi.matters import workflow
from gongzhi.matters.actions import do_raise_matter, matter_settings
from gongzhi.matters.models import Matter


def raise_matter(tree, place=None, title="村口路灯不亮", **kw) -> Matter:
    args = dict(place=place or tree.grid, title=title, text="村口路灯坏了一个月，晚上看不见路",
                channel="walk_in", ledger="claim", acting_user=tree.user("grid_worker"))
    args.update(kw)
    return do_raise_matter(**args)


def handling(tree, place=None, title="村口路灯不亮", **kw) -> Matter:
    """A matter accepted and waiting in handling (whose on_timeout is notify, supervise,
    escalate in the default preset)."""
    matter = raise_matter(tree, place=place, title=title, **kw)
    village = Matter.objects.get(pk=matter.pk).queue_place
    user = tree.user("village_secretary") if village.pk == tree.village.pk else tree.user(
        "county_office")
    return workflow.do_transition(matter, "accept", acting_user=user)


def overdue_by(matter: Matter, hours: float, now: dt.datetime | None = None, **fields) -> Matter:
    """Move the matter's deadline ``hours`` into the past (rows updated directly)."""
    now = now or timezone.now()
    deadline = now - dt.timedelta(hours=hours)
    Matter.objects.filter(pk=matter.pk).update(
        stage_deadline=deadline, stage_entered_at=min(matter.stage_entered_at,
                                                      deadline - dt.timedelta(days=1)),
        **fields)
    return Matter.objects.get(pk=matter.pk)


def set_policy(tree, **values) -> None:
    settings = matter_settings(tree.county)
    settings.policy = {**settings.policy, **values}
    settings.save(update_fields=["policy"])
