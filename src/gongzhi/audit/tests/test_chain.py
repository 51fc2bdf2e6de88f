from django.db import connection

from gongzhi.audit.log import verify
from gongzhi.audit.models import AuditEvent
from gongzhi.places.actions import do_rename_place


def test_chain_is_intact_after_actions(tree):
    assert AuditEvent.objects.filter(chain=f"county:{tree.county.pk}").count() > 5
    assert verify() == []


def test_direct_database_edit_is_caught(tree):
    do_rename_place(tree.village, "高城寨村（新）", acting_user=tree.user("administrator"))
    target = AuditEvent.objects.get(action="places.place.rename")
    with connection.cursor() as cur:
        table = AuditEvent._meta.db_table
        cur.execute(f"UPDATE {table} SET object_repr = %s WHERE id = %s", ["篡改", target.pk])  # noqa: S608
    breaches = verify()
    assert len(breaches) == 1
    assert breaches[0].seq == target.seq
    assert "altered" in breaches[0].reason


def test_deleted_event_is_caught(tree):
    chain = f"county:{tree.county.pk}"
    victim = AuditEvent.objects.filter(chain=chain).order_by("seq")[3]
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [victim.pk])  # noqa: S608
    breaches = verify()
    assert [(b.chain, b.seq) for b in breaches] == [(chain, victim.seq)]


def test_deleted_tail_is_caught(tree):
    chain = f"county:{tree.county.pk}"
    last = AuditEvent.objects.filter(chain=chain).order_by("-seq").first()
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [last.pk])  # noqa: S608
    breaches = verify()
    assert breaches and breaches[0].chain == chain
