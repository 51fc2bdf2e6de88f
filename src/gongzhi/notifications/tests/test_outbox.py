from django.core import mail
from django.db import transaction

from gongzhi.notifications.models import Notification, OutboxMessage
from gongzhi.notifications.outbox import deliver_outbox, notify


def test_notify_writes_in_app_and_delivers_email_after_commit(
    tree, django_capture_on_commit_callbacks
):
    user = tree.user("village_secretary")
    user.email = "sec@example.org"
    user.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(event="assigned", title="新的交办事项", body="请处理", users=[user],
               county_id=tree.county.pk, dedupe_key="assign:1")
        assert len(mail.outbox) == 0  # nothing leaves before commit
    assert Notification.objects.filter(user=user, event="assigned").count() == 1
    assert [m.to for m in mail.outbox] == [["sec@example.org"]]
    assert OutboxMessage.objects.get().status == "sent"
    # The same notification again (a job run twice) sends nothing more.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(event="assigned", title="新的交办事项", body="请处理", users=[user],
               county_id=tree.county.pk, dedupe_key="assign:1")
    assert len(mail.outbox) == 1
    assert deliver_outbox.call() == 0


def test_rolled_back_change_sends_nothing(tree, django_capture_on_commit_callbacks):
    user = tree.user("village_secretary")
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notify(event="assigned", title="x", users=[user], email="a@example.org")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert OutboxMessage.objects.count() == 0 and len(mail.outbox) == 0
