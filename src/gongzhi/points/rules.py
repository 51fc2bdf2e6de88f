"""Rule books: presets, which book applies where, and checking a book before it is saved.

A rule book belongs to a county, town or village and applies to everything beneath it; the
nearest one up the tree wins (a village's own book over its town's over its county's). Its
current version holds the *classes* (who is scored: households, and 富源's five classes of
cadres and party members), the *items* and the *policy*:

=================  =========================================================================
``year_end``       ``carry_over`` (balances run on) or ``expire`` (year-end 清零)
``stars``          ``[{"stars": 1, "min": 20}, ...]``: 星级 from a year's earned points
``notice_days``    days a published ranking stays open for objections (default 7)
``public_label``   how the public ranking names a household: ``both`` (door number and
                   masked head, 高城寨村1号 · 张**), ``masked_name`` or ``door``
``shop_name``      the name a new shop takes (积分超市, 平安超市, 爱心积分兑换区)
=================  =========================================================================
"""

from __future__ import annotations

import json
from importlib import resources
from itertools import pairwise
from typing import Any

from django.utils.translation import gettext as _

from gongzhi.accounts.roles import Role
from gongzhi.core.errors import ActionError
from gongzhi.places.models import Place, PlaceKind

from .models import HOUSEHOLD_CLASS, CapPeriod, RuleBook, RuleBookVersion, YearEndPolicy

PRESETS = ("default", "jingning", "fuyuan", "anze", "shiquan")
BOOK_LEVELS = (PlaceKind.COUNTY, PlaceKind.TOWN, PlaceKind.VILLAGE)
PUBLIC_LABELS = ("both", "masked_name", "door")
DEFAULT_POLICY: dict[str, Any] = {
    "year_end": YearEndPolicy.CARRY_OVER,
    "stars": [],
    "notice_days": 7,
    "public_label": "both",
    "shop_name": "积分超市",
}
MAX_ITEMS = 300
MAX_POINTS = 1000


def load_preset(key: str) -> dict[str, Any]:
    if key not in PRESETS:
        raise ActionError(_("未知的积分模板：%(k)s。") % {"k": key})
    text = resources.files("gongzhi.points.presets").joinpath(f"{key}.json").read_text("utf-8")
    return json.loads(text)


def preset_choices() -> list[tuple[str, str]]:
    return [(key, load_preset(key)["name"]) for key in PRESETS]


def rule_book_for(place: Place) -> RuleBook | None:
    """The nearest rule book at or above ``place`` (village, then town, then county)."""
    ids = [place.ancestor_id(level) for level in ("village", "town", "county")]
    ids = [i for i in ids if i]
    books = {b.place_id: b for b in RuleBook.objects.filter(place_id__in=ids)}
    for pid in ids:
        if pid in books:
            return books[pid]
    return None


def current_version(place: Place) -> RuleBookVersion | None:
    book = rule_book_for(place)
    return book.current() if book is not None else None


def policy_for(place: Place) -> dict[str, Any]:
    version = current_version(place)
    return {**DEFAULT_POLICY, **(version.policy if version else {})}


# ---------------------------------------------------------------------------------------------
# Checking a book


