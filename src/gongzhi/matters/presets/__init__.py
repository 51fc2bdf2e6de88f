"""The presets shipped with gongzhi (one JSON file each) and the checks they must pass.

A preset is ``{"key", "name", "description", "policy", "categories", "workflow"}``; see
``docs/workflows.md`` for every field and every policy key. :func:`preset_problems` is what
``gongzhi workflows check`` runs on each file, on top of the engine's ``workflow.validate``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Who may rate a matter, by preset (``policy.evaluator_kinds``).
EVALUATOR_KINDS = {
    "reporter": gettext_lazy("群众测评"),
    "party_member": gettext_lazy("党员议评"),
    "unit": gettext_lazy("企事业单位参评"),
    "department": gettext_lazy("部门协评"),
    "superior": gettext_lazy("上级考评"),
}

# Every policy key a preset may carry, with the label the settings pages show.
POLICY_KEYS = {
    "evaluation_days": gettext_lazy("评价期限（工作日）"),
    "summons_checkin_hours": gettext_lazy("吹哨后报到时限（小时）"),
    "urgent_checkin_minutes": gettext_lazy("紧急吹哨报到时限（分钟）"),
    "warn_before_hours": gettext_lazy("到期前提醒（小时）"),
    "supervision_chain": gettext_lazy("督办链条（角色）"),
    "supervision_chain_labels": gettext_lazy("督办链条名称"),
    "supervision_routes": gettext_lazy("督办方式"),
    "supervision_step_hours": gettext_lazy("督办升级间隔（小时）"),
    "escalate_after_levels": gettext_lazy("超时几个督办间隔后提级上报"),
    "handling_working_days": gettext_lazy("无办理时限时的交办期限（工作日）"),
    "reopen_on": gettext_lazy("哪些评价主体不满意时重新办理"),
    "publish_on_close": gettext_lazy("办结后公示"),
    "evaluator_kinds": gettext_lazy("评价主体"),
    "evaluation_aspects": gettext_lazy("评价维度"),
    "evaluation_used_for": gettext_lazy("评价结果用于"),
    "speaking_days": gettext_lazy("每月说事日"),
    "agenda_lead_days": gettext_lazy("议题提前确定（天）"),
    "deliberation_bodies": gettext_lazy("议事机构"),
    "decision_mechanism": gettext_lazy("决策机制"),
    "handling_modes": gettext_lazy("办理方式"),
    "honour_lists": gettext_lazy("红黑榜"),
    "whistle_roles": gettext_lazy("吹哨角色"),
    "mediation_ways": gettext_lazy("评理方式"),
    "mediation_methods": gettext_lazy("法治剖析评的处置方式"),
    "outcomes": gettext_lazy("处置结果"),
    "request_types": gettext_lazy("诉求类型"),
    "weekly_visit_target": gettext_lazy("每人每周走访户数"),
    "return_visit_days": gettext_lazy("办结后回访期限（天）"),
    "bulletin_period": gettext_lazy("通报周期"),
    "ledger_levels": gettext_lazy("建账层级"),
    "intake_channels": gettext_lazy("收集渠道"),
    "petition_rules": gettext_lazy("信访工作条例时限（日）"),
}

POSITIVE_NUMBERS = ("evaluation_days", "summons_checkin_hours", "urgent_checkin_minutes",
                    "warn_before_hours", "supervision_step_hours", "handling_working_days",
                    "agenda_lead_days", "weekly_visit_target", "return_visit_days")
NON_NEGATIVE_NUMBERS = ("escalate_after_levels",)
BOOLEANS = ("publish_on_close", "honour_lists")
ROLE_LISTS = ("supervision_chain", "whistle_roles")
REQUIRED_POLICY = ("evaluation_days", "summons_checkin_hours", "urgent_checkin_minutes",
                   "warn_before_hours", "supervision_chain", "publish_on_close", "evaluator_kinds")
REQUIRED_TRIGGERS = ("evaluated", "dissatisfied", "no_answer")


def policy_problems(policy: Any) -> list[str]:
    """Problems with a locality's policy, as sentences."""
    from gongzhi.accounts.roles import Role

    if not isinstance(policy, dict):
        return [_("政策参数必须是一个对象。")]
    problems = []
    for key in policy:
        if key not in POLICY_KEYS:
            problems.append(_("政策参数“%(k)s”未知，请在 docs/workflows.md 中说明后再使用。")
                            % {"k": key})
    for key in REQUIRED_POLICY:
        if key not in policy:
            problems.append(_("缺少政策参数“%(k)s”。") % {"k": key})
    for key in POSITIVE_NUMBERS:
        value = policy.get(key)
        if key in policy and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            problems.append(_("政策参数“%(k)s”必须是正整数。") % {"k": key})
    for key in NON_NEGATIVE_NUMBERS:
        value = policy.get(key)
        if key in policy and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            problems.append(_("政策参数“%(k)s”必须是零或正整数。") % {"k": key})
    for key in BOOLEANS:
        if key in policy and not isinstance(policy[key], bool):
            problems.append(_("政策参数“%(k)s”必须是 true 或 false。") % {"k": key})
    for key in ROLE_LISTS:
        roles = policy.get(key, [])
        if not isinstance(roles, list) or any(r not in Role.values for r in roles):
            problems.append(_("政策参数“%(k)s”必须是已知角色的列表。") % {"k": key})
    labels = policy.get("supervision_chain_labels")
    if labels is not None and (not isinstance(labels, list)
                               or len(labels) != len(policy.get("supervision_chain") or [])):
        problems.append(_("督办链条名称须与督办链条一一对应。"))
    kinds = policy.get("evaluator_kinds", [])
    if not isinstance(kinds, list) or not kinds or any(k not in EVALUATOR_KINDS for k in kinds):
        problems.append(_("评价主体（evaluator_kinds）必须是已知评价主体的非空列表。"))
    reopen = policy.get("reopen_on", [])
    if not isinstance(reopen, list) or any(k not in EVALUATOR_KINDS for k in reopen):
        problems.append(_("重新办理的评价主体（reopen_on）必须是已知评价主体的列表。"))
    days = policy.get("speaking_days", [])
    if not isinstance(days, list) or any(
        isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 31 for d in days
    ):
        problems.append(_("说事日（speaking_days）必须是 1 到 31 之间的日期列表。"))
    return problems


