from django.db import transaction

from gongzhi.audit.models import AuditEvent
from gongzhi.notifications.models import Notification
from gongzhi.notifications.outbox import notify
from gongzhi.testing import login_client


def _notify(tree, user, title, url=""):
    with transaction.atomic():
        notify(event="assigned", title=title, body="请及时办理", users=[user], url=url,
               county_id=tree.county.pk)


def test_inbox_lists_marks_read_and_counts(tree):
    user = tree.user("village_cadre")
    _notify(tree, user, "新的交办事项", url="/matters/")
    _notify(tree, user, "督办提醒")
    _notify(tree, tree.user("grid_worker"), "别人的通知")
    client = login_client(user)
    page = client.get("/notifications/").content.decode()
    assert "新的交办事项" in page and "督办提醒" in page and "别人的通知" not in page
    assert 'class="bell-count">2<' in page
    note = Notification.objects.get(title="新的交办事项")
    response = client.post(f"/notifications/{note.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/matters/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'class="bell-count">1<' in client.get("/notifications/").content.decode()
    client.post("/notifications/read-all/")
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="notifications.read", actor=user).count() == 2


def test_cannot_open_someone_elses_notification(tree):
    _notify(tree, tree.user("grid_worker"), "别人的通知")
    other = Notification.objects.get()
    response = login_client(tree.user("village_cadre")).post(f"/notifications/{other.pk}/open/")
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_external_urls_are_not_followed(tree):
    user = tree.user("village_cadre")
    _notify(tree, user, "外链", url="https://example.com/phish")
    note = Notification.objects.get()
    response = login_client(user).post(f"/notifications/{note.pk}/open/")
    assert response["Location"] == "/notifications/"
