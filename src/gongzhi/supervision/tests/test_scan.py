"""The deadline scan: warnings, overdue notices, supervision levels, escalation; idempotent, and
safe in several processes at once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from gongzhi.audit.models import AuditEvent
from gongzhi.matters import workflow
from gongzhi.matters.models import EventKind, Matter, MatterEvent
from gongzhi.notifications.models import Notification
from gongzhi.supervision.models import DeadlineWatch, SupervisionItem
from gongzhi.supervision.scan import run_scan, scan_deadlines

from .helpers import handling, overdue_by, raise_matter, set_policy

H = dt.timedelta(hours=1)


def snapshot():
    return (
        list(SupervisionItem.objects.order_by("pk").values_list("pk", "level", "status")),
        list(DeadlineWatch.objects.order_by("pk").values_list(
            "pk", "warned_at", "overdue_at", "escalated_at", "left_at")),
        Notification.objects.count(),
        MatterEvent.objects.count(),
        AuditEvent.objects.count(),
        list(Matter.objects.order_by("pk").values_list("pk", "queue_place_id", "stage_deadline",
                                                       "escalation_count")),
    )


def test_near_deadline_warns_the_responsible_once(tree):
    matter = handling(tree)
    handler = tree.user("village_cadre")
    Matter.objects.filter(pk=matter.pk).update(
        responsible_user=handler, stage_deadline=timezone.now() + 2 * H)
    counts = scan_deadlines()
    assert counts["warned"] == 1
    warning = Notification.objects.get(event="deadline_near")
    assert warning.user == handler and "将于" in warning.title
    scan_deadlines()
    assert Notification.objects.filter(event="deadline_near").count() == 1
    assert not SupervisionItem.objects.exists()


def test_overdue_opens_supervision_and_raises_it_level_by_level(tree):
    matter = overdue_by(handling(tree), hours=1)
    now = timezone.now()
    first = run_scan(now)
    assert first["overdue"] == 1 and first["supervised_level_0"] == 1
    item = SupervisionItem.objects.get()
    assert (item.level, item.level_role, item.reason, item.automatic, item.status) == (
        0, "town_secretary", "overdue", True, "open")
    assert item.stage == "handling" and item.stage_entered_at == matter.stage_entered_at
    # The queue's dispatchers hear of it; the town secretary (level 0 of the chain) too.
    overdue_to = set(Notification.objects.filter(event="deadline_passed")
                     .values_list("user__username", flat=True))
    assert "u_village_secretary" in overdue_to
    assert Notification.objects.filter(event="supervision_opened",
                                       user=tree.user("town_secretary")).exists()
    assert MatterEvent.objects.filter(matter=matter, kind=EventKind.SUPERVISION).count() == 1

    # A second run (or a third) changes nothing.
    state = snapshot()
    assert run_scan(now).get("supervised_level_0") is None
    run_scan(now + dt.timedelta(minutes=10))
    assert snapshot() == state

    # Each further 24 hours past the deadline raises it one level; the lower one is closed.
    run_scan(now + 24 * H)
    items = list(SupervisionItem.objects.order_by("level"))
    assert [(i.level, i.status) for i in items] == [(0, "closed"), (1, "open")]
    assert items[1].level_role == "county_office" and "提级" in items[0].close_note
    assert Notification.objects.filter(event="supervision_opened",
                                       user=tree.user("county_office")).exists()
    state = snapshot()
    run_scan(now + 30 * H)
    assert snapshot() == state


def test_escalation_after_the_policy_levels(tree):
    matter = overdue_by(handling(tree), hours=1)
    now = timezone.now()
    run_scan(now)
    # default policy: escalate_after_levels 2 × 24 h
    counts = run_scan(now + 48 * H)
    assert counts.get("escalated") == 1, counts
    matter.refresh_from_db()
    assert matter.queue_place_id == tree.town.pk and matter.escalation_count == 1
    assert [i.level for i in SupervisionItem.objects.filter(status="open")] == [2]
    watch = DeadlineWatch.objects.get()
    assert watch.escalated_at is not None and watch.escalation_note == ""
    # The town has a new deadline; nothing more happens until it too runs out.
    state = snapshot()
    run_scan(now + 49 * H)
    assert snapshot() == state


def test_escalation_refused_at_the_top_is_noted_once(tree):
    set_policy(tree, escalate_after_levels=0)
    matter = raise_matter(tree, place=tree.county, channel="superior",
                          acting_user=tree.user("county_office"))
    matter = workflow.do_transition(matter, "accept", acting_user=tree.user("county_office"))
    overdue_by(matter, hours=2)
    counts = run_scan()
    assert counts.get("escalation_refused") == 1
    watch = DeadlineWatch.objects.get()
    assert "县" in watch.escalation_note
    state = snapshot()
    assert "escalation_refused" not in run_scan()
    assert snapshot() == state


def test_stage_without_supervise_only_notifies(tree):
    matter = overdue_by(raise_matter(tree), hours=30)  # intake: notify, supervise
    set_policy(tree, supervision_chain=["town_secretary"])
    run_scan()
    assert [i.level for i in SupervisionItem.objects.all()] == [0]  # a one-level chain
    matter.refresh_from_db()
    assert matter.escalation_count == 0  # intake does not escalate


def test_reentering_a_stage_is_a_new_visit(tree):
    matter = overdue_by(handling(tree), hours=1)
    run_scan()
    sec = tree.user("village_secretary")
    matter = workflow.do_transition(matter, "report_result", acting_user=sec,
                                    fields={"outcome": "solved", "outcome_text": "已修好"})
    first = DeadlineWatch.objects.get()
    assert first.left_at == matter.stage_entered_at  # the hook saw it leave
    matter = workflow.do_transition(matter, "give_feedback", acting_user=sec, comment="已告知")
    matter = workflow.do_transition(matter, "", acting_user=None, trigger="dissatisfied")
    assert matter.stage == "handling"
    overdue_by(matter, hours=1)
    run_scan()
    items = SupervisionItem.objects.filter(stage="handling", level=0)
    assert items.count() == 2
    assert len({i.stage_entered_at for i in items}) == 2


def test_closing_the_matter_ends_its_supervision(tree):
    matter = overdue_by(handling(tree), hours=1)
    run_scan()
    sec = tree.user("village_secretary")
    matter = workflow.do_transition(matter, "report_result", acting_user=sec,
                                    fields={"outcome": "solved", "outcome_text": "已修好"})
    matter = workflow.do_transition(matter, "give_feedback", acting_user=sec, comment="已告知")
    workflow.do_transition(matter, "", acting_user=None, trigger="evaluated")
    item = SupervisionItem.objects.get()
    assert item.status == "closed" and item.closed_at is not None


def test_command_runs_the_scan(tree, capsys):
    overdue_by(handling(tree), hours=1)
    call_command("supervise", "scan")
    out = capsys.readouterr().out
    assert '"overdue": 1' in out
    assert SupervisionItem.objects.count() == 1


def test_scheduler_enqueues_the_scan(tree):
    overdue_by(handling(tree), hours=1)
    call_command("scheduler", "--once")  # the immediate backend of the tests runs it now
    assert SupervisionItem.objects.count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_make_no_duplicates():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks and real concurrency")
    from gongzhi.testing import build_tree

    tree = build_tree()
    matters = [overdue_by(handling(tree, title=f"路灯{i}"), hours=1) for i in range(8)]
    now = timezone.now()
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            for offset in (0, 24, 48):
                counts = run_scan(now + offset * H)
                if counts.get("errors"):
                    errors.append(RuntimeError(f"scan failed on some matters: {counts}"))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert DeadlineWatch.objects.filter(matter__in=matters).values("matter").distinct().count() \
        == len(matters)
    per_level = {(i.matter_id, i.stage_entered_at, i.level) for i in SupervisionItem.objects.all()}
    assert SupervisionItem.objects.count() == len(per_level) == 3 * len(matters)
    assert all(m.escalation_count == 1 for m in Matter.objects.filter(pk__in=[
        x.pk for x in matters]))
    from gongzhi.audit.log import verify

    assert verify() == []


def test_shiquan_chain_and_its_supervision_stage(tree):
    """石泉: 县联系办 → 县委常委 → 县委书记; 严格督查 is a stage supervisors take up at once."""
    from gongzhi.matters.actions import do_adopt_preset

    do_adopt_preset(tree.county, "shiquan", acting_user=None)
    sec, office = tree.user("village_secretary"), tree.user("county_office")
    matter = raise_matter(tree)
    matter = workflow.do_transition(matter, "submit", acting_user=sec)
    matter = workflow.do_transition(matter, "approve", acting_user=sec, comment="同意受理")
    matter = workflow.do_transition(matter, "notify_acceptance", acting_user=sec,
                                    comment="已电话告知")
    assert matter.stage == "dispatch"
    overdue_by(matter, hours=1)
    now = timezone.now()
    for hours in (0, 24, 48):
        counts = run_scan(now + hours * H)
        assert "escalated" not in counts  # 石泉 escalates after three levels
    names = list(SupervisionItem.objects.order_by("level").values_list("level_name", "status"))
    assert names == [("县联系办", "closed"), ("县委常委", "closed"), ("县委书记", "open")]

    matter = workflow.do_transition(Matter.objects.get(pk=matter.pk), "report_result",
                                    acting_user=sec,
                                    fields={"outcome": "solved", "outcome_text": "已办结"})
    assert matter.stage == "inspect"
    stage_item = SupervisionItem.objects.get(stage="inspect")
    assert (stage_item.reason, stage_item.level_name, stage_item.status) == (
        "stage", "县联系办", "open")
    assert Notification.objects.filter(event="supervision_opened", user=office,
                                       url=f"/supervision/items/{stage_item.pk}/").exists()
    workflow.do_transition(matter, "verify", acting_user=office, comment="现场核实已修复")
    stage_item.refresh_from_db()
    assert stage_item.status == "closed" and stage_item.closed_by == office