def category_problems(items: Any, codes: set[str] | None = None) -> list[str]:
    """Problems with a preset's category tree, as sentences."""
    from gongzhi.matters.category_actions import CODE_RE, question_problems

    codes = set() if codes is None else codes
    if not isinstance(items, list):
        return [_("事项分类必须是列表。")]
    problems = []
    for item in items:
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not CODE_RE.match(code):
            problems.append(_("有事项分类的编码缺失或写法有误。"))
            continue
        if code in codes:
            problems.append(_("事项分类编码“%(c)s”重复。") % {"c": code})
        codes.add(code)
        if not isinstance(item.get("name"), str) or not item["name"] or len(item["name"]) > 60:
            problems.append(_("事项分类“%(c)s”缺少名称或名称过长。") % {"c": code})
        for p in question_problems(item.get("questions", [])):
            problems.append(_("事项分类“%(c)s”：%(p)s") % {"c": code, "p": p})
        problems += category_problems(item.get("children", []), codes)
    return problems


def preset_problems(key: str, preset: Any) -> list[str]:
    """Everything wrong with a preset file: the workflow (``workflow.validate``), the system
    transitions other apps fire, the policy and the categories."""
    from gongzhi.matters import workflow

    if not isinstance(preset, dict):
        return [_("模板必须是一个对象。")]
    problems = []
    if preset.get("key") != key:
        problems.append(_("模板文件中的标识（key）与文件名不一致。"))
    if not preset.get("name") or not preset.get("description"):
        problems.append(_("模板缺少名称（name）或说明（description）。"))
    defn = preset.get("workflow")
    problems += workflow.validate(defn)
    if isinstance(defn, dict) and not problems:
        stages = defn["stages"]
        if not any(s["kind"] == "evaluation" for s in stages):
            problems.append(_("模板的流程没有评价（evaluation）环节。"))
        for s in stages:
            if s["kind"] not in ("closed", "evaluation") and not s.get("limit"):
                problems.append(_("环节“%(s)s”没有时限。") % {"s": s["key"]})
    problems += policy_problems(preset.get("policy"))
    problems += category_problems(preset.get("categories"))
    return problems
