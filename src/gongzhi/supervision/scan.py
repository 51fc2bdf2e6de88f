"""The deadline scan: matters near or past a stage's deadline, acted on by the locality's policy.

For every open matter whose stage has a deadline (stages of kind evaluation, disclosure and
closed excepted: they wait on others, not on a handler):

* within ``warn_before_hours`` (policy, default 24) of the deadline: the responsible person and
  unit (or, before anyone is responsible, the queue's dispatchers) are told once per stage visit
  and deadline (an escalation or an extension gives a visit a new deadline, watched afresh);
* past the deadline, by the stage's ``on_timeout`` list:

  - ``notify``: the responsible person and unit and the queue's dispatchers are told, once;
  - ``supervise``: a supervision item is opened at level 0 of ``supervision_chain`` (named by
    ``supervision_chain_labels``, e.g. 县联系办 → 县委常委 → 县委书记); each further
    ``supervision_step_hours`` (policy, default 24) past the deadline raises it one level, up to
    the end of the chain (the lower item is closed as raised);
  - ``escalate``: the matter is escalated to the level above once per deadline, when it has been
    overdue for ``escalate_after_levels`` × ``supervision_step_hours`` (policy; 0 escalates at
    the deadline). The level above gets a new deadline; if it misses that too, the matter goes
    up again, until the county, where escalation is refused and that is noted.

Idempotent and safe in several processes at once: each matter is handled in its own transaction
with its row locked (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a second process
passes over a matter the first is handling; SQLite has one writer at a time); what was done is
kept on the :class:`~.models.DeadlineWatch` of the stage visit, and automatic items are unique
per (matter, stage visit, level). A second run changes nothing.

Other apps add their own periodic steps with :func:`register_scan_step` (evaluation's expiry of
unanswered evaluations is one); ``gongzhi supervise scan`` runs them all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.models import Matter, MatterSettings, WorkflowDefinition
from gongzhi.matters.workflow import workflow_of
from gongzhi.notifications.outbox import notify

from . import recipients
from .actions import chain_from_policy, open_automatic_item
from .bulletins import PASSIVE_KINDS
from .models import DeadlineWatch

log = logging.getLogger(__name__)

ScanStep = Callable[[dt.datetime], dict[str, int]]
SCAN_STEPS: dict[str, ScanStep] = {}


def register_scan_step(name: str, step: ScanStep) -> None:
    """Add a periodic step run after the deadline scan (``step(now) -> counts``)."""
    SCAN_STEPS[name] = step


def run_scan(now: dt.datetime | None = None) -> dict[str, int]:
    """The deadline scan, then every registered step; returns what each did, as counts."""
    now = now or timezone.now()
    counts = scan_deadlines(now)
    for name, step in SCAN_STEPS.items():
        for key, value in (step(now) or {}).items():
            counts[f"{name}.{key}"] = counts.get(f"{name}.{key}", 0) + value
    return counts


class _Policy:
    def __init__(self, settings: MatterSettings):
        p = settings.policy or {}
        self.warn = dt.timedelta(hours=float(p.get("warn_before_hours", 24)))
        self.step_hours = float(p.get("supervision_step_hours", 24)) or 24.0
        self.escalate_after_hours = float(p.get("escalate_after_levels", 0)) * self.step_hours
        self.chain = chain_from_policy(p)


def scan_deadlines(now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    counts: Counter[str] = Counter()
    workflows: dict[int, WorkflowDefinition] = {}
    for settings in MatterSettings.objects.all():
        pol = _Policy(settings)
        ids = list(
            Matter.objects.open()
            .filter(county_id=settings.county_id, stage_deadline__isnull=False,
                    stage_deadline__lte=now + pol.warn)
            .exclude(stage_kind__in=PASSIVE_KINDS)
            .order_by("stage_deadline", "pk").values_list("pk", flat=True)
        )
        for pk in ids:
            try:
                _process(pk, now, pol, workflows, counts)
            except Exception:
                # One matter's failure (a bad definition, a refused notification) must not
                # stop the scan of the others; it is logged and retried on the next run.
                log.exception("deadline scan failed for matter %s", pk)
                counts["errors"] += 1
    return dict(counts)


def _definition(matter: Matter, cache: dict[int, WorkflowDefinition]) -> WorkflowDefinition:
    defn = cache.get(matter.workflow_id)
    if defn is None:
        defn = cache[matter.workflow_id] = WorkflowDefinition.objects.get(pk=matter.workflow_id)
    return defn


def _fmt(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def _process(pk: int, now: dt.datetime, pol: _Policy, workflows: dict, counts: Counter) -> None:
    matter = (Matter.objects.select_for_update(skip_locked=True)
              .filter(pk=pk, is_closed=False, merged_into__isnull=True).first())
    if matter is None:
        counts["skipped"] += 1  # closed meanwhile, or another process holds it right now
        return
    if matter.stage_deadline is None or matter.stage_kind in PASSIVE_KINDS:
        return
    if now < matter.stage_deadline - pol.warn:
        return
    try:
        stage = workflow_of(_definition(matter, workflows)).stage(matter.stage)
    except KeyError:
        log.warning("matter %s is in stage %r unknown to its workflow", pk, matter.stage)
        return
    actions = stage.get("on_timeout") or []
    stage_name = str(stage.get("name", matter.stage))[:80]
    watch = _watch(matter, stage_name, now)
    if watch is None:
        counts["skipped"] += 1
        return
    changed: list[str] = []
    if (watch.queue_place_id, watch.responsible_org_id) != (matter.queue_place_id,
                                                           matter.responsible_org_id) and (
            watch.left_at is None):
        watch.queue_place_id = matter.queue_place_id
        watch.responsible_org_id = matter.responsible_org_id
        changed += ["queue_place", "responsible_org"]
    deadline = matter.stage_deadline
    visit_key = (f"{matter.pk}:{matter.stage}:{int(matter.stage_entered_at.timestamp())}"
                 f":{int(deadline.timestamp())}")
    if now < deadline:
        if watch.warned_at is None:
            users = recipients.responsible_users(matter) or recipients.queue_staff(matter)
            notify(event="deadline_near", matter=matter, users=users,
                   url=recipients.matter_url(matter), dedupe_key=f"warn:{visit_key}",
                   title=_("事项“%(title)s”的“%(stage)s”环节将于 %(deadline)s 到期。") % {
                       "title": matter.title, "stage": stage_name, "deadline": _fmt(deadline)})
            watch.warned_at = now
            changed.append("warned_at")
            counts["warned"] += 1
        if changed:
            watch.save(update_fields=changed)
        return

    if watch.overdue_at is None:
        watch.overdue_at = now
        changed.append("overdue_at")
        counts["overdue"] += 1
        if "notify" in actions:
            users = recipients.responsible_users(matter)
            users += [u for u in recipients.queue_staff(matter) if u not in users]
            notify(event="deadline_passed", matter=matter, users=users,
                   url=recipients.matter_url(matter), dedupe_key=f"overdue:{visit_key}",
                   title=_("事项“%(title)s”的“%(stage)s”环节已超过办理时限（%(deadline)s）。") % {
                       "title": matter.title, "stage": stage_name, "deadline": _fmt(deadline)})
            counts["notified"] += 1
        record("supervision.deadline.overdue", actor=None, obj=matter,
               after={"stage": matter.stage, "deadline": deadline, "actions": actions})
    hours_over = (now - deadline).total_seconds() / 3600
    if "supervise" in actions and pol.chain:
        level = min(int(hours_over // pol.step_hours), len(pol.chain) - 1)
        item = open_automatic_item(matter, stage=matter.stage, stage_name=stage_name,
                                   stage_entered_at=matter.stage_entered_at, deadline=deadline,
                                   level=level, chain=pol.chain, now=now)
        if item is not None:
            counts[f"supervised_level_{level}"] += 1
    if changed:
        watch.save(update_fields=changed)
        changed = []
    if ("escalate" in actions and watch.escalated_at is None
            and hours_over >= pol.escalate_after_hours):
        _escalate(matter, watch, stage_name, now, counts)


def _watch(matter: Matter, stage_name: str, now: dt.datetime) -> DeadlineWatch | None:
    lookup = dict(matter=matter, stage=matter.stage, stage_entered_at=matter.stage_entered_at,
                  deadline=matter.stage_deadline)
    watch = DeadlineWatch.objects.filter(**lookup).first()
    if watch is not None:
        return watch
    # Earlier visits the matter has left (when no hook saw it go), and earlier deadlines of
    # this visit (replaced by an escalation or an extension), have ended.
    earlier = DeadlineWatch.objects.filter(matter=matter, left_at__isnull=True)
    earlier.exclude(stage=matter.stage, stage_entered_at=matter.stage_entered_at).update(
        left_at=matter.stage_entered_at)
    earlier.update(left_at=min(now, matter.updated_at or now))
    try:
        with transaction.atomic():
            return DeadlineWatch.objects.create(
                **lookup, county_id=matter.county_id, stage_name=stage_name,
                queue_place_id=matter.queue_place_id,
                responsible_org_id=matter.responsible_org_id,
            )
    except IntegrityError:
        return None  # another process is on it


def _escalate_action():
    """handling's escalation action, when that app provides it."""
    try:
        from gongzhi.handling.actions import do_escalate
    except ImportError:
        return None
    return do_escalate


def _escalate(matter: Matter, watch: DeadlineWatch, stage_name: str, now, counts) -> None:
    do_escalate = _escalate_action()
    if do_escalate is None:
        counts["escalation_unavailable"] += 1
        return
    reason = _("“%(stage)s”环节超过办理时限（%(deadline)s），按本地政策自动提级上报。") % {
        "stage": stage_name, "deadline": _fmt(watch.deadline)}
    try:
        with transaction.atomic():
            do_escalate(matter, acting_user=None, reason=reason, automatic=True)
    except (ActionError, ActionForbidden) as exc:
        # e.g. already at the county: there is no level above. Recorded, never retried.
        message = " ".join(getattr(exc, "messages", None) or [str(exc)])
        watch.escalation_note = message[:200]
        counts["escalation_refused"] += 1
    else:
        watch.escalation_note = ""
        counts["escalated"] += 1
    watch.escalated_at = now
    watch.save(update_fields=["escalated_at", "escalation_note"])
