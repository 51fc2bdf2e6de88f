"""Writes to a locality's category tree: add, rename, deactivate and reactivate.

Categories are never deleted: matters point at them, and figures by category must stay
readable for closed years. A deactivated category is no longer offered when raising a matter.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.places.models import Place, PlaceKind

from .models import Category

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
QUESTION_TYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}


def _check_permission(county: Place, acting_user) -> None:
    if acting_user is not None and not has_permission(acting_user, "workflows.change", county):
        raise ActionForbidden(_("您没有配置事项分类的权限。"))


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ActionError(_("请填写分类名称。"))
    if len(name) > 60:
        raise ActionError(_("分类名称不能超过60个字。"))
    return name


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > 200:
        raise ActionError(_("分类说明不能超过200个字。"))
    return description


def _check_name_free(county_id: int, parent_id: int | None, name: str, exclude: int | None = None):
    clash = Category.objects.filter(county_id=county_id, parent_id=parent_id, name=name,
                                    is_active=True)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ActionError(_("同一级下已有名为“%(n)s”的分类。") % {"n": name})


def question_problems(questions: Any) -> list[str]:
    """Problems with a category's questions (Open311 attributes), as sentences."""
    if not isinstance(questions, list):
        return [_("补充问题必须是列表。")]
    problems = []
    codes = set()
    for q in questions:
        if not isinstance(q, dict) or not isinstance(q.get("code"), str) or not q.get("code"):
            problems.append(_("每个补充问题都必须有文字编码（code）。"))
            continue
        code = q["code"]
        if code in codes:
            problems.append(_("补充问题编码“%(c)s”重复。") % {"c": code})
        codes.add(code)
        if q.get("datatype") not in QUESTION_TYPES:
            problems.append(_("补充问题“%(c)s”的类型（datatype）未知。") % {"c": code})
        if not isinstance(q.get("description"), str) or not q.get("description"):
            problems.append(_("补充问题“%(c)s”缺少说明（description）。") % {"c": code})
        if not isinstance(q.get("required", False), bool):
            problems.append(_("补充问题“%(c)s”的“是否必填”（required）必须是 true 或 false。")
                            % {"c": code})
        if q.get("datatype") in {"singlevaluelist", "multivaluelist"}:
            values = q.get("values")
            if not isinstance(values, list) or not values or not all(
                isinstance(v, dict) and v.get("key") and v.get("name") for v in values
            ):
                problems.append(_("补充问题“%(c)s”是选择题，"
                                  "须列出选项（values，每项有 key 和 name）。") % {"c": code})
    return problems


@transaction.atomic
def do_add_category(county: Place, *, code: str, name: str, acting_user,
                    parent: Category | None = None, description: str = "",
                    questions: list[dict[str, Any]] | None = None) -> Category:
    """Add a category (or a sub-category under ``parent``) to the county's tree."""
    if county.kind != PlaceKind.COUNTY:
        raise ActionError(_("事项分类属于县（区）。"))
    _check_permission(county, acting_user)
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise ActionError(_("分类编码须以小写字母开头，"
                            "只含小写字母、数字和下划线，不超过40个字符。"))
    name = _clean_name(name)
    description = _clean_description(description)
    questions = questions or []
    problems = question_problems(questions)
    if problems:
        raise ActionError(" ".join(problems))
    if parent is not None:
        if parent.county_id != county.pk:
            raise ActionError(_("上级分类不属于本地。"))
        if not parent.is_active:
            raise ActionError(_("不能在已停用的分类下添加子分类。"))
    if Category.objects.filter(county=county, code=code).exists():
        raise ActionError(_("编码“%(c)s”已被使用，停用的分类也占用编码。") % {"c": code})
    _check_name_free(county.pk, parent.pk if parent else None, name)
    last = Category.objects.filter(county=county, parent=parent).order_by("-sort_order").first()
    category = Category.objects.create(
        county=county, parent=parent, code=code, name=name, description=description,
        questions=questions, sort_order=(last.sort_order + 1) if last else 0,
    )
    record("matters.category.add", actor=acting_user, obj=category, county_id=county.pk,
           after={"code": code, "name": name, "parent": parent.pk if parent else None,
                  "description": description, "questions": questions})
    return category


@transaction.atomic
def do_rename_category(category: Category, name: str, *, acting_user,
                       description: str | None = None) -> Category:
    """Rename a category (and optionally change its description). Matters keep pointing at it."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    _check_permission(category.county, acting_user)
    name = _clean_name(name)
    new_description = (category.description if description is None
                       else _clean_description(description))
    if name == category.name and new_description == category.description:
        return category
    if name != category.name:
        _check_name_free(category.county_id, category.parent_id, name, exclude=category.pk)
    before = {"name": category.name, "description": category.description}
    category.name = name
    category.description = new_description
    category.save(update_fields=["name", "description"])
    record("matters.category.rename", actor=acting_user, obj=category,
           county_id=category.county_id, before=before,
           after={"name": name, "description": new_description})
    return category


@transaction.atomic
def do_set_category_active(category: Category, is_active: bool, *, acting_user) -> Category:
    """Deactivate a category (no longer offered for new matters; its sub-categories too) or
    bring it back (its parent must be active)."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    _check_permission(category.county, acting_user)
    if category.is_active == is_active:
        return category
    changed = [category.pk]
    if is_active:
        if category.parent is not None and not category.parent.is_active:
            raise ActionError(_("上级分类“%(n)s”已停用，请先启用上级分类。")
                              % {"n": category.parent.name})
        _check_name_free(category.county_id, category.parent_id, category.name,
                         exclude=category.pk)
        category.is_active = True
        category.save(update_fields=["is_active"])
    else:
        todo = [category.pk]
        while todo:
            children = list(Category.objects.filter(parent_id__in=todo, is_active=True)
                            .values_list("pk", flat=True))
            changed += children
            todo = children
        Category.objects.filter(pk__in=changed).update(is_active=False)
        category.is_active = False
    record("matters.category.activate" if is_active else "matters.category.deactivate",
           actor=acting_user, obj=category, county_id=category.county_id,
           before={"is_active": not is_active}, after={"is_active": is_active,
                                                       "categories": changed})
    return category
