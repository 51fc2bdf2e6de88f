"""Every write to matters outside the engine's transitions: raise, attach, note, merge, presets."""

from __future__ import annotations

import json
import mimetypes
from difflib import SequenceMatcher
from importlib import resources
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.places.models import LEVELS, Person, Place, PlaceKind
from gongzhi.places.validators import validate_phone

from . import workflow
from .models import (
    Category,
    Channel,
    EventKind,
    Ledger,
    Matter,
    MatterEvent,
    MatterFile,
    MatterSettings,
    Urgency,
    WorkflowDefinition,
)

ALLOWED_UPLOAD_TYPES = {
    "image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf",
    "audio/mpeg", "audio/mp4", "video/mp4", "text/plain",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOADS = 9
PRESETS = ("default", "jingning", "anze", "pinggu", "shiquan")


# ---------------------------------------------------------------------------------------------
# Presets and locality settings


def load_preset(key: str) -> dict[str, Any]:
    if key not in PRESETS:
        raise ActionError(_("未知的流程模板：%(k)s。") % {"k": key})
    text = resources.files("gongzhi.matters.presets").joinpath(f"{key}.json").read_text("utf-8")
    return json.loads(text)


def preset_workflow(key: str) -> WorkflowDefinition:
    """The shared (county-less) definition of a preset, created on first use."""
    preset = load_preset(key)
    defn, _created = WorkflowDefinition.objects.get_or_create(
        county=None, key=preset["workflow"]["key"], version=preset["workflow"].get("version", 1),
        defaults={"name": preset["workflow"]["name"], "definition": preset["workflow"],
                  "is_active": True},
    )
    return defn


@transaction.atomic
def do_adopt_preset(county: Place, key: str, *, acting_user) -> MatterSettings:
    """A locality picks a preset: its workflow (copied as the county's version 1), its policy
    and its category tree. Adopting again switches the workflow for new matters only."""
    if county.kind != PlaceKind.COUNTY:
        raise ActionError(_("只能为县/区选择流程模板。"))
    if acting_user is not None and not has_permission(acting_user, "workflows.change", county):
        raise ActionForbidden(_("您没有配置流程的权限。"))
    preset = load_preset(key)
    wf = preset["workflow"]
    errors = workflow.validate(wf)
    if errors:
        raise ActionError(" ".join(errors))
    latest = WorkflowDefinition.objects.filter(county=county, key=wf["key"]).order_by(
        "-version").first()
    if latest and latest.definition == wf:
        defn = latest
    else:
        defn = WorkflowDefinition.objects.create(
            county=county, key=wf["key"], name=wf["name"],
            version=(latest.version + 1) if latest else 1, definition=wf, is_active=True,
            created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        )
    WorkflowDefinition.objects.filter(county=county).exclude(pk=defn.pk).update(is_active=False)
    settings, _c = MatterSettings.objects.update_or_create(
        county=county,
        defaults={"preset": key, "workflow": defn, "policy": preset.get("policy", {})},
    )
    _ensure_categories(county, preset.get("categories", []))
    record("matters.preset.adopt", actor=acting_user, obj=settings, county_id=county.pk,
           after={"preset": key, "workflow": defn.pk, "version": defn.version})
    return settings


def _ensure_categories(county: Place, items: list[dict[str, Any]], parent=None) -> None:
    for i, item in enumerate(items):
        cat, _c = Category.objects.get_or_create(
            county=county, code=item["code"],
            defaults={"name": item["name"], "parent": parent, "sort_order": i,
                      "questions": item.get("questions", []),
                      "description": item.get("description", "")},
        )
        _ensure_categories(county, item.get("children", []), cat)


@transaction.atomic
def do_save_workflow(
    county: Place, definition: dict[str, Any], *, acting_user
) -> WorkflowDefinition:
    """Save an edited workflow as the county's next version and make it current."""
    if acting_user is not None and not has_permission(acting_user, "workflows.change", county):
        raise ActionForbidden(_("您没有配置流程的权限。"))
    errors = workflow.validate(definition)
    if errors:
        raise ActionError(" ".join(errors))
    settings = matter_settings(county)
    latest = WorkflowDefinition.objects.filter(county=county, key=definition["key"]).order_by(
        "-version").first()
    defn = WorkflowDefinition.objects.create(
        county=county, key=definition["key"], name=definition["name"],
        version=(latest.version + 1) if latest else 1, definition=definition, is_active=True,
        based_on=settings.workflow,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    WorkflowDefinition.objects.filter(county=county).exclude(pk=defn.pk).update(is_active=False)
    before = {"workflow": settings.workflow_id}
    settings.workflow = defn
    settings.save(update_fields=["workflow"])
    record("matters.workflow.save", actor=acting_user, obj=defn, county_id=county.pk,
           before=before, after={"workflow": defn.pk, "version": defn.version,
                                 "definition": definition})
    return defn


def matter_settings(county: Place | int) -> MatterSettings:
    county_id = county if isinstance(county, int) else county.pk
    settings = MatterSettings.objects.select_related("workflow").filter(county_id=county_id).first()
    if settings is None:
        with transaction.atomic():
            settings = do_adopt_preset(Place.objects.get(pk=county_id), "default", acting_user=None)
    return settings


def policy(county_id: int, name: str, default: Any = None) -> Any:
    return matter_settings(county_id).policy.get(name, default)


# ---------------------------------------------------------------------------------------------
# Raising a matter (说)


def queue_place_for(place: Place) -> Place:
    """A matter waits first in its village's queue (or the town/county it was raised at)."""
    if LEVELS.index(place.kind) >= LEVELS.index(PlaceKind.VILLAGE):
        return Place.objects.get(pk=place.village_id)
    return place


@transaction.atomic
def do_raise_matter(
    *,
    place: Place,
    title: str,
    text: str,
    channel: str,
    ledger: str,
    acting_user=None,
    category: Category | None = None,
    urgency: str = Urgency.NORMAL,
    reporter_person: Person | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    is_anonymous: bool = False,
    accused_organisation=None,
    accused_user=None,
    attributes: dict[str, Any] | None = None,
    attachments: list | None = None,
    source_ref: str = "",
    merge_into: Matter | None = None,
) -> Matter:
    """Register a matter. Staff raise on a resident's behalf (``matters.raise`` at the place);
    residents raise without an account (``acting_user`` None) through the public page."""
    if acting_user is not None and getattr(acting_user, "is_authenticated", False) and not (
        has_permission(acting_user, "matters.raise", place)
    ):
        raise ActionForbidden(_("您没有在该地点登记事项的权限。"))
    title, text = (title or "").strip(), (text or "").strip()
    if not title:
        raise ActionError(_("请填写事项标题。"))
    if len(title) > 120:
        raise ActionError(_("标题不能超过120个字。"))
    if not text:
        raise ActionError(_("请说明事项的具体内容。"))
    if channel not in Channel.values:
        raise ActionError(_("未知的来源渠道。"))
    if ledger not in Ledger.values:
        raise ActionError(_("请选择台账类别：意见建议、利益诉求或投诉举报。"))
    if urgency not in Urgency.values:
        raise ActionError(_("未知的紧急程度。"))
    if LEVELS.index(place.kind) < LEVELS.index(PlaceKind.VILLAGE) and channel not in (
        Channel.SUPERIOR, Channel.HOTLINE_12345, Channel.ONLINE_OPINION, Channel.OPEN311,
        Channel.WEB, Channel.MINQING_110,
    ):
        raise ActionError(_("请选择事项所在的村（社区）或网格。"))
    if category is not None and category.county_id != place.county_id:
        raise ActionError(_("事项分类不属于本地。"))
    if reporter_phone:
        reporter_phone = validate_phone(reporter_phone)
    if is_anonymous:
        reporter_person, reporter_name, reporter_phone = None, "", ""
    if source_ref and Matter.objects.filter(county_id=place.county_id, channel=channel,
                                            source_ref=source_ref).exists():
        raise ActionError(_("该外部编号的事项已登记。"))
    settings = matter_settings(place.county_id)
    wf = workflow.workflow_of(settings.workflow)
    matter = Matter(
        title=title, text=text, channel=channel, ledger=ledger, category=category,
        urgency=urgency, reporter_person=reporter_person, reporter_name=reporter_name.strip(),
        reporter_phone=reporter_phone, is_anonymous=is_anonymous,
        accused_organisation=accused_organisation, accused_user=accused_user,
        attributes=attributes or {}, workflow=settings.workflow, queue_place=queue_place_for(place),
        source_ref=source_ref,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    matter.set_place(place)
    now = timezone.now()
    matter.created_at = now
    workflow.enter_stage(matter, wf.stage(wf.initial), now)
    matter.accepted_at = None
    matter.save(force_insert=True)
    event = MatterEvent.objects.create(
        county_id=matter.county_id, matter=matter, actor=matter.created_by, kind=EventKind.RAISED,
        to_stage=matter.stage, summary=_("登记事项"), is_public=True,
        data={"channel": channel, "ledger": ledger},
    )
    if attachments:
        attach_files(matter, attachments, acting_user=acting_user, event=event)
    for hook in workflow.on_enter.get(matter.stage_kind, []):
        hook(matter, wf.stage(matter.stage), event, acting_user)
    record("matters.matter.raise", actor=acting_user, obj=matter,
           after={"tracking_code": matter.tracking_code, "channel": channel, "ledger": ledger,
                  "place": place.pk, "category": category.pk if category else None,
                  "urgency": urgency, "anonymous": is_anonymous})
    if merge_into is not None:
        # Staff who merge on raising need matters.merge; a command (no user) may.
        do_merge_matters(matter, merge_into, acting_user=acting_user,
                         check=acting_user is not None)
        matter.refresh_from_db()
    return matter


def attach_files(matter: Matter, uploads: list, *, acting_user, event=None) -> list[MatterFile]:
    """Store uploaded files after checking their type and size (called inside an action)."""
    if len(uploads) > MAX_UPLOADS:
        raise ActionError(_("一次最多上传 %(n)d 个附件。") % {"n": MAX_UPLOADS})
    saved = []
    for upload in uploads:
        name = getattr(upload, "name", "file")
        ctype = getattr(upload, "content_type", None) or mimetypes.guess_type(name)[0] or ""
        if ctype not in ALLOWED_UPLOAD_TYPES:
            raise ActionError(
                _("不支持的附件类型：%(n)s。请上传图片、PDF、音视频或文档。") % {"n": name}
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise ActionError(_("附件 %(n)s 超过 10MB。") % {"n": name})
        head = upload.read(16)
        upload.seek(0)
        if ctype.startswith("image/") and not _looks_like_image(head):
            raise ActionError(_("附件 %(n)s 不是有效的图片。") % {"n": name})
        saved.append(MatterFile.objects.create(
            matter=matter, event=event, file=upload, name=name[:120], content_type=ctype,
            size=upload.size,
            uploaded_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        ))
    return saved


def _looks_like_image(head: bytes) -> bool:
    return (head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG")
            or head[:4] == b"RIFF" or head[:3] == b"GIF")


@transaction.atomic
def do_add_note(matter: Matter, text: str, *, acting_user, is_public: bool = False,
                attachments: list | None = None) -> MatterEvent:
    """A progress note (办理进展) on the timeline."""
    if not Matter.objects.restrict(acting_user, "handle").filter(pk=matter.pk).exists() and not (
        workflow.role_holds(acting_user, "responsible", matter)
    ):
        raise ActionForbidden(_("您不能为此事项记录进展。"))
    text = (text or "").strip()
    if not text:
        raise ActionError(_("请填写进展内容。"))
    event = MatterEvent.objects.create(county_id=matter.county_id, matter=matter,
                                       actor=acting_user, kind=EventKind.NOTE,
                                       summary=_("办理进展"), comment=text, is_public=is_public)
    if attachments:
        attach_files(matter, attachments, acting_user=acting_user, event=event)
    record("matters.matter.note", actor=acting_user, obj=matter, after={"event": event.pk})
    return event


# ---------------------------------------------------------------------------------------------
# Duplicates and merging


def similar_open_matters(place: Place, category: Category | None, text: str,
                         limit: int = 5, threshold: float = 0.45) -> list[tuple[Matter, float]]:
    """Open matters at the same place (grid or village) and category whose text is alike."""
    scope = place if place.kind in (PlaceKind.GRID, PlaceKind.VILLAGE) else (
        Place.objects.get(pk=place.grid_id) if place.grid_id else place)
    qs = Matter.objects.open().filter(scope.scope_q())
    if category is not None:
        qs = qs.filter(category=category)
    candidates = qs.order_by("-created_at").only("id", "title", "text", "tracking_code",
                                                 "stage", "created_at")[:200]
    text = (text or "")[:500]
    scored = []
    for m in candidates:
        ratio = SequenceMatcher(None, text, (m.title + m.text)[:500]).ratio()
        if ratio >= threshold:
            scored.append((m, ratio))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]


@transaction.atomic
def do_merge_matters(duplicate: Matter, into: Matter, *, acting_user, check: bool = True) -> Matter:
    """Merge a duplicate into an open matter: the duplicate closes, pointing at the survivor."""
    if duplicate.pk == into.pk:
        raise ActionError(_("不能把事项合并到它自身。"))
    if into.is_closed or into.merged_into_id:
        raise ActionError(_("只能合并到尚未办结的事项。"))
    if duplicate.county_id != into.county_id:
        raise ActionError(_("不能合并不同县区的事项。"))
    if check and not has_permission(acting_user, "matters.merge", duplicate.place):
        raise ActionForbidden(_("您没有合并事项的权限。"))
    duplicate = Matter.objects.select_for_update().get(pk=duplicate.pk)
    wf = workflow.workflow_of(duplicate.workflow)
    closed = next(s for s in wf.stages() if s["kind"] == "closed")
    fields = workflow.enter_stage(duplicate, closed)
    duplicate.merged_into = into
    duplicate.save(update_fields=[*fields, "merged_into"])
    MatterEvent.objects.create(county_id=duplicate.county_id, matter=duplicate, actor=acting_user
                               if getattr(acting_user, "is_authenticated", False) else None,
                               kind=EventKind.MERGED, summary=_("并入事项 %(c)s") % {
                                   "c": into.tracking_code}, data={"into": into.pk},
                               is_public=True)
    MatterEvent.objects.create(county_id=into.county_id, matter=into, actor=acting_user
                               if getattr(acting_user, "is_authenticated", False) else None,
                               kind=EventKind.MERGED, summary=_("合并重复事项 %(c)s") % {
                                   "c": duplicate.tracking_code}, data={"from": duplicate.pk})
    record("matters.matter.merge", actor=acting_user, obj=duplicate,
           after={"merged_into": into.pk})
    return duplicate
