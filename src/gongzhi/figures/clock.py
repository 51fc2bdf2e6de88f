"""Keeps each matter's :class:`~.models.MatterClock` current, inside the action's transaction.

Connected to ``post_save`` of :class:`~gongzhi.matters.models.Matter` (see ``apps.py``)
rather than to the workflow engine's hooks, because a stage deadline also moves outside the
engine: an assignment with an explicit due date, an escalation restarting the clock. Each of
those saves the matter's stage fields, and this sees every one of them. Saves that touch none
of those fields cost nothing; the others cost one read and one write of the clock.

Rows written in bulk (``bulk_create``, ``update``) pass no signal: a loader that writes
matters that way writes their clocks too (``docs/figures.md``).
"""

from __future__ import annotations

from django.utils import timezone

from gongzhi.matters.models import Matter, StageKind

from .models import MatterClock

WATCHED_FIELDS = frozenset({"stage", "stage_entered_at", "stage_deadline"})
# Stages that wait on the resident or on the calendar, not on an office: never "late".
PASSIVE_KINDS = frozenset({StageKind.EVALUATION, StageKind.DISCLOSURE, StageKind.CLOSED})


def on_matter_saved(sender, instance: Matter, created: bool = False, raw: bool = False,
                    update_fields=None, **kwargs) -> None:
    if raw:
        return
    if update_fields is not None and not WATCHED_FIELDS & set(update_fields):
        return
    clock = None if created else MatterClock.objects.filter(matter_id=instance.pk).first()
    if clock is None:
        # A new matter starts its first visit. One that has no clock (written in bulk)
        # is followed from now on; its earlier visits are unknown.
        MatterClock.objects.create(
            matter_id=instance.pk, stage=instance.stage, kind=instance.stage_kind,
            entered_at=instance.stage_entered_at, deadline=instance.stage_deadline,
            in_first_visit=created, from_start=created,
        )
        return
    if clock.stage == instance.stage and clock.entered_at == instance.stage_entered_at:
        if clock.deadline != instance.stage_deadline:
            # The same visit got a new deadline (an extension, an escalation's fresh clock).
            if clock.deadline is not None and clock.deadline < timezone.now():
                clock.late = True
            clock.deadline = instance.stage_deadline
            clock.save(update_fields=["deadline", "late"])
        return
    end_visit(clock, left_at=instance.stage_entered_at)
    clock.stage = instance.stage
    clock.kind = instance.stage_kind
    clock.entered_at = instance.stage_entered_at
    clock.deadline = instance.stage_deadline
    clock.late = False
    clock.save()


def visit_was_late(clock: MatterClock, left_at) -> bool:
    """The running visit, ending at ``left_at``: was it late? (Passive stages never are.)"""
    if clock.kind in PASSIVE_KINDS:
        return False
    return clock.late or (clock.deadline is not None and left_at > clock.deadline)


def end_visit(clock: MatterClock, *, left_at) -> None:
    """Fold the running visit into the clock's totals (in memory; the caller saves)."""
    late = visit_was_late(clock, left_at)
    if clock.in_first_visit:
        clock.response_deadline = clock.deadline
        clock.response_late = late
        clock.in_first_visit = False
    if clock.kind == StageKind.HANDLING:
        clock.handling_visits += 1
        clock.late_handling_visits += int(late)
    clock.late_visits += int(late)
