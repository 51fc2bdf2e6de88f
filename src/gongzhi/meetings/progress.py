"""How far a resolution has got: a percentage and milestones derived from its matter's stage.

The matter's workflow is the locality's own, so progress is read from the *kinds* of its
stages in the loop's order (受理 → 议事 → 办理 → 督查 → 反馈 → 评价 → 公示 → 办结): each kind
the workflow uses is a milestone, the matter's current kind says how many are done, and a
closed matter is 100%. :func:`resolution_progress` is pure: it reads the resolution, its
matter and the matter's workflow definition (load them with ``select_related``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from gongzhi.matters.models import StageKind

KIND_ORDER = [
    StageKind.INTAKE, StageKind.REVIEW, StageKind.ACCEPTANCE_NOTICE, StageKind.DELIBERATION,
    StageKind.HANDLING, StageKind.SUPERVISION, StageKind.FEEDBACK, StageKind.SIGN_OFF,
    StageKind.EVALUATION, StageKind.DISCLOSURE, StageKind.CLOSED,
]


@dataclass(frozen=True)
class Milestone:
    name: str
    done: bool
    current: bool = False


@dataclass(frozen=True)
class Progress:
    percent: int
    stage_name: str
    is_closed: bool
    milestones: list[Milestone] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"percent": self.percent, "stage_name": self.stage_name,
                "is_closed": self.is_closed,
                "milestones": [{"name": m.name, "done": m.done, "current": m.current}
                               for m in self.milestones]}


def _stage_milestones(stages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, name) of each kind the workflow uses, in the loop's order (first stage's name)."""
    names: dict[str, str] = {}
    for s in stages:
        names.setdefault(s.get("kind"), s.get("name") or s.get("key"))
    return [(k, names[k]) for k in KIND_ORDER if k in names]


def resolution_progress(resolution) -> Progress:
    decided = Milestone(_("会议决议"), True)
    matter = resolution.matter
    if matter is None:
        return Progress(0, _("待转为事项"), False, [decided, Milestone(_("转为事项交办"), False)])
    if matter.merged_into_id and matter.merged_into is not None:
        matter = matter.merged_into
    stages = (matter.workflow.definition or {}).get("stages", [])
    steps = _stage_milestones(stages)
    kinds = [k for k, _n in steps]
    stage_name = next((s.get("name") or s["key"] for s in stages if s.get("key") == matter.stage),
                      matter.stage)
    if matter.is_closed:
        position = len(steps) - 1
    else:
        kind = matter.stage_kind
        position = kinds.index(kind) if kind in kinds else 0
    percent = 100 if matter.is_closed else (
        round(100 * position / (len(steps) - 1)) if len(steps) > 1 else 0)
    milestones = [decided] + [
        Milestone(name, i < position or matter.is_closed, i == position and not matter.is_closed)
        for i, (_k, name) in enumerate(steps)
    ]
    return Progress(percent, stage_name, matter.is_closed, milestones)