def clean_classes(classes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned, keys = [], set()
    for c in classes or []:
        key = str(c.get("key") or "").strip()
        label = str(c.get("label") or "").strip()
        subject = c.get("subject") or "person"
        if not key or not label:
            raise ActionError(_("每个计分类别都要有编码和名称。"))
        if key in keys:
            raise ActionError(_("计分类别编码 %(k)s 重复。") % {"k": key})
        if subject not in ("household", "person"):
            raise ActionError(_("计分类别 %(k)s 的对象只能是户或个人。") % {"k": key})
        if (key == HOUSEHOLD_CLASS) != (subject == "household"):
            raise ActionError(_("编码 household 专用于按户计分的类别。"))
        keys.add(key)
        cleaned.append({"key": key, "label": label[:60], "subject": subject})
    if HOUSEHOLD_CLASS not in keys:
        cleaned.insert(0, {"key": HOUSEHOLD_CLASS, "label": _("农户"), "subject": "household"})
    return cleaned


def clean_policy(policy: dict[str, Any] | None) -> dict[str, Any]:
    merged = {**DEFAULT_POLICY, **(policy or {})}
    if merged["year_end"] not in YearEndPolicy.values:
        raise ActionError(_("年末政策只能是结转或清零。"))
    try:
        notice = int(merged["notice_days"])
    except (TypeError, ValueError):
        notice = -1
    if not 1 <= notice <= 60:
        raise ActionError(_("公示期应为1至60天。"))
    merged["notice_days"] = notice
    if merged["public_label"] not in PUBLIC_LABELS:
        raise ActionError(_("公示名称方式不正确。"))
    stars = []
    try:
        for t in merged.get("stars") or []:
            stars.append({"stars": int(t["stars"]), "min": int(t["min"])})
    except (KeyError, TypeError, ValueError) as exc:
        raise ActionError(_("星级标准格式不正确。")) from exc
    stars.sort(key=lambda t: t["stars"])
    for a, b in pairwise(stars):
        if a["stars"] == b["stars"] or a["min"] >= b["min"]:
            raise ActionError(_("星级越高，所需积分应越多。"))
    if any(not 1 <= t["stars"] <= 10 or t["min"] < 0 for t in stars):
        raise ActionError(_("星级应为1至10星，所需积分不能为负。"))
    merged["stars"] = stars
    merged["shop_name"] = str(merged.get("shop_name") or DEFAULT_POLICY["shop_name"])[:60]
    return merged


def _int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ActionError(_("上限必须是整数。")) from exc
    if number <= 0:
        raise ActionError(_("上限必须大于零。"))
    return number


def clean_items(items: list[dict[str, Any]], classes: list[dict[str, Any]]
                ) -> list[dict[str, Any]]:
    """Items as given (the preset format), checked; raises ActionError with a sentence."""
    if not items:
        raise ActionError(_("积分细则至少要有一个项目。"))
    if len(items) > MAX_ITEMS:
        raise ActionError(_("积分细则最多 %(n)d 个项目。") % {"n": MAX_ITEMS})
    class_keys = {c["key"] for c in classes}
    roles = set(Role.values)
    cleaned, codes = [], set()
    for i, item in enumerate(items, start=1):
        code = str(item.get("code") or "").strip()
        category = str(item.get("category") or "").strip()
        description = str(item.get("description") or "").strip()
        klass = str(item.get("klass") or HOUSEHOLD_CLASS)
        if not code or not category or not description:
            raise ActionError(_("第 %(n)d 项缺少编号、类别或内容。") % {"n": i})
        if len(code) > 20 or len(category) > 60 or len(description) > 300:
            raise ActionError(
                _("第 %(n)d 项过长：编号不超过20字，类别不超过60字，内容不超过300字。") % {"n": i})
        if code in codes:
            raise ActionError(_("项目编号 %(c)s 重复。") % {"c": code})
        codes.add(code)
        try:
            points = int(item.get("points"))
        except (TypeError, ValueError) as exc:
            raise ActionError(_("第 %(n)d 项的分值必须是整数。") % {"n": i}) from exc
        if points == 0 or abs(points) > MAX_POINTS:
            raise ActionError(_("第 %(n)d 项的分值应为非零整数，绝对值不超过 %(m)d。")
                              % {"n": i, "m": MAX_POINTS})
        if klass not in class_keys:
            raise ActionError(_("第 %(n)d 项的适用对象 %(k)s 不在计分类别中。")
                              % {"n": i, "k": klass})
        cap = item.get("cap") or {}
        period = cap.get("period") or ""
        cap_count, cap_points = _int_or_none(cap.get("count")), _int_or_none(cap.get("points"))
        if period and period not in CapPeriod.values:
            raise ActionError(_("第 %(n)d 项的上限周期不正确。") % {"n": i})
        if (cap_count or cap_points) and not period:
            raise ActionError(_("第 %(n)d 项设了上限，请选择上限周期。") % {"n": i})
        if period and not (cap_count or cap_points):
            period = ""
        recorders = [r for r in item.get("recorders") or [] if r]
        if not recorders or not set(recorders) <= roles:
            raise ActionError(_("第 %(n)d 项要选择可以记录它的角色。") % {"n": i})
        if points < 0 and Role.RESIDENT in recorders:
            raise ActionError(_("第 %(n)d 项是扣分项，群众不能自行申报。") % {"n": i})
        cleaned.append({
            "code": code, "klass": klass, "category": category, "description": description,
            "points": points, "evidence": bool(item.get("evidence")),
            "cap": {"period": period, "count": cap_count, "points": cap_points},
            "recorders": sorted(set(recorders), key=Role.values.index),
        })
    return cleaned


def item_dict(item) -> dict[str, Any]:
    """A saved :class:`RuleItem` in the preset format (to copy it into a new version)."""
    return {"code": item.code, "klass": item.klass, "category": item.category,
            "description": item.description, "points": item.points,
            "evidence": item.evidence_required,
            "cap": {"period": item.cap_period, "count": item.cap_count,
                    "points": item.cap_points},
            "recorders": list(item.recorders)}
