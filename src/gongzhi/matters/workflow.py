"""The workflow engine: a locality's definition is data; this module is the small engine.

A definition (JSON, see ``docs/workflows.md``) names stages, each of a kind the code knows
(:class:`~gongzhi.matters.models.StageKind`), and transitions between them: who may take each
(roles, or ``responsible`` for the matter's handler), what each requires, the time limit of
each stage and what happens when it runs out. :func:`validate` refuses a definition with
unreachable stages, dead ends, no closed stage or unknown roles. :func:`do_transition` is the
one guard: it raises before anything changes, then saves, logs, audits and runs the hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.roles import Role
from gongzhi.audit.log import record, to_json
from gongzhi.core import calendar
from gongzhi.core.access import user_grants
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.places.models import LEVELS

from .models import EventKind, Matter, MatterEvent, Outcome, StageKind, WorkflowDefinition

PSEUDO_ROLES = {"responsible", "system"}
TIMEOUT_ACTIONS = {"notify", "supervise", "escalate"}
REQUIRABLE_FIELDS = {"outcome", "outcome_text", "explanation", "handling_mode",
                     "responsible_user", "responsible_org", "due_at", "category"}
TRIGGERS = {"dissatisfied", "no_answer", "evaluated"}
KEY_MAX = 40  # stage and transition keys are stored on matters and events


# ---------------------------------------------------------------------------------------------
# Validation


def validate(defn: dict[str, Any]) -> list[str]:
    """Every problem with a definition, as sentences; an empty list means it may be used."""
    errors: list[str] = []
    if not isinstance(defn, dict):
        return [_("流程定义必须是一个对象。")]
    stages = defn.get("stages") or []
    transitions = defn.get("transitions") or []
    shape = _shape_errors(stages, transitions)
    if shape:
        return shape
    if not isinstance(defn.get("key"), str) or not isinstance(defn.get("name"), str) or not (
        defn.get("key") and defn.get("name")
    ):
        errors.append(_("流程缺少标识（key）或名称（name）。"))
    elif len(defn["key"]) > KEY_MAX or len(defn["name"]) > 80:
        errors.append(_("流程标识不能超过40个字符，名称不能超过80个字。"))
    keys = [s.get("key") for s in stages]
    if len(keys) != len(set(keys)):
        errors.append(_("环节标识有重复。"))
    by_key = {s.get("key"): s for s in stages}
    kinds = set(StageKind.values)
    for s in stages:
        if s.get("kind") not in kinds:
            errors.append(_("环节“%(s)s”的类型“%(k)s”未知。")
                          % {"s": s.get("key"), "k": s.get("kind")})
        limit = s.get("limit")
        if limit is not None and not _limit_ok(limit):
            errors.append(_("环节“%(s)s”的时限写法有误，"
                            "应为 {\"hours\": N} 或 {\"working_days\": N}。") % {"s": s.get("key")})
        urgent = s.get("urgent_limit")
        if urgent is not None and not _limit_ok(urgent):
            errors.append(_("环节“%(s)s”的紧急时限（urgent_limit）写法有误，"
                            "应为 {\"hours\": N} 或 {\"working_days\": N}。") % {"s": s.get("key")})
        for act in s.get("on_timeout") or []:
            if act not in TIMEOUT_ACTIONS:
                errors.append(_("环节“%(s)s”的超时处理“%(a)s”未知。")
                              % {"s": s.get("key"), "a": act})
    closed = [s["key"] for s in stages if s.get("kind") == StageKind.CLOSED]
    if not closed:
        errors.append(_("流程没有办结归档（closed）环节。"))
    initial = defn.get("initial")
    if not isinstance(initial, str) or initial not in by_key:
        errors.append(_("起始环节“%(s)s”不存在。") % {"s": initial})
    known_roles = set(Role.values) | PSEUDO_ROLES
    tkeys = set()
    edges: dict[str, set[str]] = {k: set() for k in by_key}
    for t in transitions:
        name = t.get("key")
        if not name:
            errors.append(_("有流转缺少标识（key）。"))
            continue
        sources = list(by_key) if t.get("from") == "*" else list(t.get("from") or [])
        for src in sources:
            if (src, name) in tkeys:
                errors.append(_("环节“%(s)s”有重复的流转“%(t)s”。") % {"s": src, "t": name})
            tkeys.add((src, name))
            if src not in by_key:
                errors.append(_("流转“%(t)s”的起点“%(s)s”不存在。") % {"t": name, "s": src})
            elif t.get("to") in by_key:
                edges[src].add(t["to"])
        if t.get("to") not in by_key:
            errors.append(_("流转“%(t)s”的终点“%(s)s”不存在。") % {"t": name, "s": t.get("to")})
        roles = t.get("roles") or []
        if not roles:
            errors.append(_("流转“%(t)s”没有指定可以执行的角色。") % {"t": name})
        for role in roles:
            if role not in known_roles:
                errors.append(_("流转“%(t)s”中的角色“%(r)s”未知。") % {"t": name, "r": role})
        for field in (t.get("requires") or {}).get("fields", []):
            if field not in REQUIRABLE_FIELDS:
                errors.append(_("流转“%(t)s”要求的字段“%(f)s”未知。") % {"t": name, "f": field})
        trig = t.get("trigger")
        if trig is not None and trig not in TRIGGERS:
            errors.append(_("流转“%(t)s”的触发条件“%(g)s”未知。") % {"t": name, "g": trig})
    for s in stages:  # a rating must always have somewhere to go (evaluation app fires these)
        if s.get("kind") != StageKind.EVALUATION:
            continue
        fired = {t.get("trigger") for t in transitions
                 if t.get("from") == "*" or s.get("key") in (t.get("from") or [])}
        for trig in sorted(TRIGGERS - fired):
            errors.append(_("评价环节“%(s)s”缺少由评价结果触发（trigger）的流转“%(g)s”。")
                          % {"s": s.get("key"), "g": trig})
    if errors:
        return errors
    reachable = _reach(initial, edges)
    for key in by_key:
        if key not in reachable:
            errors.append(_("环节“%(s)s”无法到达。") % {"s": key})
    for key in by_key:
        if by_key[key]["kind"] == StageKind.CLOSED:
            continue
        if not edges[key]:
            errors.append(_("环节“%(s)s”是死路：没有任何流转离开它。") % {"s": key})
        elif not (set(closed) & _reach(key, edges)):
            errors.append(_("从环节“%(s)s”无法到达办结归档。") % {"s": key})
    return errors


def _shape_errors(stages: Any, transitions: Any) -> list[str]:
    """Hand-edited JSON may have any shape: refuse what the checks below cannot read."""
    if not isinstance(stages, list) or not all(isinstance(s, dict) for s in stages):
        return [_("环节（stages）必须是由对象组成的列表。")]
    if not isinstance(transitions, list) or not all(isinstance(t, dict) for t in transitions):
        return [_("流转（transitions）必须是由对象组成的列表。")]
    errors = []
    for s in stages:
        if not isinstance(s.get("key"), str) or not s.get("key") or len(s["key"]) > KEY_MAX:
            errors.append(_("每个环节都必须有文字标识（key），不超过40个字符。"))
        elif not isinstance(s.get("kind"), str) or not _str_list(s.get("on_timeout") or []):
            errors.append(_("环节“%(s)s”的类型（kind）必须是文字，超时处理（on_timeout）必须是文字列表。")
                          % {"s": s["key"]})
    for t in transitions:
        requires = t.get("requires") or {}
        if not isinstance(t.get("key", ""), str) or not isinstance(t.get("to", ""), str) or (
            len(t.get("key", "")) > KEY_MAX
        ):
            errors.append(_("流转的标识（key）和终点（to）必须是文字，标识不超过40个字符。"))
        elif not (t.get("from") == "*" or _str_list(t.get("from"))):
            errors.append(_("流转“%(t)s”的起点（from）必须是环节标识的列表或“*”。")
                          % {"t": t.get("key")})
        elif not _str_list(t.get("roles") or []) or not isinstance(t.get("trigger") or "", str):
            errors.append(_("流转“%(t)s”的角色（roles）必须是文字列表，触发条件（trigger）必须是文字。")
                          % {"t": t.get("key")})
        elif not isinstance(requires, dict) or not _str_list(requires.get("fields") or []):
            errors.append(_("流转“%(t)s”的要求（requires）必须是对象，其中的字段（fields）必须是文字列表。")
                          % {"t": t.get("key")})
    return errors


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _limit_ok(limit: Any) -> bool:
    if not isinstance(limit, dict) or len(limit) != 1:
        return False
    (unit, value), = limit.items()
    number = int if unit == "working_days" else int | float  # whole working days only
    return (unit in {"hours", "working_days"} and isinstance(value, number)
            and not isinstance(value, bool) and value > 0)


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# ---------------------------------------------------------------------------------------------
# The engine


@dataclass(frozen=True)
class Workflow:
    definition: dict[str, Any]

    @property
    def initial(self) -> str:
        return self.definition["initial"]

    def stage(self, key: str) -> dict[str, Any]:
        for s in self.definition["stages"]:
            if s["key"] == key:
                return s
        raise KeyError(key)

    def stages(self) -> list[dict[str, Any]]:
        return list(self.definition["stages"])

    def transitions_from(self, stage: str) -> list[dict[str, Any]]:
        return [t for t in self.definition["transitions"]
                if t.get("from") == "*" or stage in (t.get("from") or [])]

    def transition(self, stage: str, key: str) -> dict[str, Any] | None:
        return next((t for t in self.transitions_from(stage) if t["key"] == key), None)

    def triggered(self, stage: str, trigger: str) -> dict[str, Any] | None:
        return next((t for t in self.transitions_from(stage) if t.get("trigger") == trigger), None)


def workflow_of(defn: WorkflowDefinition) -> Workflow:
    """The engine's view of a stored definition (already parsed with the row; nothing cached,
    because a row id can come back after a rollback with another definition in it)."""
    return Workflow(defn.definition)


def stage_deadline(matter: Matter, stage: dict[str, Any], start=None) -> calendar.Deadline | None:
    limit = stage.get("limit")
    if matter.urgency != "normal" and stage.get("urgent_limit"):
        limit = stage["urgent_limit"]
    if not limit:
        return None
    start = start or timezone.now()
    if "hours" in limit:
        return calendar.add_hours(start, limit["hours"])
    return calendar.add_working_days(start, int(limit["working_days"]))


def role_holds(user, role: str, matter: Matter) -> bool:
    """Whether the user holds ``role`` over this matter where it now waits.

    The grant must cover the matter's place and sit at or above the level of the queue the
    matter waits in: once a matter is escalated to the town, village cadres read it but the
    town acts on it.
    """
    if role == "responsible":
        return bool(
            (matter.responsible_user_id and matter.responsible_user_id == user.pk)
            or (matter.responsible_org_id
                and getattr(user, "organisation_id", None) == matter.responsible_org_id)
        )
    if role == "system":
        return False
    queue_level = LEVELS.index(matter.queue_place.kind)
    place = matter.place
    for g in user_grants(user):
        if g.role != role:
            continue
        if place.ancestor_id(g.kind) == g.place_id and LEVELS.index(g.kind) <= queue_level:
            return True
    return False


def may_take(user, matter: Matter, t: dict[str, Any]) -> bool:
    if t.get("trigger"):
        return False
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return any(role_holds(user, role, matter) for role in t.get("roles", []))


def available_transitions(matter: Matter, user) -> list[dict[str, Any]]:
    if matter.is_closed and not workflow_of(matter.workflow).transitions_from(matter.stage):
        return []
    wf = workflow_of(matter.workflow)
    return [t for t in wf.transitions_from(matter.stage) if may_take(user, matter, t)]


# Hooks that other apps register: called inside the transaction after the matter is saved.
# ``on_enter[kind]`` when a matter enters a stage of that kind; ``on_transition`` always.
Hook = Callable[..., None]
on_enter: dict[str, list[Hook]] = {}
on_transition: list[Hook] = []


def register_on_enter(kind: str, hook: Hook) -> None:
    if hook not in on_enter.setdefault(kind, []):
        on_enter[kind].append(hook)


def register_on_transition(hook: Hook) -> None:
    if hook not in on_transition:
        on_transition.append(hook)


MATTER_STATE_FIELDS = ["stage", "stage_kind", "stage_entered_at", "stage_deadline",
                       "deadline_uncertain", "is_closed", "closed_at", "accepted_at",
                       "feedback_at", "updated_at"]


def enter_stage(matter: Matter, stage: dict[str, Any], now=None) -> list[str]:
    """Put the matter in ``stage`` (in memory); returns the fields changed."""
    now = now or timezone.now()
    matter.stage = stage["key"]
    matter.stage_kind = stage["kind"]
    matter.stage_entered_at = now
    deadline = stage_deadline(matter, stage, now)
    matter.stage_deadline = deadline.at if deadline else None
    matter.deadline_uncertain = bool(deadline and deadline.uncertain)
    if stage["kind"] == StageKind.CLOSED:
        matter.is_closed = True
        matter.closed_at = now
    else:
        matter.is_closed = False
        matter.closed_at = None
    if matter.accepted_at is None and stage["kind"] not in (StageKind.INTAKE,):
        matter.accepted_at = now
    if stage["kind"] == StageKind.FEEDBACK or (
        stage["kind"] in (StageKind.EVALUATION, StageKind.SIGN_OFF, StageKind.CLOSED)
        and matter.feedback_at is None and matter.outcome
    ):
        matter.feedback_at = matter.feedback_at or now
    return list(MATTER_STATE_FIELDS)


def _apply_fields(matter: Matter, t: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    changed = []
    requires = t.get("requires") or {}
    for name in requires.get("fields", []):
        if fields.get(name) in (None, ""):
            raise ActionError(_("执行“%(t)s”需要填写：%(f)s。")
                              % {"t": t.get("name", t["key"]),
                                 "f": str(Matter._meta.get_field(name).verbose_name)})
    for name, value in fields.items():
        if name not in REQUIRABLE_FIELDS or value in (None, ""):
            continue
        if name == "outcome" and value not in Outcome.values:
            raise ActionError(_("未知的办理结果。"))
        attr = f"{name}_id" if name in {"responsible_user", "responsible_org", "category"} else name
        value = value.pk if hasattr(value, "pk") else value
        setattr(matter, attr, value)
        changed.append(attr)
    if matter.outcome == Outcome.UNSOLVABLE and not (matter.explanation or "").strip():
        raise ActionError(_("办理结果为“无法解决”时，必须填写向群众所作的解释。"))
    return changed


@transaction.atomic
def do_transition(matter: Matter, key: str, *, acting_user, comment: str = "",
                  fields: dict[str, Any] | None = None, attachments: list | None = None,
                  trigger: str | None = None) -> Matter:
    """Take transition ``key`` (or the one ``trigger`` names, for system transitions).

    Raises :class:`ActionError` or :class:`ActionForbidden` before anything changes.
    """
    matter = Matter.objects.select_for_update().select_related(
        "workflow", "place", "queue_place").get(pk=matter.pk)
    wf = workflow_of(matter.workflow)
    current = matter.stage
    t = wf.triggered(current, trigger) if trigger else wf.transition(current, key)
    if t is None:
        stage_name = wf.stage(current).get("name", current)
        raise ActionError(_("事项当前处于“%(s)s”环节，不能执行此操作。") % {"s": stage_name})
    if not trigger and not may_take(acting_user, matter, t):
        raise ActionForbidden(_("您的角色不能在此环节执行“%(t)s”。") % {"t": t.get("name", key)})
    requires = t.get("requires") or {}
    comment = (comment or "").strip()
    if requires.get("comment") and not comment:
        raise ActionError(_("执行“%(t)s”需要填写意见。") % {"t": t.get("name", key)})
    if requires.get("attachment") and not attachments:
        raise ActionError(_("执行“%(t)s”需要上传附件。") % {"t": t.get("name", key)})
    before = {"stage": matter.stage, "deadline": matter.stage_deadline}
    changed = _apply_fields(matter, t, fields or {})
    target = wf.stage(t["to"])
    changed += enter_stage(matter, target)
    if "due_at" in changed and target["kind"] == StageKind.HANDLING and matter.due_at:
        # A deadline decided in this step (安泽's 议事 fixes each topic's deadline) governs the
        # handling stage it leads into, in place of the stage's default limit.
        matter.stage_deadline = matter.due_at
        matter.deadline_uncertain = False
    matter.save(update_fields=sorted(set(changed)))
    event = MatterEvent.objects.create(
        county_id=matter.county_id, matter=matter, actor=acting_user if getattr(
            acting_user, "is_authenticated", False) else None,
        kind=EventKind.TRANSITION, transition=t["key"], from_stage=current, to_stage=target["key"],
        summary=t.get("name", t["key"])[:200], comment=comment,
        data=to_json({k: (v.pk if hasattr(v, "pk") else v) for k, v in (fields or {}).items()
                      if k in REQUIRABLE_FIELDS}),  # due_at is a datetime
        is_public=bool(t.get("public", target.get("public", True))),
    )
    if attachments:
        from .actions import attach_files

        attach_files(matter, attachments, acting_user=acting_user, event=event)
    for hook in on_transition:
        hook(matter, t, event, acting_user)
    for hook in on_enter.get(target["kind"], []):
        hook(matter, target, event, acting_user)
    record("matters.matter.transition", actor=acting_user, obj=matter, before=before,
           after={"stage": matter.stage, "transition": t["key"], "deadline": matter.stage_deadline,
                  "trigger": trigger or ""})
    return matter
